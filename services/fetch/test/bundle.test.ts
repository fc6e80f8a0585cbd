/**
 * The bundle the image runs (dist/main.bundle.js, scripts/bundle-service.mjs) as its own process with
 * plain node: the same tools as the sources (the reviewed tools/list), undici loaded on the first
 * request (CommonJS through a bundle's import(): its exports only as `default`), and a page turned
 * into Markdown in a conversion worker started from the worker entry's own bundle (the main thread
 * never loads the converters). The worker starts with the first fetch, not with the service (the
 * module probe watches its entry load).
 */
import { fileURLToPath } from 'node:url';

import {
  builtEntry,
  listedTools,
  moduleProbe,
  rpc,
  type ServiceProcess,
  startServiceProcess,
  toolsListOf,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { startServer, type TestServer } from './helpers/servers.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const READY_MS = 60_000;
const probe = moduleProbe();
const workerLoads = () => probe.loaded().filter((line) => line.includes('convert-worker.bundle.js'));
const PAGE = `<!doctype html><html><head><title>Bundled</title></head><body><article>
<h1>Served to the bundle</h1><p>A paragraph with <strong>bold</strong> words, long enough for the
readability pass to keep it as the article's body text.</p></article></body></html>`;

describe('the fetch service bundle (what the image runs)', () => {
  let site: TestServer;
  let proc: ServiceProcess;

  beforeAll(async () => {
    site = await startServer();
    site.route('/page', (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
    site.route('/robots.txt', (_req, res) => res.writeHead(404).end());
    proc = await startServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      // the page is on loopback, which the SSRF guard refuses unless told otherwise
      env: { FETCH_ALLOW_PRIVATE: 'true', ...probe.env },
      nodeArgs: probe.nodeArgs,
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    await site?.close();
    probe.remove();
  });

  it('serves the reviewed tools/list over /mcp', async () => {
    expect(await listedTools(proc.url)).toEqual(toolsListOf(service));
  });

  it('fetches a page through undici and converts it to Markdown in a worker', async () => {
    const url = `http://127.0.0.1:${site.port}/page`;
    // No worker yet: the probe saw the bundle load, and no conversion worker.
    expect(probe.loaded().some((line) => line.includes('main.bundle.js'))).toBe(true);
    expect(workerLoads()).toEqual([]);
    const { body } = await rpc(proc.url, 'tools/call', { name: 'fetch', arguments: { url } });
    expect(workerLoads().length).toBeGreaterThan(0);
    expect(body).not.toHaveProperty('result.isError');
    expect(body).toMatchObject({
      result: {
        structuredContent: {
          url,
          final_url: url,
          status: 200,
          content_type: 'text/html; charset=utf-8',
          format: 'markdown',
        },
      },
    });
    const content = (body as { result: { structuredContent: { content: string } } }).result.structuredContent.content;
    expect(content).toContain('## Served to the bundle');
    expect(content).toContain('**bold**');
    expect(site.hits.map((hit) => hit.path)).toContain('/page');
  });
});
