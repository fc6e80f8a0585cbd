import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { z } from 'zod';

import type { SessionKind } from './session.js';

/**
 * The shared session directory of a service that runs as several replicas (MCP_SESSION_STORE):
 * which replica holds each session's stream, for whom, and whether that replica is alive. It lives
 * in Redis; each replica also listens on a channel of its own, through which the others forward it
 * the requests of its sessions (http/forwarding.ts). The transports themselves stay in the process
 * that owns the stream: a replica that dies takes its streams with it, and its sessions expire.
 *
 * Keys (all under the prefix): `replica:<id>` exists while the replica sends heartbeats (TTL of
 * three heartbeats); `session:<id>` is a hash {owner, identity, kind, createdAt, lastSeen} whose TTL
 * its owner refreshes at every heartbeat while the session exists there. Channel: `replica:<id>`.
 */
export interface SessionRecord {
  owner: string;
  /** The id of the identity that opened the session (never a secret). */
  identity: string;
  kind: SessionKind;
  createdAt: number;
  lastSeen: number;
}

/** What the heartbeat needs to know of a session this replica holds. */
export interface LocalSession {
  id: string;
  kind: SessionKind;
  identity: { id: string };
  createdAt: number;
  lastSeen: number;
}

const fieldsOf = (owner: string, session: Omit<LocalSession, 'id'>) => ({
  owner,
  identity: session.identity.id,
  kind: session.kind,
  createdAt: session.createdAt,
  lastSeen: session.lastSeen,
});

/** What a lookup can find; `unavailable` when Redis cannot be asked. */
export type Lookup = { found: SessionRecord } | { missing: true } | { unavailable: true };

export interface DirectoryOptions {
  url: string;
  /** Prefix of every key and channel, e.g. `mcp:fetch:`. */
  prefix: string;
  heartbeatMs: number;
  /** The sessions this replica holds now (read at each heartbeat). */
  localSessions: () => Iterable<LocalSession>;
  onMessage: (text: string) => void;
  onWarning: (message: string, error?: Error) => void;
  /** How long one Redis command may take before it counts as failed. */
  commandTimeoutMs?: number;
}

export interface SessionDirectory {
  readonly replicaId: string;
  /** True while Redis answers (the last heartbeat succeeded and both connections are ready). */
  readonly available: boolean;
  /** Connects and sends the first heartbeat; resolves even when Redis is down (then unavailable). */
  start(): Promise<void>;
  /** Records a session this replica opened; throws when Redis does not take it. */
  publish(session: LocalSession): Promise<void>;
  /** Forgets a session (closed here); failures are ignored (the key expires anyway). */
  remove(id: string): Promise<void>;
  lookup(id: string): Promise<Lookup>;
  /** True while the replica's heartbeat key exists. */
  isAlive(replicaId: string): Promise<boolean>;
  /** Publishes on a replica's channel; the number of replicas that received it (0: nobody listens). */
  send(replicaId: string, text: string): Promise<number>;
  close(): Promise<void>;
}

const recordSchema = z.object({
  owner: z.string().min(1),
  identity: z.string(),
  kind: z.enum(['sse', 'streamable-http']),
  createdAt: z.coerce.number(),
  lastSeen: z.coerce.number(),
});

