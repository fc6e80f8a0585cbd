import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  type JSONRPCMessage,
  type JSONRPCNotification,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  type RequestId,
  type ServerResult,
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

/** A tools/call request as it arrives on a session (what the SDK's CallToolRequestSchema accepts). */
export interface ToolCallMessage {
  jsonrpc: '2.0';
  id: string | number;
  method: 'tools/call';
  params: CallToolRequest['params'];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isId = (value: unknown): value is string | number =>
  typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));

/**
 * True for a well-formed tools/call request. Structural and cheap; anything it does not recognise
 * (tasks, odd ids, extra shapes) takes the SDK's path instead, which validates with its schemas.
 */
export function isToolCallMessage(message: unknown): message is ToolCallMessage {
  if (!isPlainObject(message) || message['method'] !== 'tools/call' || message['jsonrpc'] !== '2.0') return false;
  if (!isId(message['id'])) return false;
  const params = message['params'];
  if (!isPlainObject(params) || typeof params['name'] !== 'string' || 'task' in params) return false;
  const args = params['arguments'];
  if (args !== undefined && !isPlainObject(args)) return false;
  const meta = params['_meta'];
  if (meta === undefined) return true;
  if (!isPlainObject(meta)) return false;
  const token = meta['progressToken'];
  return token === undefined || isId(token);
}

interface RunningCall {
  /** Aborts the call in the registry (set by registry.call through bindCancel). */
  cancel: (reason?: unknown) => void;
  /** Set when the client cancelled or went away: the call's answer is not sent. */
  cancelled: boolean;
}

/** Where the messages of one call go: the session's transport, or the call's own HTTP response. */
export type MessageSink = (message: JSONRPCMessage) => Promise<void>;

/**
 * One MCP session: the SDK's low-level Server (initialize, ping, tools/list, logging, extensions,
 * requests to the client) and the core's own tools/call path, which goes from the transport
 * straight to the registry. The SDK's Protocol would validate each call again with zod, build an
 * AbortController and a chain of promises per request: that made a call on a long-lived session
 * cost more than the SDK's own McpServer in `pnpm bench`.
 */
export interface McpSession {
  readonly server: Server;
  /** Connects the transport and routes its tools/call requests to `callTool`. */
  connect(transport: Transport): Promise<void>;
  /**
   * Runs one tools/call; its answer and the notifications about it go to `sink` (the transport by
   * default). Never throws: failures become JSON-RPC errors or isError results. `done` runs once
   * the answer was sent, or dropped because the call was cancelled or the session closed. Returns a
   * function that cancels the call (no answer is sent then, as for notifications/cancelled).
   */
  callTool(message: ToolCallMessage, sink?: MessageSink, done?: () => void): (reason?: unknown) => void;
  close(): Promise<void>;
}

/**
 * Builds the session: the SDK Server whose tools/list and tools/call delegate to the registry.
 * Creating one costs a few handler registrations, nothing per tool.
 */
