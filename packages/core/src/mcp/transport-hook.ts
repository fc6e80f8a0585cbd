import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/** What the core puts in front of the SDK's handlers of one connected transport. */
export interface TransportHooks {
  /** Every incoming message; call `next` to hand it to the SDK's Protocol. */
  onMessage(message: JSONRPCMessage, extra: MessageExtraInfo | undefined, next: () => void): void;
  /** The transport closed; call `next` to let the SDK's Protocol clean up. */
  onClose(next: () => void): void;
  /** Every outgoing message, the SDK's included; call `next` to send it on the transport. */
  send(message: JSONRPCMessage, options: TransportSendOptions | undefined, next: () => Promise<void>): Promise<void>;
}

/**
 * THE ONE PLACE THE CORE RELIES ON HOW THE SDK WIRES A TRANSPORT (not a public API): after
 * `server.connect(transport)` the SDK's Protocol has set `transport.onmessage` and
 * `transport.onclose`, and it sends every message through `transport.send`. The core wraps those
 * three so that a tools/call request goes to the registry without a Protocol round (see
 * session-engine.ts). `test/sdk-wiring.test.ts` fails when an SDK upgrade changes this wiring.
 * Call it right after `connect` resolves.
 */
export function hookConnectedTransport(transport: Transport, hooks: TransportHooks): void {
  const protocolOnMessage = transport.onmessage;
  const protocolOnClose = transport.onclose;
  if (typeof protocolOnMessage !== 'function' || typeof protocolOnClose !== 'function') {
    throw new Error('The MCP SDK did not set transport.onmessage/onclose in connect(): its wiring changed');
  }
  const send = transport.send.bind(transport);
  transport.onmessage = (message, extra) => hooks.onMessage(message, extra, () => protocolOnMessage(message, extra));
  transport.onclose = () => hooks.onClose(() => protocolOnClose());
  transport.send = (message, options) => hooks.send(message, options, () => send(message, options));
}
