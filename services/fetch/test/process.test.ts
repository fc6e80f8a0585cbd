/**
 * The fetch service as its own process (as in its container), against hostile pages served by a
 * local server: `/health` keeps answering within a second while they are fetched and converted,
 * and resident memory stays under the container limit (512 MB, docker-compose.yml) while several
 * fetch_many calls at once each produce the largest answer allowed. The process reaches the local
 * server through FETCH_ALLOW_PRIVATE=true (the SSRF rules themselves are tested in
 * ssrf-guard.test.ts and service.test.ts).
 */
import { probeResponsiveness, rpcCallTool, type ServiceProcess, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './helpers/servers.js';

const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;
const CONTAINER_LIMIT = 512 * 1024 * 1024;
const RESULT_BYTES = 4 * 1024 * 1024;
const BODY_CAP = 5 * 1024 * 1024;

/** Hostile pages, each cut to the body cap as the service would read it anyway. */
const PAGES: Record<string, string> = {
  '/nested': `${'<div>'.repeat(400_000)}deep${'</div>'.repeat(400_000)}`,
  '/unclosed': `${'<b>'.repeat(500_000)}bold`,
  '/attributes': `<p ${Array.from({ length: 300_000 }, (_, i) => `a${i}="v"`).join(' ')}>x</p>`,
  '/table': `<table>${`<tr>${'<td>c</td>'.repeat(1000)}</tr>`.repeat(450)}</table>`,
  '/article':
    '<div class="c"><p>Some <a href="/x">link</a> and <b>bold</b>.</p><ul><li>a</li><li><i>b</i></li></ul></div>'.repeat(
      40_000,
    ),
  '/json': `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`,
  // Control characters weigh six bytes each in JSON: a million characters of this are 6 MB of answer.
  '/text': `"quoted" \\ ${'\u0001'.repeat(40)}\n`.repeat(120_000),
};

describe('fetch as a process', () => {
  let site: TestServer;
  let proc: ServiceProcess | undefined;

  const start = async () => {
    await proc?.stop();
    proc = await startServiceProcess(ENTRY, {
      env: {
        FETCH_ALLOW_PRIVATE: 'true',
        FETCH_MAX_URLS: '40',
        MCP_MAX_RESULT_BYTES: String(RESULT_BYTES),
        MCP_TOOL_TIMEOUT_MS: '50000',
      },
    });
    return proc;
  };

  const urlOf = (path: string) => `http://127.0.0.1:${site.port}${path}`;

  beforeAll(async () => {
    site = await startServer();
    for (const [path, body] of Object.entries(PAGES)) {
      const type = path === '/json' ? 'application/json' : path === '/text' ? 'text/plain' : 'text/html';
      const bytes = Buffer.from(body).subarray(0, BODY_CAP + 1024);
      site.route(path, (_req, res) => res.writeHead(200, { 'content-type': type }).end(bytes));
    }
  });

  afterAll(async () => {
    await proc?.stop();
    await site.close();
  });

  it('keeps answering /health while hostile pages are fetched and converted', async () => {
    const proc = await start();
    const probe = probeResponsiveness(proc.url);
    const calls = await Promise.all([
      rpcCallTool(proc.url, 'fetch_many', { urls: Object.keys(PAGES).map(urlOf) }),
      ...['/nested', '/table', '/article'].map((path) =>
        rpcCallTool(proc.url, 'fetch', { url: urlOf(path), format: 'text' }),
      ),
      rpcCallTool(proc.url, 'fetch', { url: urlOf('/json'), format: 'json' }),
    ]);
    const report = await probe.stop();
    console.info(`fetch: /health answered ${report.polls} times, slowest ${report.maxMs.toFixed(0)} ms`);
    // A conversion may run out of its time budget on a machine this busy: then it says so, clearly.
    for (const call of calls) {
      if (call.isError) expect(call.text).toMatch(/^converting the page took longer than .* try format "raw"/);
    }
    expect(calls[0]?.isError).toBe(false);
    const many = calls[0]?.structured['results'] as { ok: boolean; url: string; error?: { message: string } }[];
    // Every page converts or fails with a clear, bounded error: none hangs or takes the service down.
    for (const result of many) {
      if (!result.ok) expect(result.error?.message, result.url).toMatch(/try format "raw"/);
    }
    expect(many.filter((result) => result.ok).length).toBeGreaterThanOrEqual(5);
    expect(report.failures).toBe(0);
    expect(report.polls).toBeGreaterThan(3);
    expect(report.maxMs).toBeLessThan(1000);
  }, 180_000);

  it('stays under the container memory limit while the largest answers are produced', async () => {
    const proc = await start();
    const urls = Array.from({ length: 8 }, () => urlOf('/text'));
    // Four calls at once, each fetching eight 5 MiB pages whose content would be far over the budget.
    const calls = await Promise.all(
      Array.from({ length: 4 }, () =>
        rpcCallTool(proc.url, 'fetch_many', { urls, format: 'raw', max_length: 1_000_000 }),
      ),
    );
    for (const call of calls) {
      expect(call.isError, call.text.slice(0, 300)).toBe(false);
      expect(call.text.length).toBeLessThanOrEqual(RESULT_BYTES);
      expect(call.text.length).toBeGreaterThan(RESULT_BYTES * 0.9);
      expect(call.structured['succeeded']).toBe(8);
    }
    const single = await rpcCallTool(proc.url, 'fetch', { url: urlOf('/text'), format: 'raw', max_length: 1_000_000 });
    expect(single.structured['truncated_reason']).toMatch(/cut to fit the answer/);
    const peak = proc.peakRssBytes();
    console.info(`fetch: peak resident memory ${(peak / 1024 / 1024).toFixed(0)} MB (under tsx)`);
    expect(peak).toBeLessThan(CONTAINER_LIMIT);
  }, 180_000);
});
