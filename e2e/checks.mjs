// The checks of scripts/e2e.sh that talk MCP or read YAML. Each prints `ok - …` or `not ok - …` lines
// (scripts/e2e.sh counts them) and exits 1 when any failed.
//
//   node e2e/checks.mjs registry <compose-config.yml>   docker-compose.yml agrees with config/services.yaml
//   node e2e/checks.mjs tools                           every running service, over /sse and /mcp
//   node e2e/checks.mjs sqlite-write <marker>           a row written through mcp-sqlite
//   node e2e/checks.mjs sqlite-read <marker>            ... and read back (after a restart)
//   node e2e/checks.mjs auth <service...>               POST /rpc: 401 without MCP_API_KEY, 200 with it
//
// Environment: E2E_URLS (JSON {service: "http://127.0.0.1:port"}), MCP_API_KEY, E2E_WORKSPACE_DIR and
// E2E_SHARED_DIR (host folders mounted at /workspace and /shared), E2E_CONTAINER_PREFIX, E2E_RUN_ID
// (names what the run writes: memories, the databases server), E2E_DATABASES_SERVER (the one server of
// mcp-databases' servers file).
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { connect, resultData, TRANSPORTS } from '../scripts/lib/mcp-client.mjs';

const ROOT = new URL('../', import.meta.url);
/** Services e2e/docker-compose.e2e.yml adds beside the registry's: the GitHub API stand-in. */
const STAND_INS = ['github-api'];
const REGISTRY = parse(readFileSync(new URL('config/services.yaml', ROOT), 'utf8')).services;
let failures = 0;
/** Checks that run side by side write their lines here, printed in order once all are done. */
const outputOf = new AsyncLocalStorage();

function report(passed, description, detail) {
  if (!passed) failures++;
  const line = passed ? `ok - ${description}\n` : `not ok - ${description}${detail ? `: ${detail}` : ''}\n`;
  const lines = outputOf.getStore();
  if (lines) lines.push(line);
  else process.stdout.write(line);
}

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function services() {
  return JSON.parse(env('E2E_URLS'));
}

function short(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Calls a tool; returns its data, or throws with the tool's error text. */
async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 30_000 });
  const data = resultData(result);
  if (result.isError) throw new Error(`${name} answered isError: ${short(data)}`);
  return data;
}

/** Calls a tool that must refuse; returns the refusal text. */
async function callRefused(client, name, args) {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 30_000 });
  const data = resultData(result);
  if (!result.isError) throw new Error(`${name} succeeded but should have been refused: ${short(data)}`);
  return typeof data === 'string' ? data : JSON.stringify(data);
}

async function step(description, fn) {
  try {
    const detail = await fn();
    report(true, detail ? `${description} (${detail})` : description);
  } catch (error) {
    report(false, description, error instanceof Error ? error.message : String(error));
  }
}

// ---------------------------------------------------------------------------------------------
// registry: the compose file has exactly the registry's services, ports, names and networks

function publishedPorts(service) {
  // v1 prints "127.0.0.1:18006:8006/tcp"; v2 prints {host_ip, published, target}
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'string') {
      const [spec] = port.split('/');
      const parts = spec.split(':');
      return {
        host_ip: parts.length === 3 ? parts[0] : '',
        published: Number(parts.at(-2)),
        target: Number(parts.at(-1)),
      };
    }
    return { host_ip: port.host_ip ?? '', published: Number(port.published), target: Number(port.target) };
  });
}

