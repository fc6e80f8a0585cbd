/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings:
 * URLs naming private and special addresses in every spelling, confusables, NUL, long text; and
 * ill-shaped), sent through a real MCP client to the service run as a real process. Private
 * addresses are not allowed (FETCH_ALLOW_PRIVATE is unset); only the name `localhost` is listed in
 * FETCH_ALLOWED_HOSTS, so that a local site serves real pages (and redirects to the trap). A trap
 * server on 127.0.0.2, which every generated spelling of a private address can reach, must receive
 * no request at all; the process stays alive and /health 200. FUZZ_RUNS / FUZZ_SEED: see the README.
 */
import { fuzzService, fuzzSettings, PRIVATE_URLS, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { html, startServer, type TestServer } from './helpers/servers.js';

const FILE = 'services/fetch/test/tools.fuzz.test.ts';
const settings = fuzzSettings(8);
const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

describe('fetch tools under fuzzing', () => {
  let site: TestServer;
  let trap: TestServer;

  beforeAll(async () => {
    site = await startServer();
    trap = await startServer({ host: '127.0.0.2' });
    const trapUrl = `http://127.0.0.2:${trap.port}/`;
    site.route(
      '/page',
      html('<html><head><title>T</title></head><body><article><p>Hello fuzz</p></article></body></html>'),
    );
    site.route('/redirect-private', (_req, res) => res.writeHead(302, { location: trapUrl }).end());
    site.route('/redirect-decimal', (_req, res) =>
      res.writeHead(302, { location: `http://2130706434:${trap.port}/` }).end(),
    );
    site.route('/redirect-loop', (_req, res) => res.writeHead(302, { location: '/redirect-loop' }).end());
    site.route('/json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":[1,2,3]}'));
    site.route('/binary', (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(2048, 0xff)),
    );
  });
  afterAll(async () => {
    await site?.close();
    await trap?.close();
  });

  it('every tool answers in time, the process stays healthy, and no private address is ever reached', async () => {
    const local = `http://localhost:${site.port}`;
    const trapSpellings = [
      `http://127.0.0.2:${trap.port}/`,
      `http://2130706434:${trap.port}/`,
      `http://0x7f000002:${trap.port}/`,
      `http://0177.0.0.2:${trap.port}/`,
      `http://127.2:${trap.port}/`,
      `http://[::ffff:127.0.0.2]:${trap.port}/`,
      `http://[::ffff:7f00:2]:${trap.port}/`,
      `http://localhost@127.0.0.2:${trap.port}/`,
      `http://127.0.0.2:${trap.port}#@localhost:${site.port}/`,
    ];
    const urls = [
      `${local}/page`,
      `${local}/json`,
      `${local}/binary`,
      `${local}/missing`,
      `${local}/redirect-private`,
      `${local}/redirect-decimal`,
      `${local}/redirect-loop`,
      ...trapSpellings,
      ...PRIVATE_URLS,
    ];
    const proc = await startServiceProcess(ENTRY, {
      env: {
        FETCH_ALLOWED_HOSTS: 'localhost',
        FETCH_IGNORE_ROBOTS: 'true',
        FETCH_TIMEOUT_MS: '5000',
        MCP_RATE_LIMIT: '0',
        MCP_TOOL_TIMEOUT_MS: '10000',
      },
    });
    try {
      const { summary } = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints: { known: { url: urls, urls: [urls.slice(0, 3), trapSpellings, urls] } },
        dump: async () => ({ trapHits: trap.hits.map((hit) => `${hit.method} ${hit.path}`) }),
      });
      console.info(`fetch: ${summary}`);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 180_000);
});
