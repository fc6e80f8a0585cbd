import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

import { inject } from 'light-my-request';
import type { Logger } from 'pino';
import { z } from 'zod';

import type { Identity } from '../define-tool.js';
import { type ErrorCode, httpFailure } from '../errors.js';
import { findSession, type Session, type SessionKind, type SessionStore } from '../sessions/session.js';
import type { SessionDirectory } from '../sessions/session-directory.js';

/**
 * Forwarding between replicas (MCP_SESSION_STORE): a session's POST that reaches a replica which
 * does not hold its stream travels through Redis to the one that does, which runs it through the
 * same `deliver` a local POST takes, and the answer's status, headers and body come back the same
 * way, chunk by chunk, so that the POST's own SSE answer streams (progress, then the result).
 *
 * The receiving replica authenticates and checks the body limit (fastify did, before the route);
 * the owner checks that the forwarded identity is the session's, as it would locally. Everything is
 * bounded: requests waiting for an owner (MAX_PENDING), requests an owner runs for others
 * (MAX_INCOMING), the wait for the first byte (MCP_FORWARD_TIMEOUT_MS) and the whole answer (plus
 * MCP_TOOL_TIMEOUT_MS). Pub/sub delivers at most once: a lost message is a timeout, never a repeat.
 */

/** How the local routes hand a POST to a session's transport; the owner runs forwarded ones with it. */
export type Deliver = (session: Session, req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;

/** Requests this replica may have waiting for other replicas' answers at once. */
const MAX_PENDING = 1024;
/** Requests this replica may run for other replicas at once. */
const MAX_INCOMING = 1024;
/** Request headers that matter to the transports; credentials stay on the replica that checked them. */
const FORWARDED_HEADERS = [
  'accept',
  'content-type',
  'mcp-protocol-version',
  'mcp-session-id',
  'last-event-id',
  'host',
  'x-request-id',
] as const;
/** Hop-by-hop or length headers that the receiving replica's own response sets. */
const DROPPED_RESPONSE_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

const identitySchema = z.object({
  id: z.string(),
  authenticated: z.boolean(),
  scopes: z.array(z.string()).optional(),
});
const messageSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('req'),
    rid: z.string(),
    from: z.string(),
    sid: z.string(),
    kind: z.enum(['sse', 'streamable-http']),
    method: z.enum(['POST', 'DELETE']),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    identity: identitySchema,
    // Absent for a DELETE.
    body: z.unknown().optional(),
  }),
  z.object({
    t: z.literal('head'),
    rid: z.string(),
    status: z.number().int(),
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  }),
  z.object({ t: z.literal('data'), rid: z.string(), chunk: z.string() }),
  z.object({ t: z.literal('end'), rid: z.string() }),
  z.object({ t: z.literal('cancel'), rid: z.string() }),
]);
type Message = z.infer<typeof messageSchema>;
type RequestMessage = Extract<Message, { t: 'req' }>;

export interface ForwardingOptions {
  directory: SessionDirectory;
  sessions: SessionStore;
  deliver: Deliver;
  logger: Logger;
  /** MCP_FORWARD_TIMEOUT_MS: the owner must start answering within this time. */
  forwardTimeoutMs: number;
  /** MCP_TOOL_TIMEOUT_MS: how long an answer may then take to finish, on top. */
  callTimeoutMs: number;
  /** True once shutdown began: forwarded requests are refused like local ones. */
  closing: () => boolean;
  /** Counts a request sent to its owner, or received and run here (mcp_forwarded_requests_total). */
  count?: (direction: 'sent' | 'received') => void;
}

/** A POST this replica received for a session it does not hold. */
export interface ForwardRequest {
  kind: SessionKind;
  sessionId: string;
  method: 'POST' | 'DELETE';
  url: string;
  headers: IncomingHttpHeaders;
  identity: Identity;
  body: unknown;
}

export interface Forwarding {
  /** Answers `request` on `res`: through the owning replica, or 404/503/504 when that cannot be. */
  forward(request: ForwardRequest, res: ServerResponse): Promise<void>;
  /** A message on this replica's channel. */
  receive(text: string): void;
  /**
   * Resolves once no request of this replica waits for another replica's answer, or after
   * `timeoutMs`: a replica that stops keeps listening on its channel until then, or the answers
   * to calls already running elsewhere would be lost (and the clients would run them again).
   */
  drain(timeoutMs: number): Promise<void>;
  /** Requests waiting for an owner, and requests run for other replicas (for tests and /health). */
  readonly inFlight: { pending: number; incoming: number };
}