function checkRegistry(configFile) {
  const compose = parse(readFileSync(configFile, 'utf8'));
  const registry = REGISTRY;
  const networksRegistry = parse(readFileSync(new URL('config/networks.yaml', ROOT), 'utf8')).networks;
  const prefix = process.env.E2E_CONTAINER_PREFIX ?? 'mcp-';
  const urls = services();
  const composeNames = Object.keys(compose.services ?? {})
    .filter((name) => !STAND_INS.includes(name))
    .sort();
  const registryNames = registry.map((entry) => `mcp-${entry.name}`).sort();
  report(
    JSON.stringify(composeNames) === JSON.stringify(registryNames),
    'docker-compose.yml has one service per config/services.yaml entry',
    `compose ${composeNames.join(',')} vs registry ${registryNames.join(',')}`,
  );
  for (const entry of registry) {
    const service = compose.services?.[`mcp-${entry.name}`];
    if (!service) continue;
    const ports = publishedPorts(service);
    const expectedHostPort = Number(new URL(urls[entry.name] ?? `http://127.0.0.1:${entry.port}`).port);
    report(
      ports.length === 1 &&
        ports[0].host_ip === '127.0.0.1' &&
        ports[0].target === Number(entry.port) &&
        ports[0].published === expectedHostPort,
      `mcp-${entry.name} publishes container port ${entry.port} on 127.0.0.1:${expectedHostPort} only`,
      JSON.stringify(ports),
    );
    report(
      service.container_name === `${prefix}${entry.name}`,
      `mcp-${entry.name} container name is ${prefix}${entry.name}`,
      service.container_name,
    );
    report(
      String(service.environment?.PORT) === String(entry.port),
      `mcp-${entry.name} listens on PORT=${entry.port}`,
      String(service.environment?.PORT),
    );
    const wanted = String(entry.networks).split(/\s+/).sort();
    const actual = (Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {})).sort();
    report(
      JSON.stringify(wanted) === JSON.stringify(actual),
      `mcp-${entry.name} joins ${wanted.join(' + ')}`,
      actual.join(','),
    );
    const build = service.build ?? {};
    report(
      String(build.dockerfile ?? '').endsWith('Dockerfile.service') &&
        build.args?.SERVICE === entry.name &&
        String(build.args?.PORT) === String(entry.port),
      `mcp-${entry.name} is built from Dockerfile.service with SERVICE=${entry.name} PORT=${entry.port}`,
      JSON.stringify({ dockerfile: build.dockerfile, args: build.args }),
    );
    report(
      service.image?.startsWith(`${entry.image}:`),
      `mcp-${entry.name} image is ${entry.image}:<tag>`,
      service.image,
    );
    report(
      service.read_only === true && (service.cap_drop ?? []).includes('ALL') && Boolean(service.healthcheck),
      `mcp-${entry.name} is read-only, drops every capability and has a healthcheck`,
    );
  }
  for (const network of networksRegistry) {
    report(compose.networks?.[network.name]?.external === true, `network ${network.name} is external`);
  }
}

// ---------------------------------------------------------------------------------------------
// tools: at least one tool of every running service, through both transports

