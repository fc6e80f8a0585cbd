import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/** A tools/call request as it arrives on a session (what the SDK's CallToolRequestSchema accepts). */
export interface ToolCallMessage {
  jsonrpc: '2.0';
  id: string | number;
  method: 'tools/call';
  params: {
    name: string;
    arguments?: Record<string, unknown>;
    _meta?: { progressToken?: string | number };
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Not a request (no method with an id): a notification or a response, if it is a message at all. */
export const isNotRequest = (message: unknown): boolean =>
  isPlainObject(message) && !('method' in message && 'id' in message);

/** A JSON-RPC request id as MCP allows it: a string or an integer. */
export const isRequestId = (value: unknown): value is string | number =>
  typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));

/**
 * True for a well-formed tools/call request. Structural and cheap; anything it does not recognise
 * (tasks, odd ids, extra shapes) takes the SDK's path instead, which validates with its schemas and
 * ends in the same registry call.
 */
export function isToolCallMessage(message: unknown): message is ToolCallMessage {
  if (!isPlainObject(message) || message['method'] !== 'tools/call' || message['jsonrpc'] !== '2.0') return false;
  if (!isRequestId(message['id'])) return false;
  const params = message['params'];
  if (!isPlainObject(params) || typeof params['name'] !== 'string' || 'task' in params) return false;
  const args = params['arguments'];
  if (args !== undefined && !isPlainObject(args)) return false;
  const meta = params['_meta'];
  if (meta === undefined) return true;
  if (!isPlainObject(meta)) return false;
  const token = meta['progressToken'];
  return token === undefined || isRequestId(token);
}

/**
 * True for one JSON-RPC message as the SDK's transports accept it. The legacy SSE transport answers
 * anything else with a plain-text 400 ("Invalid message: [object Object]"); the core answers a
 * JSON-RPC error first, as on every other endpoint (found by the JSON-RPC fuzz suite).
 */
export function isJsonRpcMessage(message: unknown): boolean {
  return isPlainRequestOrNotification(message) || JSONRPCMessageSchema.safeParse(message).success;
}

const REQUEST_KEYS: ReadonlySet<string> = new Set(['jsonrpc', 'id', 'method', 'params']);

/**
 * The messages a session opens and runs with (initialize, notifications/initialized, ping,
 * tools/list), recognised without the schema: a request or a notification with no other member,
 * params an object without `_meta`. True only where JSONRPCMessageSchema accepts too (the
 * schema's union of strict objects, whose failed branches cost more than the check); anything
 * else is the schema's to judge. test/tool-call-message.test.ts holds the two to agreement.
 */
function isPlainRequestOrNotification(message: unknown): boolean {
  if (!isPlainObject(message) || message['jsonrpc'] !== '2.0' || typeof message['method'] !== 'string') return false;
  for (const key in message) if (!REQUEST_KEYS.has(key)) return false;
  if ('id' in message) {
    const id = message['id'];
    if (!(typeof id === 'string' || Number.isSafeInteger(id))) return false;
  }
  if (!('params' in message)) return true;
  const params = message['params'];
  return isPlainObject(params) && !('_meta' in params);
}

/** The refusal of a /messages body that is not one JSON-RPC message (batches included: the legacy transport takes none). */
export const NOT_ONE_MESSAGE = 'Invalid Request: the body must be one JSON-RPC 2.0 message';
