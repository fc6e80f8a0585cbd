import type { IncomingHttpHeaders } from 'node:http';

import type { Identity } from '../define-tool.js';
import { type HttpFailure, httpFailure } from '../errors.js';
import { ANONYMOUS, type Authenticator } from './api-keys.js';
import type { HostPolicy } from './host-policy.js';

/** What the gate needs to know. */
export interface GateState {
  /** Set when shutdown begins. */
  readonly closing: boolean;
  readonly hostPolicy: HostPolicy;
  readonly auth: Authenticator;
  /** `mcp-<service>`, the realm of WWW-Authenticate. */
  readonly realm: string;
}

export type Admission = { ok: true; identity: Identity } | ({ ok: false } & HttpFailure);

/** Paths that stay open to probes (Docker healthcheck, cron, Prometheus). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/metrics']);

/**
 * The checks every MCP request passes, in order: shutdown gate, Host/Origin (DNS rebinding), API
 * key → identity. Shared by the fastify hook (plugins/guard.ts) and the fast lane (fast-lane.ts).
 */
export function admit(
  state: GateState,
  headers: IncomingHttpHeaders,
  options: { keyRequired?: boolean } = {},
): Admission {
  if (state.closing) return shuttingDown();
  if (!state.hostPolicy.allowHost(headers.host)) {
    return { ok: false, ...httpFailure('FORBIDDEN', 'Forbidden: Host header not allowed') };
  }
  if (!state.hostPolicy.allowOrigin(headers.origin)) {
    return { ok: false, ...httpFailure('FORBIDDEN', 'Forbidden: Origin not allowed') };
  }
  const auth = state.auth.authenticate(headers);
  // A public route (a page, a token-checked stream): no key is fine, a wrong key is not.
  if (!auth.ok && auth.reason === 'missing' && options.keyRequired === false) return { ok: true, identity: ANONYMOUS };
  if (!auth.ok) {
    return {
      ok: false,
      ...httpFailure(
        'UNAUTHORIZED',
        auth.reason === 'missing'
          ? 'Unauthorized: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"'
          : 'Unauthorized: invalid API key',
        { headers: { 'www-authenticate': `Bearer realm="${state.realm}"` } },
      ),
    };
  }
  return { ok: true, identity: auth.identity };
}

/** The answer to every request that arrives during shutdown. */
export function shuttingDown(): { ok: false } & HttpFailure {
  return { ok: false, ...httpFailure('SHUTTING_DOWN', 'Server is shutting down', { headers: { 'retry-after': '5' } }) };
}
