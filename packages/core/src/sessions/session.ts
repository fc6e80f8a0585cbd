import type { ServerResponse } from 'node:http';

import type { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

import type { Identity } from '../define-tool.js';
import type { SessionEngine } from '../mcp/session-engine.js';

interface SessionBase {
  id: string;
  identity: Identity;
  /** Whose quota the session counts against: the identity, or the client address when anonymous. */
  quotaKey: string;
  /** The session's protocol engine (its tools/call path). */
  engine: SessionEngine;
  createdAt: number;
  lastSeen: number;
  /** Open long-lived streams (legacy SSE stream, Streamable HTTP GET stream): not idle while > 0. */
  openStreams: number;
  /** Requests being handled right now. */
  active: number;
  close(): Promise<void>;
}

/** A legacy HTTP+SSE session (GET /sse + POST /messages). */
export interface SseSession extends SessionBase {
  kind: 'sse';
  transport: SSEServerTransport;
}

/** A Streamable HTTP session (POST|GET|DELETE /mcp with Mcp-Session-Id). */
export interface StreamableHttpSession extends SessionBase {
  kind: 'streamable-http';
  transport: StreamableHTTPServerTransport;
}

/** One MCP session: a transport and its protocol engine, bound to the identity that opened it. */
export type Session = SseSession | StreamableHttpSession;

export type SessionKind = Session['kind'];

/**
 * The session table. Behind an interface so that a shared store can stand in when a service runs as
 * several replicas (the transports themselves stay in the process that owns the stream).
 */
export interface SessionStore {
  get(id: string): Session | undefined;
  set(session: Session): void;
  delete(id: string): boolean;
  readonly size: number;
  values(): IterableIterator<Session>;
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();
  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }
  set(session: Session): void {
    this.sessions.set(session.id, session);
  }
  delete(id: string): boolean {
    return this.sessions.delete(id);
  }
  get size(): number {
    return this.sessions.size;
  }
  values(): IterableIterator<Session> {
    return this.sessions.values();
  }
}

/**
 * The session `id` names, if it is of this transport and belongs to this identity. Another
 * identity's session is reported as missing: its existence is not revealed.
 */
export function findSession(
  store: SessionStore,
  id: string | undefined,
  kind: 'sse',
  identity: Identity,
): SseSession | undefined;
export function findSession(
  store: SessionStore,
  id: string | undefined,
  kind: 'streamable-http',
  identity: Identity,
): StreamableHttpSession | undefined;
export function findSession(
  store: SessionStore,
  id: string | undefined,
  kind: SessionKind,
  identity: Identity,
): Session | undefined {
  if (!id) return undefined;
  const session = store.get(id);
  return session && session.kind === kind && session.identity.id === identity.id ? session : undefined;
}

/**
 * Counts one HTTP request on the session until its response closes, so that idle expiry never
 * closes a session that is answering: a long-lived stream (`stream`) or a request being handled.
 */
export function trackRequest(session: Session, response: ServerResponse, stream: boolean): void {
  session.lastSeen = Date.now();
  if (stream) session.openStreams += 1;
  else session.active += 1;
  response.once('close', () => {
    if (stream) session.openStreams -= 1;
    else session.active -= 1;
    session.lastSeen = Date.now();
  });
}

/** True when nothing runs on the session: no open stream, no request being handled. */
export const isIdle = (session: Session): boolean => session.openStreams === 0 && session.active === 0;

/** Sessions idle longer than `idleMs`, with no open stream and nothing running. */
export function expiredSessions(store: SessionStore, idleMs: number, now = Date.now()): Session[] {
  const out: Session[] = [];
  for (const session of store.values()) if (isIdle(session) && now - session.lastSeen > idleMs) out.push(session);
  return out;
}
