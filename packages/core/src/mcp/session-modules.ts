import type { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

import type { createSessionEngine } from './session-engine.js';

/** What a session needs and a stateless /rpc call or /health does not. */
export interface SessionModules {
  createSessionEngine: typeof createSessionEngine;
  SSEServerTransport: typeof SSEServerTransport;
  StreamableHTTPServerTransport: typeof StreamableHTTPServerTransport;
}

let loading: Promise<SessionModules> | undefined;
let loaded: SessionModules | undefined;

/**
 * The SDK's Server (with Ajv and zod-to-json-schema) and its two transports, loaded when the first
 * session opens rather than at start-up: they were a fifth of a service's start-up time and memory,
 * and a service that only answers /rpc and /health never needs them. A failure to load fails that
 * request (logged, 500) and the next one tries again.
 */
export function loadSessionModules(): Promise<SessionModules> {
  loading ??= Promise.all([
    import('./session-engine.js'),
    import('@modelcontextprotocol/sdk/server/sse.js'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
  ]).then(
    ([engine, sse, streamable]) => {
      loaded = {
        createSessionEngine: engine.createSessionEngine,
        SSEServerTransport: sse.SSEServerTransport,
        StreamableHTTPServerTransport: streamable.StreamableHTTPServerTransport,
      };
      return loaded;
    },
    (error: unknown) => {
      loading = undefined;
      throw new Error(`cannot load the MCP session modules: ${(error as Error).message}`, { cause: error });
    },
  );
  return loading;
}

/** The session modules, once loadSessionModules() has resolved (every session route awaits it first). */
export function sessionModules(): SessionModules {
  if (!loaded) throw new Error('the MCP session modules are not loaded yet (await loadSessionModules() first)');
  return loaded;
}
