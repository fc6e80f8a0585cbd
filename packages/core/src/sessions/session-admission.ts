import { type HttpFailure, httpFailure } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { createRateLimiter } from '../rate-limit.js';
import { isIdle, type Session, type SessionStore } from './session.js';

export interface SessionAdmissionOptions {
  store: SessionStore;
  metrics: Metrics;
  /** MCP_MAX_SESSIONS: sessions of every identity together. */
  maxSessions: number;
  /** MCP_MAX_SESSIONS_PER_IDENTITY: sessions one identity (or anonymous address) may hold. */
  maxPerIdentity: number;
  /** MCP_SESSION_RATE_LIMIT: new sessions per minute per identity; 0 = unlimited. */
  perMinute: number;
  /** MCP_SESSION_IDLE_MS: sessions idle longer than this are closed first when room is needed. */
  idleMs: number;
  now?: () => number;
  /** Runs when a session leaves the table (the shared directory forgets it). */
  onRelease?: (session: Session) => void;
}

/**
 * Who may open a session, and the session table's bookkeeping. One identity cannot lock others out:
 * it holds at most its share of the sessions, opens them at a bounded rate, and when room is needed
 * the idle sessions of whoever holds the most go first (its own, when it is over its share).
 */
export interface SessionAdmission {
  /** Makes room for one more session of `quotaKey`, or says why not (429 or 503 with Retry-After). */
  reserve(quotaKey: string): Promise<HttpFailure | undefined>;
  /** Adds a session to the table (after its transport assigned the id). */
  register(session: Session): void;
  /** Removes a session from the table; true when it was there. */
  release(session: Session): boolean;
  /** Sessions per quota key (for tests and /health). */
  countOf(quotaKey: string): number;
}

/** Seconds a refused client should wait: long enough for idle sessions to expire or calls to end. */
const FULL_RETRY_AFTER_S = 5;

export function createSessionAdmission(options: SessionAdmissionOptions): SessionAdmission {
  const { store, metrics, maxSessions, idleMs } = options;
  const now = options.now ?? (() => Date.now());
  // A share as large as the whole table is no share: the global cap (503) answers then.
  const maxPerIdentity = options.maxPerIdentity < maxSessions ? options.maxPerIdentity : Infinity;
  const creation = createRateLimiter(options.perMinute, now);
  const counts = new Map<string, number>();

  const countOf = (key: string) => counts.get(key) ?? 0;

  /** Closes idle sessions, oldest first, until `enough()` or none is left; only those `match` picks. */
  const evictIdle = async (match: (session: Session) => boolean, enough: () => boolean, olderThanMs = 0) => {
    const candidates = [...store.values()]
      .filter((session) => match(session) && isIdle(session) && now() - session.lastSeen >= olderThanMs)
      .sort((a, b) => a.lastSeen - b.lastSeen);
    for (const session of candidates) {
      if (enough()) return;
      await session.close().catch(() => undefined);
      // A session whose close did not take it off the table (a transport that never settles) leaves it.
      release(session);
    }
  };

  const release = (session: Session): boolean => {
    if (store.get(session.id) !== session) return false;
    store.delete(session.id);
    const left = countOf(session.quotaKey) - 1;
    if (left > 0) counts.set(session.quotaKey, left);
    else counts.delete(session.quotaKey);
    metrics.openSessions.dec({ transport: session.kind });
    options.onRelease?.(session);
    return true;
  };

  return {
    countOf,
    release,
    register(session) {
      store.set(session);
      counts.set(session.quotaKey, countOf(session.quotaKey) + 1);
      metrics.openSessions.inc({ transport: session.kind });
    },
    async reserve(quotaKey) {
      const wait = creation.take(quotaKey);
      if (wait > 0) {
        return httpFailure('SESSION_QUOTA', `Too many new sessions: retry in ${wait} s (MCP_SESSION_RATE_LIMIT)`, {
          headers: { 'retry-after': String(wait) },
        });
      }
      if (countOf(quotaKey) >= maxPerIdentity) {
        // Over its share: its own idle sessions make room (a client that never closes its sessions).
        await evictIdle(
          (session) => session.quotaKey === quotaKey,
          () => countOf(quotaKey) < maxPerIdentity,
        );
        if (countOf(quotaKey) >= maxPerIdentity) {
          return httpFailure(
            'SESSION_QUOTA',
            `Too many sessions for this client: ${countOf(quotaKey)} open (MCP_MAX_SESSIONS_PER_IDENTITY); close some ` +
              `or retry in ${FULL_RETRY_AFTER_S} s`,
            { headers: { 'retry-after': String(FULL_RETRY_AFTER_S) } },
          );
        }
      }
      if (store.size >= maxSessions) {
        const roomy = () => store.size < maxSessions;
        // Expired sessions first, then the idle sessions of whoever holds the most.
        await evictIdle(() => true, roomy, idleMs);
        // Then idle sessions, those of the identities that hold the most first, oldest first.
        const idle = [...store.values()]
          .filter(isIdle)
          .sort((a, b) => countOf(b.quotaKey) - countOf(a.quotaKey) || a.lastSeen - b.lastSeen);
        for (const session of idle) {
          if (roomy()) break;
          await session.close().catch(() => undefined);
          release(session);
        }
        if (!roomy()) {
          return httpFailure('TOO_MANY_SESSIONS', 'Too many sessions (MCP_MAX_SESSIONS): retry later', {
            headers: { 'retry-after': String(FULL_RETRY_AFTER_S) },
          });
        }
      }
      return undefined;
    },
  };
}
