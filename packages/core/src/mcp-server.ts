import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  type RequestId,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type {
  JsonSchemaType,
  JsonSchemaValidator,
  jsonSchemaValidator,
} from '@modelcontextprotocol/sdk/validation/types.js';
import type { Logger } from 'pino';

import type { ClientSession, Identity, LogLevel, TransportKind } from './define-tool.js';
import { ServiceError } from './errors.js';
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
  /**
   * The service's extendServer hook bound to this session (resources, prompts, completions...). Runs
   * before tools are wired so that an extension that claims tools/list or tools/call fails loudly.
   */
  extend?: (server: Server) => void;
}

type CallToolRequest = {
  params: { name: string; arguments?: Record<string, unknown>; _meta?: { progressToken?: string | number } };
};

/** Log levels by severity, least first (debug ... emergency). */
const LOG_SEVERITY = new Map(LoggingLevelSchema.options.map((level, index) => [level, index]));

/**
 * The SDK's Server builds an Ajv instance in its constructor, used only to check elicitation
 * answers: a third or more of the CPU of a whole session (initialize, call, DELETE) in
 * `pnpm bench`. This builds the same default validator, still one per session, on first use.
 */
class LazyJsonSchemaValidator implements jsonSchemaValidator {
  private inner: AjvJsonSchemaValidator | undefined;
  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.inner ??= new AjvJsonSchemaValidator();
    return this.inner.getValidator<T>(schema);
  }
}

/**
 * A protocol engine for one session: the SDK's low-level Server whose tools/list and tools/call
 * delegate to the registry. Creating one costs two handler registrations, nothing per tool.
 */
export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server(
    { name: `mcp-${options.name}`, version: options.version, ...(options.title ? { title: options.title } : {}) },
    {
      jsonSchemaValidator: new LazyJsonSchemaValidator(),
      capabilities: { tools: { listChanged: false }, logging: {} },
      ...(options.instructions ? { instructions: options.instructions } : {}),
    },
  );
  const { registry } = options;
  if (options.extend) {
    options.extend(server);
    for (const method of ['tools/list', 'tools/call']) {
      try {
        server.assertCanSetRequestHandler(method);
      } catch {
        throw new Error(`extendServer must not handle ${method}: tools are served by the registry only`);
      }
    }
  }
  server.setRequestHandler(ListToolsRequestSchema, () => registry.listResult);
  // The session's logging/setLevel lives here (replacing the SDK's) so that a tool's log messages can
  // ride the call's own stream and still be filtered: the SDK's sendLoggingMessage uses the GET stream,
  // which a Streamable HTTP client need not open, and the spec wants call-related messages on the POST.
  let minSeverity = 0;
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    minSeverity = LOG_SEVERITY.get(request.params.level) ?? 0;
    return {};
  });
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
          if ((LOG_SEVERITY.get(level) ?? 0) < minSeverity) return;
          await extra.sendNotification({ method: 'notifications/message', params: { level, logger: name, data } });
        },
        session: clientSession(server, extra.requestId),
      });
      return result;
    } catch (error) {
      if (error instanceof RpcError) throw new McpError(error.code, error.message);
      throw error;
    }
  });
  return server;
}

/** The way back to the client for one tools/call: requests ride the call's stream and die with the call. */
function clientSession(server: Server, relatedRequestId: RequestId) {
  return ({ signal, timeoutMs }: { signal: AbortSignal; timeoutMs: number }): ClientSession => {
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
