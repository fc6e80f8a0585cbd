/**
 * The service's own HTTP routes (ServiceDefinition.routes): the REST API under /api, the live event
 * stream at /events, the OpenAPI document and the dashboard page. They pass the core's gate (Host,
 * Origin, API key → request.identity) like MCP requests; the page and the OpenAPI document are
 * public, and /events is public to the gate but checks a key or a signed token itself.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { ERROR_CODES, keepStreamAlive, type ServiceRoutesContext, SSE_HEADERS } from '@mcp-sse/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import type { Config } from './config.js';
import { MemoryError } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { deleteInput, listInput, searchInput, storeInput, tagsInput, updateInput } from './schemas.js';
import type { Deps } from './tools/define.js';

const PAGE = readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8');
// The page's one inline script, allowed by its hash: no other script can run on the page.
const SCRIPT_HASH = createHash('sha256')
  .update(/<script>([\s\S]*?)<\/script>/.exec(PAGE)?.[1] ?? '')
  .digest('base64');

interface ErrorBody {
  error: { code: string; message: string };
}

function errorBody(code: keyof typeof ERROR_CODES, message: string): { status: number; body: ErrorBody } {
  return { status: ERROR_CODES[code].http, body: { error: { code, message } } };
}

/** A zod failure as one line naming the fields. */
function describeZod(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

/** Splits "a,b" (or repeated ?tags=a&tags=b) into a list. */
function listParam(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? (value as unknown[]) : [value]).flatMap((part) =>
    typeof part === 'string' ? part.split(',') : [],
  );
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

function numberParam(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  return Number(value);
}

function stringParam(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function booleanParam(value: unknown): boolean | undefined {
  const text = stringParam(value);
  if (text === undefined) return undefined;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return undefined;
}

function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as Partial<T>;
}

export function memoryRoutes(app: FastifyInstance, { config, deps, logger }: ServiceRoutesContext<Config, Deps>): void {
  const { store, tokens } = deps;

  /** Runs a handler with the tool timeout and the client's hang-up as its signal; maps errors. */
  async function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    work: (signal: AbortSignal) => unknown,
    statusOf: (result: unknown) => number = () => 200,
  ): Promise<FastifyReply> {
    const hangUp = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) hangUp.abort(new MemoryError('UNAVAILABLE', 'client went away'));
    };
    reply.raw.once('close', onClose);
    const signal = AbortSignal.any([hangUp.signal, AbortSignal.timeout(config.MCP_TOOL_TIMEOUT_MS)]);
    try {
      const result = await work(signal);
      return await reply.code(statusOf(result)).send(result);
    } catch (error) {
      let failure: { status: number; body: ErrorBody };
      if (error instanceof z.ZodError) failure = errorBody('INVALID_INPUT', `Invalid arguments: ${describeZod(error)}`);
      else if (error instanceof MemoryError) failure = errorBody(error.code, error.message);
      else if (signal.aborted && (error as Error).name === 'TimeoutError') {
        failure = errorBody('TIMEOUT', `No answer within ${config.MCP_TOOL_TIMEOUT_MS} ms (MCP_TOOL_TIMEOUT_MS)`);
      } else {
        logger.error({ err: error, url: request.url }, 'memory API request failed');
        failure = errorBody('INTERNAL', 'Internal error');
      }
      return reply.code(failure.status).send(failure.body);
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  function refuseWrites(): void {
    if (config.MCP_READ_ONLY) throw new MemoryError('FORBIDDEN', 'This server is read-only (MCP_READ_ONLY=true)');
  }

  const maxBytes = config.MCP_MAX_RESULT_BYTES;

  app.get('/', { config: { access: 'public' } }, (_request, reply) =>
    reply
      .header(
        'content-security-policy',
        `default-src 'none'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; ` +
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      )
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(PAGE),
  );

  // Built on the first request: most deployments never ask for it (start-up memory).
  let openApi: ReturnType<typeof buildOpenApi> | undefined;
  app.get('/api/openapi.json', { config: { access: 'public' } }, () => (openApi ??= buildOpenApi(`mcp-memory`)));

  app.get('/api/memories', (request, reply) =>
    answer(request, reply, (signal) => {
      const query = request.query as Record<string, unknown>;
      const input = listInput.parse(
        defined({
          page: numberParam(query['page']),
          page_size: numberParam(query['page_size']),
          tags: listParam(query['tags']),
          tag_match: stringParam(query['tag_match']),
          type: stringParam(query['type']),
          after: stringParam(query['after']),
          before: stringParam(query['before']),
          time_expr: stringParam(query['time_expr']),
        }),
      );
      return store.list(input, maxBytes, signal);
    }),
  );

  app.post('/api/memories', (request, reply) =>
    answer(
      request,
      reply,
      async (signal) => {
        refuseWrites();
        return store.store(storeInput.parse(request.body ?? {}), signal);
      },
      (result) => ((result as { created: boolean }).created ? 201 : 200),
    ),
  );

  app.get('/api/memories/:hash', (request, reply) =>
    answer(request, reply, () => ({ memory: store.get((request.params as { hash: string }).hash) })),
  );

  app.patch('/api/memories/:hash', (request, reply) =>
    answer(request, reply, () => {
      refuseWrites();
      const body = z.record(z.string(), z.unknown()).parse(request.body ?? {});
      return store.update(updateInput.parse({ ...body, hash: (request.params as { hash: string }).hash }));
    }),
  );

  app.delete('/api/memories/:hash', (request, reply) =>
    answer(request, reply, (signal) => {
      refuseWrites();
      const query = request.query as Record<string, unknown>;
      return store.delete(
        deleteInput.parse(
          defined({ hash: (request.params as { hash: string }).hash, dry_run: booleanParam(query['dry_run']) }),
        ),
        signal,
      );
    }),
  );

  app.post('/api/memories/delete', (request, reply) =>
    answer(request, reply, (signal) => {
      const input = deleteInput.parse(request.body ?? {});
      if (!input.dry_run) refuseWrites();
      return store.delete(input, signal);
    }),
  );

  app.post('/api/search', (request, reply) =>
    answer(request, reply, async (signal) => {
      const result = await store.search(searchInput.parse(request.body ?? {}), maxBytes, signal);
      return { ...result, count: result.results.length };
    }),
  );

  app.get('/api/tags', (request, reply) =>
    answer(request, reply, (signal) => {
      const query = request.query as Record<string, unknown>;
      return store.tagList(tagsInput.parse(defined({ limit: numberParam(query['limit']) })).limit, maxBytes, signal);
    }),
  );

  app.get('/api/stats', (request, reply) => answer(request, reply, (signal) => store.stats(signal)));

  app.post('/api/events/token', (request, reply) => answer(request, reply, () => tokens.issue(request.identity.id)));

  app.get('/events', { config: { access: 'public' } }, (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const token = stringParam(query['token']);
    // Keys configured: the caller shows a valid key (checked by the gate) or a valid token.
    const keyed = config.MCP_API_KEYS.length > 0;
    let identity = request.identity.id;
    if (token !== undefined) {
      const subject = tokens.verify(token);
      if (subject === undefined || (request.identity.authenticated && subject !== request.identity.id)) {
        const failure = errorBody(
          'UNAUTHORIZED',
          'The events token is invalid or expired; ask POST /api/events/token for a new one',
        );
        return reply.code(failure.status).send(failure.body);
      }
      identity = subject;
    } else if (keyed && !request.identity.authenticated) {
      const failure = errorBody(
        'UNAUTHORIZED',
        'Send an API key (Authorization: Bearer) or ?token= from POST /api/events/token',
      );
      return reply.code(failure.status).send(failure.body);
    }
    const lastHeader = request.headers['last-event-id'];
    const last = stringParam(lastHeader) ?? stringParam(query['last_event_id']);
    if (last !== undefined && !/^\d{1,15}$/.test(last.trim())) {
      const failure = errorBody('INVALID_INPUT', 'Last-Event-ID must be an event id (a whole number)');
      return reply.code(failure.status).send(failure.body);
    }
    streamEvents(request, reply, last === undefined ? undefined : Number(last.trim()), identity);
    return reply;
  });

  /**
   * One subscriber: a cursor into the outbox. It starts at Last-Event-ID (resume) or at the newest
   * event (new stream), and on every wake reads what follows, 500 rows at a time, pausing while the
   * socket is full, so a slow reader costs memory for one batch, never for the backlog.
   */
  function streamEvents(
    request: FastifyRequest,
    reply: FastifyReply,
    last: number | undefined,
    identity: string,
  ): void {
    const { events } = store;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, SSE_HEADERS);
    res.write('retry: 2000\n\n');
    let cursor = last ?? events.newestId;
    const pruned = events.prunedThrough();
    if (last !== undefined && last < pruned) {
      // The outbox no longer holds what came after `last`: say so, then go on from what is kept.
      res.write(`event: events_pruned\ndata: ${JSON.stringify({ requested: last, pruned_through: pruned })}\n\n`);
      cursor = pruned;
    }
    let waiting = false;
    let closed = false;
    const pump = () => {
      if (closed || waiting) return;
      for (;;) {
        const batch = events.read(cursor, 500);
        if (batch.length === 0) return;
        let text = '';
        for (const event of batch) text += `id: ${event.id}\nevent: ${event.type}\ndata: ${event.data}\n\n`;
        cursor = batch.at(-1)?.id ?? cursor;
        if (!res.write(text)) {
          waiting = true;
          res.once('drain', () => {
            waiting = false;
            pump();
          });
          return;
        }
        if (batch.length < 500) return;
      }
    };
    const unsubscribe = events.subscribe({ wake: pump });
    const stopKeepalive = keepStreamAlive(res, config.EVENTS_HEARTBEAT_MS);
    res.once('close', () => {
      closed = true;
      unsubscribe();
      stopKeepalive();
    });
    request.log.debug({ identity, from: cursor }, 'events stream opened');
    pump();
  }
}
