import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpError, type RequestId } from '@modelcontextprotocol/sdk/types.js';

import type { ClientSession } from '../define-tool.js';
import { ServiceError } from '../errors.js';

/** What the registry binds a client session to: the call's abort signal and deadline. */
export interface ClientSessionBinding {
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * The way back to the client for one tools/call (sampling, elicitation): requests ride the call's
 * stream (`relatedRequestId`) and die with the call. A client that did not declare the capability
 * gets UNAVAILABLE without a round trip; an error answer from the client is UPSTREAM_FAILED.
 */
export function clientSessionFor(server: Server, relatedRequestId: RequestId) {
  return ({ signal, timeoutMs }: ClientSessionBinding): ClientSession => {
    // The registry's deadline governs; the SDK's own 60 s request timeout must not cut in first.
    const options = { relatedRequestId, signal, timeout: timeoutMs };
    const ask = async <T>(supported: boolean, method: string, send: () => Promise<T>): Promise<T> => {
      if (!supported) throw new ServiceError('UNAVAILABLE', `The client does not support ${method}`);
      try {
        return await send();
      } catch (error) {
        // Timeout and cancellation are reported by the registry from the signal.
        if (signal.aborted || !(error instanceof McpError)) throw error;
        throw new ServiceError('UPSTREAM_FAILED', `The client answered ${method} with an error: ${error.message}`);
      }
    };
    const capabilities = () => server.getClientCapabilities() ?? {};
    return {
      get capabilities() {
        return capabilities();
      },
      createMessage: (params) =>
        ask(capabilities().sampling !== undefined, 'sampling/createMessage', () =>
          server.createMessage(params, options),
        ),
      elicit: (params) =>
        ask(capabilities().elicitation?.[params.mode ?? 'form'] !== undefined, 'elicitation/create', () =>
          server.elicitInput(params, options),
        ),
    };
  };
}
