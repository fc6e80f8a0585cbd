import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export type ClientTransportKind = 'sse' | 'streamable-http';

export interface ConnectOptions {
  headers?: Record<string, string>;
  name?: string;
  /** The fetch the transport uses (e.g. one that records each response's status). */
  fetch?: typeof fetch;
}

/** Connects the official SDK client to a running service over /sse or /mcp. */
export async function connectClient(
  baseUrl: string,
  kind: ClientTransportKind,
  options: ConnectOptions = {},
): Promise<Client> {
  const client = new Client({ name: options.name ?? 'mcp-sse-test', version: '1.0.0' });
  const headers = options.headers ?? {};
  const fetchImpl = options.fetch ?? fetch;
  const custom = options.fetch === undefined ? {} : { fetch: options.fetch };
  const transport =
    kind === 'sse'
      ? new SSEClientTransport(new URL('/sse', baseUrl), {
          requestInit: { headers },
          ...custom,
          eventSourceInit: {
            fetch: (url, init) =>
              fetchImpl(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
          },
        })
      : new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { requestInit: { headers }, ...custom });
  await client.connect(transport);
  return client;
}