interface Pending {
  res: ServerResponse;
  owner: string;
  timer: NodeJS.Timeout;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function sendFailure(res: ServerResponse, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
  if (res.headersSent || res.writableEnded) {
    res.end();
    return;
  }
  const failure = httpFailure(code, message, { headers });
  res.writeHead(failure.status, { ...JSON_HEADERS, ...failure.headers }).end(JSON.stringify(failure.body));
}

export function createForwarding(options: ForwardingOptions): Forwarding {
  const { directory, logger } = options;
  const pending = new Map<string, Pending>();
  /** Requests run here for other replicas: their injected responses, to cancel. */
  const incoming = new Map<string, ServerResponse>();
  /** drain()'s callers, called once `pending` is empty. */
  let drained: (() => void)[] = [];

  const post = (replica: string, message: Message) => {
    directory.send(replica, JSON.stringify(message)).catch((error: unknown) => {
      logger.warn({ err: error, replica }, 'forwarding: cannot publish');
    });
  };

  const settle = (rid: string) => {
    const entry = pending.get(rid);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    pending.delete(rid);
    if (pending.size === 0 && drained.length > 0) {
      const callers = drained;
      drained = [];
      for (const done of callers) done();
    }
    return entry;
  };

  // ---- the replica that received the request ----

  const forward = async (request: ForwardRequest, res: ServerResponse): Promise<void> => {
    const lookup = await directory.lookup(request.sessionId);
    if ('unavailable' in lookup) {
      return sendFailure(res, 'SESSION_STORE_UNAVAILABLE', 'Session store unavailable: retry shortly', {
        'retry-after': '1',
      });
    }
    // Another identity's session, or another transport's, is missing as it is locally.
    if ('missing' in lookup || lookup.found.identity !== request.identity.id || lookup.found.kind !== request.kind) {
      return sendFailure(res, 'SESSION_NOT_FOUND', 'Session not found');
    }
    const { owner } = lookup.found;
    // Stopping began during the lookup: drain() may have found nothing pending already.
    if (options.closing()) return sendFailure(res, 'SHUTTING_DOWN', 'Server is shutting down: retry shortly');
    if (pending.size >= MAX_PENDING) {
      return sendFailure(res, 'UNAVAILABLE', 'Too many forwarded requests: retry shortly', { 'retry-after': '1' });
    }
    const rid = randomUUID();
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const message: RequestMessage = {
      t: 'req',
      rid,
      from: directory.replicaId,
      sid: request.sessionId,
      kind: request.kind,
      method: request.method,
      url: request.url,
      headers,
      identity: {
        id: request.identity.id,
        authenticated: request.identity.authenticated,
        ...(request.identity.scopes ? { scopes: [...request.identity.scopes] } : {}),
      },
      body: request.body,
    };
    const timer = setTimeout(() => {
      if (!settle(rid)) return;
      post(owner, { t: 'cancel', rid });
      sendFailure(
        res,
        'FORWARD_TIMEOUT',
        `The replica that holds this session did not answer within ${options.forwardTimeoutMs} ms ` +
          '(MCP_FORWARD_TIMEOUT_MS): retry',
      );
      // Whether it still beats tells a slow replica from one that died with the request.
      void directory.isAlive(owner).then(
        (alive) =>
          logger.warn(
            { owner, ownerAlive: alive, session: request.sessionId, timeoutMs: options.forwardTimeoutMs },
            'forwarding: the replica that holds the session did not answer in time',
          ),
        () => undefined,
      );
    }, options.forwardTimeoutMs);
    timer.unref();
    pending.set(rid, { res, owner, timer });
    res.once('close', () => {
      // The client went away before the answer ended: the owner stops the call.
      if (settle(rid)) post(owner, { t: 'cancel', rid });
    });
    let receivers: number;
    try {
      receivers = await directory.send(owner, JSON.stringify(message));
    } catch {
      settle(rid);
      return sendFailure(res, 'SESSION_STORE_UNAVAILABLE', 'Session store unavailable: retry shortly', {
        'retry-after': '1',
      });
    }
    if (receivers > 0) {
      options.count?.('sent');
      return;
    }
    settle(rid);
    // Nobody listens on the owner's channel: it died (its streams went with it) or lost Redis a moment.
    const alive = await directory.isAlive(owner).catch(() => true);
    if (alive) {
      return sendFailure(res, 'UNAVAILABLE', 'The replica that holds this session is unreachable: retry shortly', {
        'retry-after': '1',
      });
    }
    await directory.remove(request.sessionId);
    return sendFailure(res, 'SESSION_NOT_FOUND', 'Session not found');
  };

  const onAnswer = (message: Exclude<Message, RequestMessage | { t: 'cancel' }>) => {
    const entry = pending.get(message.rid);
    if (!entry) return;
    const { res } = entry;
    if (message.t === 'head') {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(message.headers)) {
        if (!DROPPED_RESPONSE_HEADERS.has(name.toLowerCase())) headers[name] = value;
      }
      // From now on the answer may take as long as a call may.
      clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        if (settle(message.rid)) {
          post(entry.owner, { t: 'cancel', rid: message.rid });
          res.end();
        }
      }, options.callTimeoutMs + options.forwardTimeoutMs);
      entry.timer.unref();
      if (!res.headersSent) {
        res.writeHead(message.status, headers);
        res.flushHeaders();
      }
    } else if (message.t === 'data') {
      if (!res.writableEnded) res.write(Buffer.from(message.chunk, 'base64'));
    } else {
      settle(message.rid);
      if (!res.writableEnded) res.end();
    }
  };

  // ---- the replica that holds the session ----

  const answerHere = (message: RequestMessage, code: ErrorCode, text: string) => {
    const failure = httpFailure(code, text);
    post(message.from, { t: 'head', rid: message.rid, status: failure.status, headers: JSON_HEADERS });
    post(message.from, {
      t: 'data',
      rid: message.rid,
      chunk: Buffer.from(JSON.stringify(failure.body)).toString('base64'),
    });
    post(message.from, { t: 'end', rid: message.rid });
  };

  const run = (message: RequestMessage) => {
    if (options.closing()) return answerHere(message, 'SHUTTING_DOWN', 'Server is shutting down: retry shortly');
    if (incoming.size >= MAX_INCOMING) {
      return answerHere(message, 'UNAVAILABLE', 'Too many forwarded requests: retry shortly');
    }
    const identity: Identity = {
      id: message.identity.id,
      authenticated: message.identity.authenticated,
      ...(message.identity.scopes ? { scopes: new Set(message.identity.scopes) } : {}),
    };
    // The same check as a local request: the session must be this transport's and this identity's.
    const session =
      message.kind === 'sse'
        ? findSession(options.sessions, message.sid, 'sse', identity)
        : findSession(options.sessions, message.sid, 'streamable-http', identity);
    if (!session) return answerHere(message, 'SESSION_NOT_FOUND', 'Session not found');
    options.count?.('received');
    const { rid, from } = message;
    // A request as the transports see one (light-my-request builds real http objects without a
    // socket); its response streams back chunk by chunk.
    inject(
      (req, res) => {
        incoming.set(rid, res);
        res.once('close', () => incoming.delete(rid));
        res.once('finish', () => incoming.delete(rid));
        options.deliver(session, req, res, message.body).catch((error: unknown) => {
          logger.error({ err: error, session: message.sid }, 'forwarded request failed');
          if (!res.headersSent)
            res.writeHead(500, JSON_HEADERS).end(JSON.stringify(httpFailure('INTERNAL', 'Internal error').body));
          else res.end();
        });
      },
      {
        method: message.method,
        url: message.url,
        headers: message.headers,
        ...(message.body === undefined ? {} : { payload: JSON.stringify(message.body) }),
        payloadAsStream: true,
      },
    ).then(
      (response) => {
        post(from, {
          t: 'head',
          rid,
          status: response.statusCode,
          headers: response.headers as Record<string, string>,
        });
        const stream = response.stream();
        stream.on('data', (chunk: Buffer) => post(from, { t: 'data', rid, chunk: chunk.toString('base64') }));
        stream.once('end', () => post(from, { t: 'end', rid }));
        stream.once('error', () => post(from, { t: 'end', rid }));
      },
      (error: unknown) => {
        incoming.delete(rid);
        logger.warn({ err: error, session: message.sid }, 'forwarded request ended early');
        post(from, { t: 'end', rid });
      },
    );
  };

  const drain = (timeoutMs: number) =>
    new Promise<void>((resolve) => {
      if (pending.size === 0) return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      drained.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  return {
    forward,
    drain,
    // eslint-disable-next-line no-restricted-syntax -- one per process
    get inFlight() {
      return { pending: pending.size, incoming: incoming.size };
    },
    receive(text) {
      let message: Message;
      try {
        const parsed = messageSchema.safeParse(JSON.parse(text));
        if (!parsed.success) throw parsed.error;
        message = parsed.data;
      } catch (error) {
        logger.warn({ err: error }, 'forwarding: ignoring a malformed message');
        return;
      }
      if (message.t === 'req') return run(message);
      if (message.t === 'cancel') {
        const res = incoming.get(message.rid);
        incoming.delete(message.rid);
        res?.destroy();
        return;
      }
      onAnswer(message);
    },
  };
}
