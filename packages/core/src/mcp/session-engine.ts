import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  type JSONRPCMessage,
  type JSONRPCNotification,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
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

import type { Identity, LogLevel, TransportKind } from '../define-tool.js';
import { ServiceError } from '../errors.js';
import { RpcError, type ToolRegistry } from '../registry/registry.js';
import { clientSessionFor } from './client-session.js';
import { isRequestId, isToolCallMessage, type ToolCallMessage } from './tool-call-message.js';
import { hookConnectedTransport } from './transport-hook.js';

export interface SessionEngineOptions {
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
   * True: a well-formed tools/call goes from the transport straight to the registry (MCP_FAST_LANE).
   * False: every message goes through the SDK's Protocol, whose tools/call handler calls the same
   * registry path; the answers are the same (the test suites run both ways).
   */
  directToolCalls: boolean;
  /**
   * The service's extendServer hook bound to this session (resources, prompts, completions...). Runs
   * before tools are wired so that an extension that claims tools/list or tools/call fails loudly.
   */
  extend?: (server: Server) => void;
}

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

interface RunningCall {
  /** Aborts the call in the registry (set by registry.call through bindCancel). */
  cancel: (reason?: unknown) => void;
  /** Set when the client cancelled or went away: the call's answer is not sent. */
  cancelled: boolean;
}

/** Where the messages of one call go: the session's transport, or the call's own HTTP response. */
export type MessageSink = (message: JSONRPCMessage) => Promise<void>;

/** Cancels a running call; no answer is sent for it afterwards (as for notifications/cancelled). */
export type CancelCall = (reason?: unknown) => void;

/**
 * The protocol engine of one MCP session: the SDK's low-level Server (initialize, ping, tools/list,
 * logging, extensions, requests to the client) and the core's tools/call path to the registry.
 */
export interface SessionEngine {
  readonly server: Server;
  /** Connects the transport (and, with direct tool calls, routes its tools/call requests to `callTool`). */
  connect(transport: Transport): Promise<void>;
  /**
   * Runs one tools/call; its answer and the notifications about it go to `sink` (the transport by
   * default). Never throws: failures become JSON-RPC errors or isError results. `done` runs once the
   * answer was sent, or dropped because the call was cancelled or the session closed.
   */
  callTool(message: ToolCallMessage, sink?: MessageSink, done?: () => void): CancelCall;
  close(): Promise<void>;
}

/**
 * Builds a session's engine: the SDK Server whose tools/list and tools/call answer from the
 * registry. Creating one costs a few handler registrations, nothing per tool.
 *
 * With direct tool calls, a tools/call skips the SDK's Protocol: its three zod type guards, its
 * request re-validation, an AbortController and a chain of promises per request, which made a call
 * on a long-lived session cost more than the SDK's own McpServer in `pnpm bench`.
 */
export function createSessionEngine(options: SessionEngineOptions): SessionEngine {
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
  server.setRequestHandler(ListToolsRequestSchema, () => registry.listFor(options.identity));
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
    const sendOptions = { relatedRequestId: id };
    return (message) => transport?.send(message, sendOptions) ?? Promise.resolve();
  };

  /** Cancels a running call for good: its handler is aborted and no answer will be sent. */
  const drop = (entry: RunningCall, reason: unknown) => {
    if (entry.cancelled) return;
    entry.cancelled = true;
    entry.cancel(reason);
  };

  /** Runs the call in the registry; resolves to its answer, or undefined when it was cancelled. */
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
        session: clientSessionFor(server, id),
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

  const callTool = (message: ToolCallMessage, sink?: MessageSink, done?: () => void): CancelCall => {
    if (sink) sinks.set(message.id, sink);
    const out = sink ?? toTransport(message.id);
    const answered = run(message, out);
    const entry = running.get(message.id);
    answered
      .then((answer) => (answer ? out(answer) : undefined))
      .catch((error: unknown) => options.logger.warn({ err: error }, 'could not send a tools/call answer'))
      .finally(() => {
        if (sink && sinks.get(message.id) === sink) sinks.delete(message.id);
        done?.();
      });
    return (reason) => {
      if (entry) drop(entry, reason ?? new ServiceError('CANCELLED', 'The request was cancelled'));
    };
  };

  // The SDK's path for tools/call: every call when direct calls are off, and the calls the structural
  // check does not recognise when they are on (the SDK has validated them). Same registry path.
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const message: ToolCallMessage = {
      jsonrpc: '2.0',
      id: extra.requestId,
      method: 'tools/call',
      params: request.params,
    };
    const onAbort = () => running.get(extra.requestId)?.cancel(extra.signal.reason);
    extra.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const answer = await run(message, (notification) => extra.sendNotification(notification as never));
      if (!answer) throw new McpError(ErrorCode.RequestTimeout, 'Request was cancelled');
      // Protocol answers a thrown error with its code and message; McpError would prefix the
      // message ("MCP error -32602: ..."), and the answer must read as the direct path's does.
      if ('error' in answer) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
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
      if (!options.directToolCalls) return;
      hookConnectedTransport(t, {
        onMessage(message, _extra, next) {
          if (isToolCallMessage(message)) {
            callTool(message);
            return;
          }
          if ('method' in message && message.method === 'notifications/cancelled') {
            const requestId = message.params?.['requestId'];
            const entry = isRequestId(requestId) ? running.get(requestId) : undefined;
            if (entry) drop(entry, new ServiceError('CANCELLED', 'The request was cancelled'));
          }
          next();
        },
        onClose(next) {
          // A closed session cancels what it was running (the client is gone).
          for (const entry of running.values()) drop(entry, new ServiceError('CANCELLED', 'The session was closed'));
          next();
        },
        // Requests to the client (sampling, elicitation) about a call whose messages go to its own
        // response must travel there too.
        send(message, sendOptions, next) {
          const related = sendOptions?.relatedRequestId;
          const sink = related === undefined ? undefined : sinks.get(related);
          return sink ? sink(message) : next();
        },
      });
    },
    close: () => server.close(),
  };
}

const noop = (): void => undefined;
