import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  type LoggingLevel,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';

import type { Identity, LogLevel, TransportKind } from './define-tool.js';
import { RpcError, type ToolRegistry } from './registry.js';

export interface McpServerOptions {
  name: string;
  version: string;
  title?: string;
  instructions?: string;
  registry: ToolRegistry;
  identity: Identity;
  rateKey: string;
  transport: TransportKind;
  logger: Logger;
}

type CallToolRequest = { params: { name: string; arguments?: Record<string, unknown>; _meta?: { progressToken?: string | number } } };

/**
 * A protocol engine for one session: the SDK's low-level Server whose tools/list and tools/call
 * delegate to the registry. Creating one costs two handler registrations, nothing per tool.
 */
export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server(
    { name: `mcp-${options.name}`, version: options.version, ...(options.title ? { title: options.title } : {}) },
    {
      capabilities: { tools: { listChanged: false }, logging: {} },
      ...(options.instructions ? { instructions: options.instructions } : {}),
    },
  );
  const { registry } = options;
  server.setRequestHandler(ListToolsRequestSchema, () => registry.listResult);
  // Registered through Protocol rather than Server: Server's tools/call wrapper re-validates the
  // request and the result with zod, which the registry already guarantees; skipping it is cheaper.
  Protocol.prototype.setRequestHandler.call(server, CallToolRequestSchema, async (request: CallToolRequest, extra) => {
    const { name, arguments: args, _meta } = request.params;
    const progressToken = _meta?.progressToken;
    const requestId = `${extra.sessionId ?? 'session'}:${String(extra.requestId)}`;
    try {
      const { result } = await registry.call(name, args, {
        identity: options.identity,
        rateKey: options.rateKey,
        transport: options.transport,
        requestId,
        logger: options.logger,
        signal: extra.signal,
        progress:
          progressToken === undefined
            ? undefined
            : async (progress, total, message) => {
                await extra.sendNotification({
                  method: 'notifications/progress',
                  params: {
                    progressToken,
                    progress,
                    ...(total === undefined ? {} : { total }),
                    ...(message === undefined ? {} : { message }),
                  },
                });
              },
        log: async (level: LogLevel, data: unknown) => {
          await server.sendLoggingMessage({ level: level as LoggingLevel, logger: name, data }, extra.sessionId);
        },
      });
      return result;
    } catch (error) {
      if (error instanceof RpcError) throw new McpError(error.code as ErrorCode, error.message);
      throw error;
    }
  });
  return server;
}
