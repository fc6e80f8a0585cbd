import type { IncomingHttpHeaders } from 'node:http';

import type { Identity } from '../define-tool.js';
import { type HttpFailure, httpFailure } from '../errors.js';
import { ANONYMOUS } from './api-keys.js';
import type { Authenticator, AuthResult } from './authentication.js';
import type { HostPolicy } from './host-policy.js';

/** What the gate needs to know. */
export interface GateState {
  /** Set when shutdown begins. */
  readonly closing: boolean;
  readonly hostPolicy: HostPolicy;
  readonly auth: Authenticator;
}

export type Admission = { ok: true; identity: Identity } | ({ ok: false } & HttpFailure);

export interface AdmitOptions {
  /** The request path, for the WWW-Authenticate of a 401 (which metadata document to point to). */
  path: string;
  /** False for a public route (a page, a token-checked stream): no credentials is fine, wrong ones are not. */
  keyRequired?: boolean;
  /** False for OAuth endpoints that browsers call from other origins (metadata, token). */
  checkOrigin?: boolean;
}

/** Paths that stay open to probes (Docker healthcheck, cron, Prometheus). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/metrics']);

/**
 * The checks every request passes, in order: shutdown gate, Host/Origin (DNS rebinding), the
 * credentials → identity. Shared by the fastify hook (plugins/guard.ts) and the fast lane. Answers
 * at once, or with a promise when a token needs I/O to check (an external JWT seen for the first time).
 */
export function admit(
  state: GateState,
  headers: IncomingHttpHeaders,
  options: AdmitOptions,
): Admission | Promise<Admission> {
  if (state.closing) return shuttingDown();
  if (!state.hostPolicy.allowHost(headers.host)) {
    return { ok: false, ...httpFailure('FORBIDDEN', 'Forbidden: Host header not allowed') };
  }
  if (options.checkOrigin !== false && !state.hostPolicy.allowOrigin(headers.origin)) {
    return { ok: false, ...httpFailure('FORBIDDEN', 'Forbidden: Origin not allowed') };
  }
  const result = state.auth.authenticate(headers);
  return result instanceof Promise
    ? result.then((done) => decide(state, done, options))
    : decide(state, result, options);
}

function decide(state: GateState, result: AuthResult, options: AdmitOptions): Admission {
  if (result.ok) return result;
  // A public route: no credentials is fine, wrong ones are not.
  if (result.reason === 'missing' && options.keyRequired === false) return { ok: true, identity: ANONYMOUS };
  return {
    ok: false,
    ...httpFailure('UNAUTHORIZED', state.auth.refusal(result), {
      headers: { 'www-authenticate': state.auth.challenge(options.path, result) },
    }),
  };
}

/** The answer to every request that arrives during shutdown. */
export function shuttingDown(): { ok: false } & HttpFailure {
  return { ok: false, ...httpFailure('SHUTTING_DOWN', 'Server is shutting down', { headers: { 'retry-after': '5' } }) };
}
