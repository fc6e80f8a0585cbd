import type { z } from 'zod';

import type { Toolsets } from '../define-service.js';
import {
  type AnyToolDefinition,
  type ClientSession,
  type Identity,
  type LogLevel,
  resolveAnnotations,
  type ToolContext,
  type ToolLogger,
  type TransportKind,
} from '../define-tool.js';
import { ERROR_CODES, type ErrorCode, ServiceError, toServiceError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { type Scope, scopeOfTool } from '../oauth/scopes.js';
import type { RateLimiter } from '../rate-limit.js';
import { activeTracing, type Tracing } from '../tracing/tracing.js';
import { type RunningCall, RunningCalls } from './running-calls.js';
import { selectTools } from './select-tools.js';
import { toolListEntries, type ToolListEntry } from './tool-catalog.js';
import { errorResult, resultWeight, successResult, type ToolResult } from './tool-result.js';

/** A protocol-level failure (unknown tool): a JSON-RPC error, not a tool result. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** How a call's lazy parts are made (ToolRegistry.run): its AbortSignal and its client session. */
interface LazyCallParts {
  signal(): AbortSignal;
  session(): ClientSession | undefined;
}

/**
 * The context a handler gets. A class, so that `signal` and `session` are getters on the prototype:
 * an object literal with getters is a dictionary-mode object whose accessor pairs V8 allocates in
 * old space, and those, pointing at the call's closures, kept every call's objects alive through
 * the young-generation GC until the next full one (`pnpm bench`, core /rpc: each scavenge promoted
 * about 3 MB and paused 5-6 ms; with this class 0.16 MB and under 1 ms). eslint forbids getters in
 * object literals for the same reason.
 */
class HandlerContext<Config, Deps> implements ToolContext<Config, Deps> {
  readonly identity: Identity;
  readonly transport: TransportKind;
  readonly requestId: string;
  readonly logger: ToolLogger;
  readonly progress: NonNullable<CallContext['progress']>;
  readonly log: NonNullable<CallContext['log']>;
  readonly #lazy: LazyCallParts;

  constructor(
    readonly config: Readonly<Config>,
    readonly deps: Deps,
    call: CallContext,
    lazy: LazyCallParts,
  ) {
    this.identity = call.identity;
    this.transport = call.transport;
    this.requestId = call.requestId;
    this.logger = call.logger;
    this.progress = call.progress ?? noop;
    this.log = call.log ?? noop;
    this.#lazy = lazy;
  }

  get signal(): AbortSignal {
    return this.#lazy.signal();
  }

  get session(): ClientSession | undefined {
    return this.#lazy.session();
  }
}

/** Per-call facts the transport knows. */
export interface CallContext {
  identity: Identity;
  /** Rate-limit key: the identity for key holders, the client address for anonymous callers. */
  rateKey: string;
  transport: TransportKind;
  requestId: string;
  logger: ToolLogger;
  /** Aborts when the client cancels or disconnects. */
  signal?: AbortSignal;
  /**
   * Called once, synchronously, with a function that cancels this call (the same as `signal`
   * firing, without an AbortController and listener per call): for callers that track calls by id.
   */
  bindCancel?: (cancel: (reason?: unknown) => void) => void;
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
  log?: (level: LogLevel, data: unknown) => Promise<void>;
  /**
   * Opens the way back to the client for one call, bound to the call's abort signal and deadline;
   * only session transports have one.
   */
  session?: (options: { signal: AbortSignal; timeoutMs: number }) => ClientSession;
}

export interface CallOutcome {
  result: ToolResult;
  /** Set when the call failed; lets /rpc choose an HTTP status. */
  errorCode?: ErrorCode;
  /** Seconds to wait before retrying (RATE_LIMITED). */
  retryAfter?: number;
}

export interface RegistryOptions {
  service: string;
  tools: readonly AnyToolDefinition[];
  toolsets: Toolsets;
  config: Readonly<{
    MCP_READ_ONLY: boolean;
    MCP_TOOLSETS: readonly string[];
    MCP_TOOL_TIMEOUT_MS: number;
    MCP_DEBUG: boolean;
    MCP_MAX_RESULT_BYTES: number;
  }>;
  deps: unknown;
  /** The service's translation of third-party errors (ServiceDefinition.mapError). */
  mapError?: (error: unknown) => ServiceError | undefined;
  metrics?: Metrics;
  rateLimiter?: RateLimiter;
}

/**
 * The single dispatch path: every transport ends in `call()`. Schemas and the tools/list answer are
 * computed once here; input is validated once; the handler runs under a deadline with an abort
 * signal; one audit line and one metric sample are recorded per call.
 */
export class ToolRegistry {
  readonly tools: ReadonlyMap<string, AnyToolDefinition>;
  /** The tools/list result, computed once. */
  readonly listResult: { tools: ToolListEntry[] };
  /** Each running call's outcome and abort: shutdown waits for them, and reaches them without a listener per call on one signal. */
  private readonly running = new RunningCalls();
  private readonly shutdown = new AbortController();

  /** The scope each tool needs (OAuth): `read` when it only reads, `write` otherwise. */
  private readonly scopeOf = new Map<string, Scope>();
  /** tools/list answers for scope-limited identities, by scope set. */
  private readonly scopedLists = new Map<string, { tools: ToolListEntry[] }>();

  constructor(private readonly options: RegistryOptions) {
    const selected = selectTools(options.tools, options.toolsets, options.config);
    this.tools = new Map(selected.map((tool) => [tool.name, tool]));
    this.listResult = { tools: toolListEntries(selected, options.config) };
    for (const tool of selected) this.scopeOf.set(tool.name, scopeOfTool(resolveAnnotations(tool, options.config)));
  }

  /**
   * The tools/list answer for this caller: every tool, or for an OAuth token only those its scopes
   * cover (computed once per scope set).
   */
  listFor(identity: Identity): { tools: ToolListEntry[] } {
    const { scopes } = identity;
    if (scopes === undefined) return this.listResult;
    const key = [...scopes].sort().join(' ');
    let list = this.scopedLists.get(key);
    if (!list) {
      list = { tools: this.listResult.tools.filter((entry) => scopes.has(this.scopeOf.get(entry.name) ?? 'write')) };
      this.scopedLists.set(key, list);
    }
    return list;
  }

  /** The scope a tool needs, when the caller's token lacks it; undefined when it may call it. */
  missingScope(identity: Identity, name: string): Scope | undefined {
    const { scopes } = identity;
    if (scopes === undefined) return undefined;
    const needed = this.scopeOf.get(name);
    return needed !== undefined && !scopes.has(needed) ? needed : undefined;
  }

  get size(): number {
    return this.tools.size;
  }

  /** Tool calls still running; shutdown waits for them. */
  get pending(): number {
    return this.running.size;
  }

  /** Aborts every running call (their handlers see ctx.signal fire) and waits up to `ms` for them. */
  async drain(ms: number): Promise<void> {
    const all = Promise.allSettled(this.running.list().flatMap((call) => call.outcome ?? []));
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
    const finished = await Promise.race([all.then(() => true), deadline.then(() => false)]);
    if (!finished) {
      const reason = new ServiceError('UNAVAILABLE', 'The server is shutting down');
      this.shutdown.abort(reason);
      for (const call of this.running.list()) call.abort?.(reason);
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    }
  }

  /** Runs a tool. Throws RpcError only for protocol errors (unknown tool); everything else is a result. */
  call(name: string, args: unknown, ctx: CallContext): Promise<CallOutcome> {
    const tracing = activeTracing();
    return tracing ? this.traced(tracing, name, args, ctx) : this.dispatch(name, args, ctx);
  }

  /** The call inside its span: every path shares this place, so every tool call has exactly one. */
  private async traced(tracing: Tracing, name: string, args: unknown, ctx: CallContext): Promise<CallOutcome> {
    const span = tracing.startToolCall({
      tool: this.tools.has(name) ? name : undefined,
      transport: ctx.transport,
      service: this.options.service,
    });
    let outcome: CallOutcome;
    try {
      outcome = await span.run(() => this.dispatch(name, args, ctx));
    } catch (error) {
      span.end({ kind: 'protocol_error', rpcCode: error instanceof RpcError ? error.code : undefined });
      throw error;
    }
    span.end(outcome.result.isError === true ? { kind: 'isError', errorCode: outcome.errorCode } : { kind: 'ok' });
    return outcome;
  }

  private async dispatch(name: string, args: unknown, ctx: CallContext): Promise<CallOutcome> {
    const tool = this.tools.get(name);
    if (!tool) throw new RpcError(ERROR_CODES.INVALID_INPUT.jsonRpc, `Unknown tool: ${name}`);
    const missing = this.missingScope(ctx.identity, name);
    if (missing !== undefined) {
      // The HTTP layer answers 403 insufficient_scope before this where it can; this is the backstop.
      const outcome: CallOutcome = {
        result: errorResult(`Insufficient scope: ${name} needs the "${missing}" scope, which this token does not have`),
        errorCode: 'FORBIDDEN',
      };
      this.record(tool.name, ctx, outcome, 0);
      return outcome;
    }
    const started = performance.now();
    const running = this.running.add();
    const promise = this.run(tool, args, ctx, running);
    running.outcome = promise;
    try {
      const outcome = await promise;
      this.record(tool.name, ctx, outcome, performance.now() - started);
      return outcome;
    } finally {
      this.running.remove(running);
    }
  }

  private async run(
    tool: AnyToolDefinition,
    args: unknown,
    ctx: CallContext,
    running: RunningCall,
  ): Promise<CallOutcome> {
    const { config, rateLimiter } = this.options;
    const wait = rateLimiter?.take(ctx.rateKey) ?? 0;
    if (wait > 0) {
      return {
        result: errorResult(`Rate limit exceeded: too many tool calls; retry in ${wait} s`),
        errorCode: 'RATE_LIMITED',
        retryAfter: wait,
      };
    }
    // MCP 2025-11-25: invalid arguments are a tool execution error, so that the model can correct itself.
    const parsed = (tool.input as z.ZodType).safeParse(args ?? {});
    if (!parsed.success) {
      return {
        result: errorResult(`Invalid arguments for ${tool.name}: ${summarizeZodError(parsed.error)}`),
        errorCode: 'INVALID_INPUT',
      };
    }

    // Aborts (timeout, shutdown, cancellation) settle the call at once, whether or not the handler
    // listens. The handler's AbortSignal is made on first read of ctx.signal (already aborted if the
    // call was): most handlers never read it, and an AbortController per call, with a listener on
    // the caller's signal, was among the costliest parts of a trivial call in `pnpm bench`.
    const timeoutMs = config.MCP_TOOL_TIMEOUT_MS;
    let isAborted = false;
    let reason: unknown;
    let controller: AbortController | undefined;
    let settleAborted: ((error: ServiceError) => void) | undefined;
    const abort = (why: unknown) => {
      if (isAborted) return;
      isAborted = true;
      reason = why;
      settleAborted?.(abortReason(why));
      controller?.abort(why);
    };
    const signalOf = (): AbortSignal => {
      if (!controller) {
        controller = new AbortController();
        if (isAborted) controller.abort(reason);
      }
      return controller.signal;
    };
    const callerSignal = ctx.signal;
    const fromCaller = callerSignal ? () => abort(callerSignal.reason) : undefined;
    const shutdown = this.shutdown.signal;
    if (shutdown.aborted) abort(shutdown.reason);
    else if (callerSignal?.aborted) abort(callerSignal.reason);
    else if (fromCaller) callerSignal?.addEventListener('abort', fromCaller, { once: true });
    ctx.bindCancel?.(abort);
    running.abort = abort;
    const timer = setTimeout(
      () => abort(new ServiceError('TIMEOUT', `${tool.name} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    let session: ClientSession | undefined;
    const handlerCtx = new HandlerContext(config, this.options.deps, ctx, {
      signal: signalOf,
      session: () => (session ??= ctx.session?.({ signal: signalOf(), timeoutMs })),
    });
    try {
      const output: unknown = await new Promise<unknown>((resolve, reject) => {
        if (isAborted) {
          reject(abortReason(reason));
          return;
        }
        settleAborted = reject;
        tool.handler(parsed.data, handlerCtx).then(resolve, reject);
      });
      const result = successResult(tool, output);
      const size = resultWeight(result);
      if (size > config.MCP_MAX_RESULT_BYTES) {
        ctx.logger.warn({ tool: tool.name, requestId: ctx.requestId, bytes: size }, 'tool result over the byte limit');
        return {
          result: errorResult(
            `The result of ${tool.name} is too large (${size} bytes; the limit is ${config.MCP_MAX_RESULT_BYTES}, ` +
              'MCP_MAX_RESULT_BYTES): ask for less (fewer rows, a smaller range or a narrower pattern)',
          ),
          errorCode: 'RESULT_TOO_LARGE',
        };
      }
      return { result };
    } catch (error) {
      const failure = isAborted && !(error instanceof ServiceError) ? abortReason(reason) : error;
      const serviceError =
        (failure instanceof ServiceError ? undefined : this.options.mapError?.(failure)) ??
        toServiceError(failure, config.MCP_DEBUG);
      if (serviceError.code === 'INTERNAL') {
        ctx.logger.error({ err: failure, tool: tool.name, requestId: ctx.requestId }, 'tool failed unexpectedly');
      } else if (serviceError.code === 'UNAVAILABLE' || serviceError.code === 'UPSTREAM_FAILED') {
        // A backend failure the client sees as a clear message; operators get the cause.
        ctx.logger.warn(
          { err: serviceError.cause ?? failure, tool: tool.name, requestId: ctx.requestId },
          'backend failure',
        );
      }
      return { result: errorResult(serviceError.message), errorCode: serviceError.code };
    } finally {
      clearTimeout(timer);
      running.abort = undefined;
      if (fromCaller) callerSignal?.removeEventListener('abort', fromCaller);
    }
  }

  private record(tool: string, ctx: CallContext, outcome: CallOutcome, ms: number): void {
    const label = outcomeLabel(outcome.errorCode);
    const { metrics } = this.options;
    if (metrics) {
      metrics.toolCalls.inc({ tool, outcome: label });
      metrics.toolDuration.observe({ tool }, ms / 1000);
    }
    // The audit line: who called what, how long, how it ended. Never arguments (they may hold secrets).
    ctx.logger.info(
      {
        audit: true,
        tool,
        identity: ctx.identity.id,
        transport: ctx.transport,
        requestId: ctx.requestId,
        duration_ms: Math.round(ms * 100) / 100,
        outcome: label,
      },
      'tool call',
    );
  }
}

function summarizeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'arguments';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

function abortReason(reason: unknown): ServiceError {
  if (reason instanceof ServiceError) return reason;
  return new ServiceError('CANCELLED', 'The request was cancelled');
}

function outcomeLabel(code: ErrorCode | undefined): string {
  switch (code) {
    case undefined:
      return 'ok';
    case 'INVALID_INPUT':
      return 'invalid';
    case 'TIMEOUT':
      return 'timeout';
    case 'CANCELLED':
      return 'cancelled';
    case 'RATE_LIMITED':
      return 'rate_limited';
    case 'RESULT_TOO_LARGE':
      return 'too_large';
    case 'INTERNAL':
      return 'internal';
    default:
      return 'error';
  }
}

const noop = async (): Promise<void> => {};
