import { freePort, type Pinning, startServer } from '../processes.js';
import { CORE_PATHS, perCallWorker, requestWorker, sessionWorker, type Target, type ToolCall } from '../targets.js';

/**
 * The trivial `echo` tool over the core's /sse, /mcp and /rpc, next to the ceiling (bare node:http
 * echo) and the SDK's own McpServer on node:http (legacy SSE and Streamable HTTP).
 */
export interface SectionContext {
  root: string;
  pinning: Pinning;
  /** Extra node flags for every server process (--cpu-prof when profiling). */
  nodeFlags: string[];
}

const message = 'hello from the bench';

export const echoCall: ToolCall = {
  name: 'echo',
  args: { message },
  check(result) {
    const structured = result['structuredContent'] as { message?: unknown } | undefined;
    if (structured?.message !== message)
      throw new Error(`echo: unexpected result ${JSON.stringify(result).slice(0, 200)}`);
  },
};

/**
 * A server process started with this node from the repository root, on a free port given as PORT
 * (or by `args(port)`), logs to /dev/null. `args` are node's arguments after the shared flags.
 */
export function processServer(
  ctx: SectionContext,
  name: string,
  args: (port: number) => string[],
  env: Record<string, string> = {},
  startTimeoutMs?: number,
) {
  return async () => {
    const port = await freePort();
    return startServer({
      name,
      command: process.execPath,
      args: [...ctx.nodeFlags, ...args(port)],
      cwd: ctx.root,
      env: { PORT: String(port), HOST: '127.0.0.1', ...env },
      port,
      pinning: ctx.pinning,
      ...(startTimeoutMs ? { startTimeoutMs } : {}),
    });
  };
}

/** The core section's servers all run the same way: `node --import tsx <file>`. */
export function nodeServer(ctx: SectionContext, name: string, file: string, env: Record<string, string> = {}) {
  return processServer(ctx, name, () => ['--import', 'tsx', file], env);
}

/** Core settings for the bench: the audit line still written (info, unless BENCH_LOG_LEVEL says otherwise), limits out of the way. */
export const coreEnv = {
  LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'info',
  MCP_RATE_LIMIT: '0',
  // the per-address cap on new sessions (600 a minute) would answer the session-per-call targets 429
  MCP_SESSION_RATE_LIMIT: '0',
  MCP_MAX_SESSIONS: '100000',
};

/** Groups of targets compared with each other; the members of a group take turns. */
export function coreTargets(ctx: SectionContext): Target[][] {
  const section = 'core';
  const core = nodeServer(ctx, 'core', 'bench/src/serve-core.ts', coreEnv);
  const sdk = nodeServer(ctx, 'sdk', 'bench/src/serve-sdk.ts');
  const echo = nodeServer(ctx, 'echo', 'bench/src/serve-echo.ts');
  return [
    [
      {
        id: 'echo/http/request',
        section,
        label: 'bare node:http echo',
        transport: 'http',
        shape: 'request',
        start: echo,
        createWorker: requestWorker('/', echoCall),
      },
      {
        id: 'core/rpc/request',
        section,
        label: 'core /rpc',
        transport: 'rpc',
        shape: 'request',
        start: core,
        createWorker: requestWorker(CORE_PATHS.rpc, echoCall),
      },
    ],
    ...(['session', 'per-call'] as const).flatMap((shape): Target[][] => {
      const worker = shape === 'session' ? sessionWorker : perCallWorker;
      return [
        [
          {
            id: `core/sse/${shape}`,
            section,
            label: 'core /sse',
            transport: 'sse',
            shape,
            start: core,
            createWorker: worker('sse', CORE_PATHS, echoCall),
          },
          {
            id: `sdk/sse/${shape}`,
            section,
            label: 'SDK McpServer SSE',
            transport: 'sse',
            shape,
            start: sdk,
            createWorker: worker('sse', CORE_PATHS, echoCall),
          },
        ],
        [
          {
            id: `core/streamable-http/${shape}`,
            section,
            label: 'core /mcp',
            transport: 'streamable-http',
            shape,
            start: core,
            createWorker: worker('streamable-http', CORE_PATHS, echoCall),
          },
          {
            id: `sdk/streamable-http/${shape}`,
            section,
            label: 'SDK McpServer streamable',
            transport: 'streamable-http',
            shape,
            start: sdk,
            createWorker: worker('streamable-http', CORE_PATHS, echoCall),
          },
        ],
      ];
    }),
  ];
}
