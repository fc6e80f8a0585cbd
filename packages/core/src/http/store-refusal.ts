import { type HttpFailure, httpFailure } from '../errors.js';
import type { CoreState } from '../state.js';

/**
 * With a shared session store, a session that the other replicas could not find would fail
 * whenever a request of it lands elsewhere: while Redis is unreachable no new session is opened
 * (503 with Retry-After); sessions already open keep working on the replica that holds them.
 */
export function storeRefusal(state: CoreState, failed = false): HttpFailure | undefined {
  if (!state.cluster || (!failed && state.cluster.directory.available)) return undefined;
  return httpFailure(
    'SESSION_STORE_UNAVAILABLE',
    'Session store unavailable (MCP_SESSION_STORE): no new session can be opened; retry shortly',
    { headers: { 'retry-after': '2' } },
  );
}