export function createMcpServer(options: McpServerOptions): McpSession {
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

  let transport: Transport | undefined;
  /** Running calls by request id: notifications/cancelled and a closing transport reach them here. */
  const running = new Map<string | number, RunningCall>();
  /** Calls whose messages go to their own HTTP response instead of the transport (see callTool). */
  const sinks = new Map<string | number, MessageSink>();
  // Notifications about a call name it, so that Streamable HTTP puts them on the call's own stream.
  const toTransport = (id: string | number): MessageSink => {
    const options = { relatedRequestId: id };
    return (message) => transport?.send(message, options) ?? Promise.resolve();
  };

  /** Cancels a running call for good: its handler is aborted and no answer will be sent. */
  const drop = (entry: RunningCall, reason: unknown) => {
    if (entry.cancelled) return;
    entry.cancelled = true;
    entry.cancel(reason);
  };

  const report = (error: unknown) => {
    options.logger.warn({ err: error }, 'could not send a tools/call answer');
  };

  const run = (message: ToolCallMessage, sink: MessageSink): Promise<JSONRPCMessage | undefined> => {
    const { id, params } = message;
    const progressToken = params._meta?.progressToken;
    const entry: RunningCall = { cancel: noop, cancelled: false };
    running.set(id, entry);
    const notify = (notification: JSONRPCNotification) => (entry.cancelled ? Promise.resolve() : sink(notification));
    return registry
      .call(params.name, params.arguments, {
        identity: options.identity,
        rateKey: options.rateKey,
        transport: options.transport,
        requestId: `${transport?.sessionId ?? 'session'}:${String(id)}`,
        logger: options.logger,
        bindCancel: (cancel) => {
          entry.cancel = cancel;
        },
        progress:
          progressToken === undefined
            ? undefined
            : (progress, total, text) =>
                notify({
                  jsonrpc: '2.0',
                  method: 'notifications/progress',
                  params: {
                    progressToken,
                    progress,
                    ...(total === undefined ? {} : { total }),
                    ...(text === undefined ? {} : { message: text }),
                  },
                }),
        log: (level: LogLevel, data: unknown) => {
          if ((LOG_SEVERITY.get(level) ?? 0) < minSeverity) return Promise.resolve();
          return notify({
            jsonrpc: '2.0',
            method: 'notifications/message',
            params: { level, logger: params.name, data },
          });
        },
        session: clientSession(server, id),
      })
      .then(
        ({ result }): JSONRPCMessage => ({ jsonrpc: '2.0', id, result }),
        (error: unknown): JSONRPCMessage => {
          if (error instanceof RpcError)
            return { jsonrpc: '2.0', id, error: { code: error.code, message: error.message } };
          options.logger.error({ err: error, tool: params.name }, 'tools/call failed unexpectedly');
          return { jsonrpc: '2.0', id, error: { code: ErrorCode.InternalError, message: 'Internal error' } };
        },
      )
      .then((answer) => {
        if (running.get(id) === entry) running.delete(id);
        // A cancelled request gets no answer (MCP cancellation).
        return entry.cancelled ? undefined : answer;
      });
  };

  const callTool = (message: ToolCallMessage, sink?: MessageSink, done?: () => void): ((reason?: unknown) => void) => {
    if (sink) sinks.set(message.id, sink);
    const out = sink ?? toTransport(message.id);
    const answered = run(message, out);
    const entry = running.get(message.id);
    answered
      .then((answer) => (answer ? out(answer) : undefined))
      .catch(report)
      .finally(() => {
        if (sink && sinks.get(message.id) === sink) sinks.delete(message.id);
        done?.();
      });
    return (reason) => {
      if (entry) drop(entry, reason ?? new ServiceError('CANCELLED', 'The request was cancelled'));
    };
  };

  // Reached only by calls the fast check above did not recognise: the SDK has validated them.
  // Registered through Protocol rather than Server: Server's tools/call wrapper re-validates the
  // request and the result with zod, which the registry already guarantees.
  Protocol.prototype.setRequestHandler.call(server, CallToolRequestSchema, async (request: CallToolRequest, extra) => {
    const message: ToolCallMessage = {
      jsonrpc: '2.0',
      id: extra.requestId,
      method: 'tools/call',
      params: request.params,
    };
    const onAbort = () => running.get(extra.requestId)?.cancel(extra.signal.reason);
    extra.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const answer = await run(message, (notification) => extra.sendNotification(notification));
      if (!answer) throw new McpError(ErrorCode.RequestTimeout, 'Request was cancelled');
      if ('error' in answer) throw new McpError(answer.error.code, answer.error.message);
      return (answer as { result: ServerResult }).result;
    } finally {
      extra.signal.removeEventListener('abort', onAbort);
    }
  });

  return {
    server,
    callTool,
    async connect(t) {
      transport = t;
      await server.connect(t);
      const protocolOnMessage = t.onmessage;
      const protocolOnClose = t.onclose;
      const protocolSend = t.send.bind(t);
      t.onmessage = (message, extra) => {
        if (isToolCallMessage(message)) {
          callTool(message);
          return;
        }
        if ((message as JSONRPCNotification).method === 'notifications/cancelled') {
          const requestId = (message as JSONRPCNotification).params?.['requestId'];
          const entry = isId(requestId) ? running.get(requestId) : undefined;
          if (entry) drop(entry, new ServiceError('CANCELLED', 'The request was cancelled'));
        }
        protocolOnMessage?.(message, extra);
      };
      t.onclose = () => {
        // A closed session cancels what it was running (the client is gone).
        for (const entry of running.values()) drop(entry, new ServiceError('CANCELLED', 'The session was closed'));
        protocolOnClose?.();
      };
      // Requests to the client (sampling, elicitation) about a call whose messages go to its own
      // response must travel there too.
      t.send = (message, sendOptions) => {
        const related = sendOptions?.relatedRequestId;
        const sink = related === undefined ? undefined : sinks.get(related);
        return sink ? sink(message) : protocolSend(message, sendOptions);
      };
    },
    close: () => server.close(),
  };
}

const noop = (): void => undefined;

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
