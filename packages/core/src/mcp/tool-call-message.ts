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
  return JSONRPCMessageSchema.safeParse(message).success;
}

/** The refusal of a /messages body that is not one JSON-RPC message (batches included: the legacy transport takes none). */
export const NOT_ONE_MESSAGE = 'Invalid Request: the body must be one JSON-RPC 2.0 message';