const flows = {
  async sqlite(client, transport) {
    const table = `e2e_${transport.replace('-', '_')}`;
    await step(`sqlite/${transport}: create_table, insert_record, query_records round trip`, async () => {
      await call(client, 'create_table', {
        table_name: table,
        schema: { id: 'INTEGER PRIMARY KEY', note: 'TEXT NOT NULL' },
      });
      await call(client, 'insert_record', { table_name: table, data: { note: `hello over ${transport}` } });
      const { rows } = await call(client, 'query_records', { table_name: table });
      if (rows.length !== 1 || rows[0].note !== `hello over ${transport}`) throw new Error(`rows: ${short(rows)}`);
      return `${rows.length} row`;
    });
    await step(`sqlite/${transport}: a write through execute_raw_query's read-only mode is refused`, async () => {
      const text = await callRefused(client, 'execute_raw_query', { query: `DELETE FROM ${table}`, read_only: true });
      const { rows } = await call(client, 'query_records', { table_name: table });
      if (rows.length !== 1) throw new Error(`the table changed: ${short(rows)}`);
      return short(text).slice(0, 80);
    });
  },

  async postgres(client, transport) {
    await step(`postgres/${transport}: execute_sql runs a query on the real server`, async () => {
      const data = await call(client, 'execute_sql', { sql: 'SELECT current_database() AS db, 1 + 1 AS two' });
      const row = data.rows?.[0];
      if (Number(row?.two) !== 2) throw new Error(`rows: ${short(data.rows)}`);
      return `database ${row.db}`;
    });
    await step(`postgres/${transport}: list_schemas includes public`, async () => {
      const data = await call(client, 'list_schemas', {});
      if (!JSON.stringify(data).includes('"public"')) throw new Error(short(data));
    });
  },

  async fetch(client, transport) {
    const port = REGISTRY.find((entry) => entry.name === 'fetch').port;
    await step(`fetch/${transport}: fetches its own /health over the container's loopback`, async () => {
      const data = await call(client, 'fetch', { url: `http://127.0.0.1:${port}/health` });
      if (data.status !== 200 || !String(data.content).includes('healthy')) throw new Error(short(data));
      return `HTTP ${data.status}, ${data.total_length} chars`;
    });
    await step(`fetch/${transport}: a loopback address outside FETCH_ALLOWED_HOSTS is refused`, async () => {
      const text = await callRefused(client, 'fetch', { url: 'http://127.0.0.2:9/' });
      return short(text).slice(0, 80);
    });
  },

  async filesystem(client, transport) {
    const workspace = env('E2E_WORKSPACE_DIR');
    const shared = env('E2E_SHARED_DIR');
    await step(`filesystem/${transport}: list_allowed_directories shows /workspace ro and /shared rw`, async () => {
      const { directories } = await call(client, 'list_allowed_directories', {});
      const modes = Object.fromEntries(directories.map((d) => [d.path, d.mode]));
      if (modes['/workspace'] !== 'ro' || modes['/shared'] !== 'rw') throw new Error(short(directories));
    });
    await step(`filesystem/${transport}: read_file returns the host file mounted at /workspace`, async () => {
      const data = await call(client, 'read_file', { path: '/workspace/hello.txt' });
      const expected = readFileSync(join(workspace, 'hello.txt'), 'utf8');
      if (data.content !== expected) throw new Error(short(data));
    });
    await step(`filesystem/${transport}: write_file to /shared lands in the host folder`, async () => {
      const content = `written over ${transport}\n`;
      await call(client, 'write_file', { path: `/shared/e2e-${transport}.txt`, content });
      const onHost = readFileSync(join(shared, `e2e-${transport}.txt`), 'utf8');
      if (onHost !== content) throw new Error(`host file holds ${short(onHost)}`);
    });
    await step(`filesystem/${transport}: write_file to the read-only /workspace is refused`, async () => {
      const text = await callRefused(client, 'write_file', { path: `/workspace/e2e-${transport}.txt`, content: 'x' });
      if (existsSync(join(workspace, `e2e-${transport}.txt`))) throw new Error('the file was created anyway');
      return short(text).slice(0, 80);
    });
  },

  async github(client, transport) {
    await step(
      `github/${transport}: get_me answers from the GitHub stand-in (GITHUB_API_URL), with the token`,
      async () => {
        const data = await call(client, 'get_me', {});
        if (data.login !== 'octo-bot') throw new Error(short(data));
        return `login ${data.login}`;
      },
    );
    await step(`github/${transport}: get_repository octo-org/hello`, async () => {
      const data = await call(client, 'get_repository', { owner: 'octo-org', repo: 'hello' });
      if (data.full_name !== 'octo-org/hello') throw new Error(short(data));
    });
    await step(`github/${transport}: a path with ".." is refused before any request`, async () => {
      const text = await callRefused(client, 'get_file_contents', {
        owner: 'octo-org',
        repo: 'hello',
        path: '../../etc/passwd',
      });
      if (!text.includes('..')) throw new Error(short(text));
      return short(text).slice(0, 80);
    });
  },

  async monitoring(client, transport) {
    const prefix = env('E2E_CONTAINER_PREFIX');
    await step(
      `monitoring/${transport}: list_containers shows this run's containers (through the socket)`,
      async () => {
        const { containers } = await call(client, 'list_containers', { name: prefix });
        const names = containers.map((c) => c.name.replace(/^\//, ''));
        const wanted = Object.keys(services()).map((name) => `${prefix}${name}`);
        const missing = wanted.filter((name) => !names.includes(name));
        if (missing.length > 0) throw new Error(`missing ${missing.join(', ')} in ${short(names)}`);
        return `${names.length} containers`;
      },
    );
    await step(`monitoring/${transport}: inspect_container ${prefix}monitoring: itself, running`, async () => {
      const data = await call(client, 'inspect_container', { container: `${prefix}monitoring` });
      if (data.state?.running !== true) throw new Error(short(data));
    });
    await step(`monitoring/${transport}: a container reference with a path in it is refused`, async () => {
      const text = await callRefused(client, 'inspect_container', { container: '../../containers/json' });
      return short(text).slice(0, 80);
    });
  },

  async memory(client, transport) {
    const run = env('E2E_RUN_ID');
    const tag = `e2e-${run}-${transport}`;
    const content = `The e2e run ${run} deploys on Tuesdays over ${transport}`;
    let hash;
    await step(`memory/${transport}: memory_store, then memory_search finds it by meaning`, async () => {
      const stored = await call(client, 'memory_store', { content, tags: [tag] });
      hash = stored.hash;
      const found = await call(client, 'memory_search', { query: `when does run ${run} deploy`, tags: [tag] });
      if (found.results?.[0]?.hash !== hash) throw new Error(short(found));
      return `score ${found.results[0].score.toFixed(2)}`;
    });
    await step(`memory/${transport}: a delete by tag without confirm=true is refused, the memory stays`, async () => {
      const text = await callRefused(client, 'memory_delete', { tags: [tag] });
      const { memory } = await call(client, 'memory_get', { hash });
      if (memory?.content !== content) throw new Error(`the memory changed: ${short(memory)}`);
      return short(text).slice(0, 80);
    });
  },

  async databases(client, transport) {
    const server = env('E2E_DATABASES_SERVER');
    await step(`databases/${transport}: list_servers shows ${server}: postgres, read-only, up`, async () => {
      const data = await call(client, 'list_servers', {});
      const entry = (data.servers ?? []).find((s) => s.server === server);
      if (entry?.engine !== 'postgres' || entry.access !== 'read_only' || entry.health !== 'up') {
        throw new Error(short(data));
      }
    });
    await step(`databases/${transport}: execute_sql runs on the real server`, async () => {
      const data = await call(client, 'execute_sql', {
        server,
        database: 'test',
        sql: 'SELECT current_database() AS db, 1 + 1 AS two',
      });
      const row = data.rows?.[0];
      if (Number(row?.two ?? row?.[1]) !== 2) throw new Error(short(data));
      return `database ${row.db ?? row[0]}`;
    });
    await step(`databases/${transport}: a write on the read-only server is refused`, async () => {
      const table = `e2e_${env('E2E_RUN_ID')}_${transport.replace('-', '_')}`;
      const text = await callRefused(client, 'execute_sql', {
        server,
        database: 'test',
        sql: `CREATE TABLE ${table} (id int)`,
      });
      return short(text).slice(0, 80);
    });
  },
};

/**
 * A service without a flow of its own (a new one): its registry smoke test, the call scripts/test_service.sh
 * makes, over this transport. A flow in `flows` that checks what the tools do is better; this keeps a
 * new service covered from the day its registry entry lands.
 */
function smokeFlow(name) {
  const entry = REGISTRY.find((e) => e.name === name);
  return async (client, transport) => {
    await step(
      `${name}/${transport}: smoke test ${entry.smoke_tool} (no flow of its own in e2e/checks.mjs)`,
      async () => {
        const args = JSON.parse(String(entry.smoke_args ?? '{}').replaceAll('$PORT', String(entry.port)));
        const result = await client.callTool({ name: entry.smoke_tool, arguments: args }, undefined, {
          timeout: 30_000,
        });
        const text = JSON.stringify({ isError: result.isError === true, data: resultData(result) }, null, 2);
        if (entry.smoke_expect ? !new RegExp(entry.smoke_expect).test(text) : result.isError)
          throw new Error(short(text));
      },
    );
  };
}

async function checkAuth(names) {
  const apiKey = env('MCP_API_KEY');
  const urls = services();
  for (const name of names) {
    await step(`${name}: POST /rpc answers 401 without a key and 200 with the key from the secrets file`, async () => {
      const statuses = [];
      for (const headers of [{}, { authorization: `Bearer ${apiKey}` }]) {
        const response = await fetch(`${urls[name]}/rpc`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
      if (statuses[0] !== 401 || statuses[1] !== 200) throw new Error(`HTTP ${statuses.join(' then ')}`);
    });
  }
}

// Every service at once (each one's checks in order; the services share nothing), their lines
// printed service by service as before.
async function checkTools() {
  const outputs = await Promise.all(
    Object.entries(services()).map(async ([name, url]) => {
      const lines = [];
      await outputOf.run(lines, () => checkServiceTools(name, url));
      return lines;
    }),
  );
  for (const lines of outputs) process.stdout.write(lines.join(''));
}

async function checkServiceTools(name, url) {
  const apiKey = process.env.MCP_API_KEY;
  await step(`${name}: POST /rpc without the API key is refused with 401`, async () => {
    const response = await fetch(`${url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status !== 401) throw new Error(`HTTP ${response.status}`);
  });
  for (const transport of TRANSPORTS) {
    let client;
    try {
      client = await connect(url, transport, { apiKey, timeoutMs: 20_000 });
    } catch (error) {
      report(false, `${name}/${transport}: connect`, error instanceof Error ? error.message : String(error));
      continue;
    }
    try {
      await step(`${name}/${transport}: initialize and tools/list`, async () => {
        const { tools } = await client.listTools(undefined, { timeout: 20_000 });
        const server = client.getServerVersion();
        if (server?.name !== `mcp-${name}` && server?.name !== name) throw new Error(`server ${server?.name}`);
        if (tools.length === 0) throw new Error('no tools');
        return `${server.name} ${server.version}, ${tools.length} tools`;
      });
      const flow = flows[name] ?? smokeFlow(name);
      await flow(client, transport);
    } finally {
      await client.close();
    }
  }
}

async function sqlitePersistence(mode, marker) {
  const url = services().sqlite;
  if (!url) throw new Error('E2E_URLS has no sqlite');
  const client = await connect(url, 'streamable-http', { apiKey: process.env.MCP_API_KEY });
  try {
    if (mode === 'write') {
      await step(`sqlite: wrote marker ${marker} to e2e_persist`, async () => {
        await call(client, 'create_table', { table_name: 'e2e_persist', schema: { marker: 'TEXT NOT NULL' } });
        await call(client, 'insert_record', { table_name: 'e2e_persist', data: { marker } });
      });
    } else {
      await step(`sqlite: marker ${marker} read back from e2e_persist`, async () => {
        const { rows } = await call(client, 'query_records', { table_name: 'e2e_persist', filters: { marker } });
        if (rows.length !== 1) throw new Error(`rows: ${short(rows)}`);
      });
    }
  } finally {
    await client.close();
  }
}

const [command, argument, ...rest] = process.argv.slice(2);
try {
  if (command === 'registry' && argument) checkRegistry(argument);
  else if (command === 'tools') await checkTools();
  else if (command === 'auth' && argument) await checkAuth([argument, ...rest]);
  else if ((command === 'sqlite-write' || command === 'sqlite-read') && argument)
    await sqlitePersistence(command.slice('sqlite-'.length), argument);
  else {
    process.stderr.write(
      'usage: checks.mjs registry <file> | tools | sqlite-write <marker> | sqlite-read <marker> | auth <service...>\n',
    );
    process.exit(2);
  }
} catch (error) {
  report(false, `${command}`, error instanceof Error ? error.message : String(error));
}
process.exit(failures === 0 ? 0 : 1);
