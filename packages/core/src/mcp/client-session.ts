import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type ClientCapabilities,
  type CreateMessageRequestParamsBase,
  type CreateMessageResult,
  type ElicitRequestFormParams,
  type ElicitRequestURLParams,
  type ElicitResult,
  McpError,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

import type { ClientSession } from '../define-tool.js';
import { ServiceError } from '../errors.js';

/** What the registry binds a client session to: the call's abort signal and deadline. */
export interface ClientSessionBinding {
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * One call's way back (see clientSessionFor). A class, not an object literal with a getter, so that
 * `capabilities` is on the prototype (see HandlerContext in registry/registry.ts).
 */
class CallClientSession implements ClientSession {
  private readonly options: { relatedRequestId: RequestId; signal: AbortSignal; timeout: number };

  constructor(
    private readonly server: Server,
    relatedRequestId: RequestId,
    { signal, timeoutMs }: ClientSessionBinding,
  ) {
    // The registry's deadline governs; the SDK's own 60 s request timeout must not cut in first.
    this.options = { relatedRequestId, signal, timeout: timeoutMs };
  }

  get capabilities(): ClientCapabilities {
    return this.server.getClientCapabilities() ?? {};
  }

  createMessage(params: CreateMessageRequestParamsBase): Promise<CreateMessageResult> {
    return this.ask(this.capabilities.sampling !== undefined, 'sampling/createMessage', () =>
      this.server.createMessage(params, this.options),
    );
  }

  elicit(params: ElicitRequestFormParams | ElicitRequestURLParams): Promise<ElicitResult> {
    return this.ask(this.capabilities.elicitation?.[params.mode ?? 'form'] !== undefined, 'elicitation/create', () =>
      this.server.elicitInput(params, this.options),
    );
  }

  private async ask<T>(supported: boolean, method: string, send: () => Promise<T>): Promise<T> {
    if (!supported) throw new ServiceError('UNAVAILABLE', `The client does not support ${method}`);
    try {
      return await send();
    } catch (error) {
      // Timeout and cancellation are reported by the registry from the signal.
      if (this.options.signal.aborted || !(error instanceof McpError)) throw error;
      throw new ServiceError('UPSTREAM_FAILED', `The client answered ${method} with an error: ${error.message}`);
    }
  }
}

/**
 * The way back to the client for one tools/call (sampling, elicitation): requests ride the call's
 * stream (`relatedRequestId`) and die with the call. A client that did not declare the capability
 * gets UNAVAILABLE without a round trip; an error answer from the client is UPSTREAM_FAILED.
 */
export function clientSessionFor(server: Server, relatedRequestId: RequestId) {
  return (binding: ClientSessionBinding): ClientSession => new CallClientSession(server, relatedRequestId, binding);
}
