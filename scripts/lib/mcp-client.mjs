// The official MCP SDK client, connected to a running service over /sse or /mcp. Used by
// scripts/test_service.sh (as a command) and by e2e/ (as a module).
//
//   node scripts/lib/mcp-client.mjs --url http://127.0.0.1:8006 --transport sse list
//   node scripts/lib/mcp-client.mjs --url http://127.0.0.1:8006 --transport streamable-http call list_tables '{}'
//
// Options: --api-key KEY (or MCP_API_KEY) sends `Authorization: Bearer KEY`; --timeout MS (default 20000).
// Prints one JSON document; exit 0, or 1 on a failed connection or an isError result, 2 on bad usage.
//
// The SDK is not a dependency of the repository root: it is resolved from the workspace packages that
// depend on it, so `pnpm install` must have run.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function resolveSdk(subpath) {
  for (const from of ['packages/testing/package.json', 'packages/core/package.json']) {
    try {
      return pathToFileURL(createRequire(ROOT + from).resolve(`@modelcontextprotocol/sdk/${subpath}`)).href;
    } catch {
      // try the next package
    }
  }
  throw new Error(`cannot resolve @modelcontextprotocol/sdk/${subpath}: run \`pnpm install\` in ${ROOT}`);
}

const [{ Client }, { SSEClientTransport }, { StreamableHTTPClientTransport }] = await Promise.all([
  import(resolveSdk('client/index.js')),
  import(resolveSdk('client/sse.js')),
  import(resolveSdk('client/streamableHttp.js')),
]);

export const TRANSPORTS = ['sse', 'streamable-http'];

/**
 * Connects a new SDK client. `transport` is 'sse' (GET /sse + POST /messages) or 'streamable-http' (/mcp).
 * @param {string} baseUrl e.g. http://127.0.0.1:8006
 * @param {'sse' | 'streamable-http'} transport
 * @param {{ apiKey?: string, timeoutMs?: number }} [options]
 */
export async function connect(baseUrl, transport, options = {}) {
  const headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const client = new Client({ name: 'mcp-sse-ops', version: '1.0.0' });
  let clientTransport;
  if (transport === 'sse') {
    clientTransport = new SSEClientTransport(new URL('/sse', baseUrl), {
      requestInit: { headers },
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }) },
    });
  } else if (transport === 'streamable-http') {
    clientTransport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { requestInit: { headers } });
  } else {
    throw new Error(`unknown transport "${transport}" (use ${TRANSPORTS.join(' or ')})`);
  }
  await client.connect(clientTransport, { timeout: options.timeoutMs ?? 20_000 });
  return client;
}

/** The JSON a tool result stands for: structuredContent, else its text blocks (parsed when they are JSON). */
export function resultData(result) {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const texts = (result.content ?? []).filter((block) => block.type === 'text').map((block) => block.text);
  const text = texts.join('\n');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function usage(message) {
  process.stderr.write(
    `${message}\nusage: mcp-client.mjs --url URL --transport sse|streamable-http [--api-key KEY] [--timeout MS] list | call TOOL [JSON]\n`,
  );
  process.exit(2);
}

async function main(argv) {
  const options = { apiKey: process.env.MCP_API_KEY || undefined, timeoutMs: 20_000 };
  let url;
  let transport = 'streamable-http';
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--url') url = argv[++i];
    else if (arg === '--transport') transport = argv[++i];
    else if (arg === '--api-key') options.apiKey = argv[++i];
    else if (arg === '--timeout') options.timeoutMs = Number(argv[++i]);
    else rest.push(arg);
  }
  if (!url) usage('--url is required');
  if (!TRANSPORTS.includes(transport)) usage(`unknown transport "${transport}"`);
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) usage('--timeout needs milliseconds');
  const [command, tool, json] = rest;
  if (command !== 'list' && command !== 'call') usage('a command is required: list or call');
  if (command === 'call' && !tool) usage('call needs a tool name');
  let args = {};
  if (json !== undefined) {
    try {
      args = JSON.parse(json);
    } catch {
      usage(`the arguments are not JSON: ${json}`);
    }
  }

  const client = await connect(url, transport, options);
  try {
    if (command === 'list') {
      const { tools } = await client.listTools(undefined, { timeout: options.timeoutMs });
      const server = client.getServerVersion();
      process.stdout.write(
        `${JSON.stringify({ server, transport, tools: tools.map((t) => ({ name: t.name, title: t.title, readOnly: t.annotations?.readOnlyHint })) }, null, 2)}\n`,
      );
      return 0;
    }
    const result = await client.callTool({ name: tool, arguments: args }, undefined, { timeout: options.timeoutMs });
    process.stdout.write(
      `${JSON.stringify({ transport, tool, isError: result.isError === true, data: resultData(result) }, null, 2)}\n`,
    );
    return result.isError === true ? 1 : 0;
  } finally {
    await client.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`mcp-client: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