export function createSessionDirectory(options: DirectoryOptions): SessionDirectory {
  const { prefix, heartbeatMs } = options;
  const replicaId = randomUUID();
  const ttlMs = heartbeatMs * 3;
  // Generous: a busy event loop runs a command's timer before it reads the answer that arrived meanwhile,
  // so a tight timeout fails commands that succeeded. A Redis that hangs still fails within it.
  const commandTimeout = options.commandTimeoutMs ?? Math.max(5000, heartbeatMs);
  const redisOptions = {
    // A command while disconnected fails at once instead of queueing without bound.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout: commandTimeout,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    lazyConnect: true,
  };
  const commands = new Redis(options.url, redisOptions);
  // The subscriber re-subscribes by itself after a reconnection (ioredis' autoResubscribe).
  const subscriber = new Redis(options.url, { ...redisOptions, enableOfflineQueue: true });
  const channel = `${prefix}replica:${replicaId}`;
  const replicaKey = (id: string) => `${prefix}replica:${id}`;
  const sessionKey = (id: string) => `${prefix}session:${id}`;
  let healthy = false;
  let warned = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const warn = (message: string, error?: Error) => {
    if (warned) return;
    warned = true;
    options.onWarning(message, error);
  };
  commands.on('error', (error: Error) => warn('session store (Redis) unavailable', error));
  subscriber.on('error', (error: Error) => warn('session store (Redis) unavailable', error));
  subscriber.on('message', (_channel: string, text: string) => options.onMessage(text));
  commands.on('close', () => {
    healthy = false;
  });
  subscriber.on('close', () => {
    healthy = false;
  });

  const ready = () => commands.status === 'ready' && subscriber.status === 'ready';

  /** Marks this replica alive and refreshes the keys of the sessions it holds. */
  const heartbeat = async () => {
    if (!ready()) {
      healthy = false;
      return;
    }
    try {
      const pipeline = commands.pipeline().set(replicaKey(replicaId), '1', 'PX', ttlMs);
      // The whole record, so that sessions whose keys expired while Redis was away come back with it.
      for (const session of options.localSessions()) {
        pipeline.hset(sessionKey(session.id), fieldsOf(replicaId, session)).pexpire(sessionKey(session.id), ttlMs);
      }
      const results = await pipeline.exec();
      const failure = results?.find(([error]) => error)?.[0];
      if (failure) throw failure;
      if (!healthy && warned) options.onWarning('session store (Redis) available again');
      healthy = true;
      warned = false;
    } catch (error) {
      healthy = false;
      warn('session store (Redis) heartbeat failed', error as Error);
    }
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      void heartbeat().finally(schedule);
    }, heartbeatMs);
    timer.unref();
  };

  return {
    replicaId,
    // eslint-disable-next-line no-restricted-syntax -- one per process
    get available() {
      return healthy && ready();
    },
    async start() {
      subscriber.on('ready', () => {
        subscriber.subscribe(channel).catch((error: Error) => warn('session store: cannot subscribe', error));
      });
      await Promise.allSettled([commands.connect(), subscriber.connect()]);
      if (subscriber.status === 'ready') await subscriber.subscribe(channel).catch(() => undefined);
      await heartbeat();
      schedule();
    },
    async publish(session) {
      if (!ready()) throw new Error('session store unavailable');
      const key = sessionKey(session.id);
      const results = await commands.multi().hset(key, fieldsOf(replicaId, session)).pexpire(key, ttlMs).exec();
      const failure = results?.find(([error]) => error)?.[0];
      if (failure || !results) throw failure ?? new Error('session store: transaction discarded');
    },
    async remove(id) {
      if (!ready()) return;
      await commands.del(sessionKey(id)).catch(() => undefined);
    },
    async lookup(id) {
      if (!ready()) return { unavailable: true };
      try {
        const fields = await commands.hgetall(sessionKey(id));
        if (Object.keys(fields).length === 0) return { missing: true };
        const parsed = recordSchema.safeParse(fields);
        return parsed.success ? { found: parsed.data } : { missing: true };
      } catch {
        return { unavailable: true };
      }
    },
    async isAlive(id) {
      return (await commands.exists(replicaKey(id))) === 1;
    },
    send(id, text) {
      return commands.publish(replicaKey(id), text);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      // Unsubscribed first: once Redis confirms, it delivers nothing more here, so a request
      // published from then on finds nobody listening and its sender answers at once, instead of
      // reaching a replica that has closed its connections and waiting out MCP_FORWARD_TIMEOUT_MS.
      // What arrived before is answered through `commands`, ahead of the deletion below.
      if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => undefined);
      if (commands.status === 'ready') {
        const keys = [replicaKey(replicaId), ...[...options.localSessions()].map((session) => sessionKey(session.id))];
        await commands.del(...keys).catch(() => undefined);
      }
      subscriber.disconnect();
      commands.disconnect();
    },
  };
}
