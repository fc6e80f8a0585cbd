import type {
  ClientCapabilities,
  CreateMessageRequestParamsBase,
  CreateMessageResult,
  ElicitRequestFormParams,
  ElicitRequestURLParams,
  ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { BaseLogger } from 'pino';
import type { z } from 'zod';

/** The four MCP tool annotations; all are required so that clients never have to guess. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/**
 * The annotations of a tool that only reads a closed world (a database, files): the common case,
 * written once. Spread and override for the rest: `{ ...READ_ONLY_ANNOTATIONS, openWorldHint: true }`.
 */
export const READ_ONLY_ANNOTATIONS: Readonly<ToolAnnotations> = Object.freeze({
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
});

export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

/** The pino methods a handler may use (a request logger or the service logger). */
export type ToolLogger = Pick<BaseLogger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>;

export type TransportKind = 'sse' | 'streamable-http' | 'rpc' | 'in-process';

/** Who is calling: derived from the API key (never the key itself) or the client address. */
export interface Identity {
  /** Stable, non-secret id: `key:<8 hex of sha256>`, `user:<subject>` (OAuth) or `anonymous`. */
  id: string;
  /** True when the request carried a valid API key or access token. */
  authenticated: boolean;
  /** The scopes of an OAuth access token (`read`, `write`); undefined means every tool (API keys, no auth). */
  scopes?: ReadonlySet<string>;
}

/**
 * The client at the other end of an MCP session, for requests back to it while a tool runs. Requests
 * travel on the call's own stream and are cancelled with it (ctx.signal). A client that did not declare
 * the capability gets a ServiceError('UNAVAILABLE') without a round trip; an error answer from the
 * client becomes UPSTREAM_FAILED.
 */
export interface ClientSession {
  /** What the client declared in initialize (sampling, elicitation, roots). */
  readonly capabilities: Readonly<ClientCapabilities>;
  /** sampling/createMessage: asks the client's model for a completion. */
  createMessage(params: CreateMessageRequestParamsBase): Promise<CreateMessageResult>;
  /** elicitation/create: asks the user for input (form mode by default). */
  elicit(params: ElicitRequestFormParams | ElicitRequestURLParams): Promise<ElicitResult>;
}

/** Everything a handler may use. Built per call by the core; handlers never read process.env. */
export interface ToolContext<Config, Deps> {
  config: Readonly<Config>;
  deps: Deps;
  identity: Identity;
  transport: TransportKind;
  requestId: string;
  logger: ToolLogger;
  /** Fires on timeout (MCP_TOOL_TIMEOUT_MS), client cancellation, disconnect or shutdown. */
  signal: AbortSignal;
  /** Sends notifications/progress when the client asked for it (a progressToken); otherwise a no-op. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Sends an MCP log message (notifications/message) at or above the session's level; no-op on /rpc. */
  log(level: LogLevel, data: unknown): Promise<void>;
  /** The calling MCP session (sampling, elicitation); undefined on /rpc, which has no way back to the client. */
  session?: ClientSession;
}

/** A resource embedded in a tool result: text, or binary as base64 `blob`. */
export interface EmbeddedResourceContent {
  uri: string;
  mimeType?: string;
  text?: string;
  blob?: string;
}

/** The shape of a tool's result content when a handler wants to return more than JSON (images, audio, resources). */
export interface RichContent {
  type: 'text' | 'image' | 'audio' | 'resource';
  text?: string;
  data?: string;
  mimeType?: string;
  /** For type 'resource' (required there). */
  resource?: EmbeddedResourceContent;
}

/** A handler returns plain output; the core builds content + structuredContent from it. */
export interface ToolDefinition<
  Input extends z.ZodObject = z.ZodObject,
  Output extends z.ZodObject | undefined = z.ZodObject | undefined,
  Config = unknown,
  Deps = unknown,
  Toolset extends string = string,
> {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  input: Input;
  output?: Output;
  /**
   * Fixed, or computed once at start-up from the config when what the tool can do depends on it
   * (a SQL tool that can write only in read-write mode). MCP_READ_ONLY goes by the result.
   */
  annotations: ToolAnnotations | ((config: Readonly<Config>) => ToolAnnotations);
  /**
   * Extra content blocks that replace the JSON text block (e.g. an image). When set, the handler's
   * output still becomes structuredContent; `content(output)` decides what the model sees.
   */
  content?: (output: Output extends z.ZodObject ? z.infer<Output> : Record<string, unknown>) => RichContent[];
  handler: (
    input: z.infer<Input>,
    ctx: ToolContext<Config, Deps>,
  ) => Promise<Output extends z.ZodObject ? z.input<Output> : Record<string, unknown>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry stores tools of every input type
export type AnyToolDefinition = ToolDefinition<any, any, any, any, string>;

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Declares a tool. Checks the name at definition time so that a typo fails at import, not in production. */
export function defineTool<
  Input extends z.ZodObject,
  Output extends z.ZodObject | undefined = undefined,
  Config = unknown,
  Deps = unknown,
  Toolset extends string = string,
>(tool: ToolDefinition<Input, Output, Config, Deps, Toolset>): ToolDefinition<Input, Output, Config, Deps, Toolset> {
  if (!TOOL_NAME.test(tool.name)) {
    throw new Error(`Tool name "${tool.name}" must match ${TOOL_NAME.source} (snake_case, verb first)`);
  }
  if (tool.description.trim().length === 0) throw new Error(`Tool "${tool.name}" needs a description`);
  return tool;
}

export { TOOL_NAME };

/**
 * Binds defineTool to one service's config, dependencies and toolsets so that handlers get a typed
 * `ctx` without annotations, and a tool's toolset is checked against the declared ones:
 * `export const defineSqliteTool = toolDefiner<Config, Deps, keyof typeof toolsets>();`
 */
export function toolDefiner<Config, Deps, Toolset extends string = string>() {
  return <Input extends z.ZodObject, Output extends z.ZodObject | undefined = undefined>(
    tool: ToolDefinition<Input, Output, Config, Deps, Toolset>,
  ): ToolDefinition<Input, Output, Config, Deps, Toolset> => defineTool(tool);
}

const ATTACHED_CONTENT = Symbol('mcp-sse.attached-content');

/**
 * Returns `output` with content blocks attached beside it: the blocks become the result's `content`
 * while `output` alone becomes `structuredContent`. For payloads that must not be duplicated into
 * structuredContent, such as a file's base64 bytes. The blocks travel on a non-enumerable symbol,
 * so they never reach JSON.
 */
export function withContent<T extends object>(output: T, content: RichContent[]): T {
  Object.defineProperty(output, ATTACHED_CONTENT, { value: content, enumerable: false });
  return output;
}

/** The blocks attached by withContent, if any. */
export function attachedContent(output: object): RichContent[] | undefined {
  return (output as { [ATTACHED_CONTENT]?: RichContent[] })[ATTACHED_CONTENT];
}

/** The annotations a tool has under this config. */
export function resolveAnnotations(tool: AnyToolDefinition, config: unknown): ToolAnnotations {
  const { annotations } = tool as { annotations: ToolAnnotations | ((config: unknown) => ToolAnnotations) };
  return typeof annotations === 'function' ? annotations(config) : annotations;
}
