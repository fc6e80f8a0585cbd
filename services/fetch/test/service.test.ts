import { type ClientTransportKind, connectClient, rpc, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UNTRUSTED_NOTICE } from '../src/fetcher.js';
import { createFetchService } from '../src/service.js';
import { testResolver, wrapPolicy } from './helpers/network.js';
import { fixture, html, redirect, startServer, type TestServer } from './helpers/servers.js';

interface CallResult {
  isError: boolean;
  text: string;
  structured: Record<string, unknown>;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallResult> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text?: string }[];
  return {
    isError: result.isError === true,
    text: content.map((block) => block.text ?? '').join('\n'),
    structured: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}

async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await call(client, name, args);
  expect(result.isError, `${name} failed: ${result.text}`).toBe(false);
  return result.structured;
}

async function fails(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError, `${name} should have failed`).toBe(true);
  expect(result.text).not.toMatch(/\n\s+at /); // never a stack
  return result.text;
}

let site: TestServer; // "the internet", reached as public.test
let victim: TestServer; // an internal service on another loopback port
const dns = testResolver({
  'public.test': ['127.0.0.1'],
  'internal.test': ['127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
});
const sitePort = () => site.port;
const url = (path: string) => `http://public.test:${sitePort()}${path}`;

// The production service, with only DNS and the exact address:port of `site` swapped for the tests.
const testService = () =>
  createFetchService({
    resolver: dns.resolver,
    policy: (fromConfig) => wrapPolicy(fromConfig, [{ host: '127.0.0.1', port: sitePort() }]),
  });

const JSON_DOC = { name: 'fetch', tools: ['fetch', 'fetch_many'], nested: { ok: true } };

beforeAll(async () => {
  site = await startServer();
  victim = await startServer();
  victim.route('/', html('<p>internal secret</p>'));
  site.route('/robots.txt', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nDisallow: /private/\n');
  });
  site.route('/socat', html(fixture('socat-genericsocket.html')));
  site.route('/zlib', html(fixture('zlib-how.html')));
  site.route('/libffi', html(fixture('libffi-the-basics.html')));
  site.route('/moved', redirect('/zlib', 301));
  site.route('/to-internal', redirect(`http://127.0.0.1:${victim.port}/`));
  site.route('/private/page', html('<p>not for robots</p>'));
  site.route('/data.json', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(JSON_DOC));
  });
  site.route('/notes.txt', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('plain notes\nline two\n');
  });
  site.route('/image.png', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  });
});

afterAll(async () => {
  await Promise.all([site.close(), victim.close()]);
});

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('every tool over %s', (kind) => {
  let svc: StartedService;
  let client: Client;

  beforeAll(async () => {
    svc = await startService(testService(), {
      env: { FETCH_DEFAULT_MAX_LENGTH: '3000', FETCH_TIMEOUT_MS: '5000', FETCH_MAX_URLS: '5', FETCH_CONCURRENCY: '2' },
    });
    client = await connectClient(svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
  });

  it('lists fetch and fetch_many as read-only, open-world tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['fetch', 'fetch_many']);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      });
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
    }
    const fetchTool = tools.find((tool) => tool.name === 'fetch');
    expect(Object.keys(fetchTool?.inputSchema.properties ?? {})).toEqual([
      'url',
      'format',
      'max_length',
      'start_index',
      'headers',
    ]);
    expect(fetchTool?.inputSchema.required).toEqual(['url']);
  });

  it('fetch: a real page as markdown, paginated, marked untrusted in both structured and text content', async () => {
    const result = await call(client, 'fetch', { url: url('/socat') });
    expect(result.isError).toBe(false);
    const page = result.structured;
    expect(page).toMatchObject({
      url: url('/socat'),
      final_url: url('/socat'),
      status: 200,
      content_type: 'text/html; charset=utf-8',
      format: 'markdown',
      title: 'Generic sockets with Socat',
      start_index: 0,
      next_start_index: 3000,
      truncated: false,
      redirects: [],
      untrusted: true,
      notice: UNTRUSTED_NOTICE,
    });
    expect((page['content'] as string).length).toBe(3000);
    expect(page['content']).toMatch(/^# Generic sockets with Socat\n\n## Introduction\n/);
    // Open WebUI shows the model only the text block: it carries the same JSON, notice included.
    expect(JSON.parse(result.text)).toEqual(page);

    // Reading on page by page gives exactly the whole document.
    const whole = await ok(client, 'fetch', { url: url('/socat'), max_length: 1_000_000 });
    expect(whole['next_start_index']).toBeUndefined();
    let content = page['content'] as string;
    let next = page['next_start_index'] as number | undefined;
    while (next !== undefined) {
      const more = await ok(client, 'fetch', { url: url('/socat'), start_index: next });
      expect(more['start_index']).toBe(next);
      content += more['content'] as string;
      next = more['next_start_index'] as number | undefined;
    }
    expect(content).toBe(whole['content']);
    expect(content.length).toBe(whole['total_length']);
    expect(content).toContain('| component | offset | length | value | meaning |');
  });

  it('fetch: every format', async () => {
    const raw = await ok(client, 'fetch', { url: url('/zlib'), format: 'raw', max_length: 1_000_000 });
    expect(raw['content']).toBe(fixture('zlib-how.html'));
    const text = await ok(client, 'fetch', { url: url('/zlib'), format: 'text', max_length: 1_000_000 });
    expect(text['content']).toContain('#include <stdio.h>\n#include <string.h>');
    expect(text['content']).not.toContain('<pre>');
    const htmlOut = await ok(client, 'fetch', { url: url('/libffi'), format: 'html', max_length: 1_000_000 });
    expect(htmlOut['content']).toMatch(/href="http:\/\/public\.test:\d+\/[A-Za-z-]+\.html/);
    const json = await ok(client, 'fetch', { url: url('/data.json'), format: 'json' });
    expect(JSON.parse(json['content'] as string)).toEqual(JSON_DOC);
    expect(json['content']).toBe(JSON.stringify(JSON_DOC, null, 2));
    const plain = await ok(client, 'fetch', { url: url('/notes.txt') });
    expect(plain['content']).toBe('plain notes\nline two\n');
    expect(await fails(client, 'fetch', { url: url('/zlib'), format: 'json' })).toBe(
      'the response (text/html) is not valid JSON; use format "raw" or "text"',
    );
    expect(await fails(client, 'fetch', { url: url('/image.png') })).toBe(
      'the response is image/png, not text; fetch returns text, HTML and JSON only',
    );
  });

  it('fetch: follows redirects and reports them', async () => {
    const page = await ok(client, 'fetch', { url: url('/moved') });
    expect(page['final_url']).toBe(url('/zlib'));
    expect(page['redirects']).toEqual([url('/zlib')]);
    expect(page['title']).toBe('zlib Usage Example');
  });

  it('fetch: refuses private targets in every form, directly and after a redirect; the victim sees nothing', async () => {
    const v = victim.port;
    expect(await fails(client, 'fetch', { url: `http://127.0.0.1:${v}/` })).toBe(
      'refused: 127.0.0.1 is a private address (127.0.0.1, loopback); set FETCH_ALLOW_PRIVATE=true to allow',
    );
    expect(await fails(client, 'fetch', { url: `http://internal.test:${v}/` })).toBe(
      'refused: internal.test resolves to a private address (127.0.0.1, loopback); set FETCH_ALLOW_PRIVATE=true to allow',
    );
    for (const target of [`http://2130706433:${v}/`, `http://0x7f.1:${v}/`, `http://[::ffff:127.0.0.1]:${v}/`]) {
      expect(await fails(client, 'fetch', { url: target })).toMatch(/^refused: .* a private address/);
    }
    expect(await fails(client, 'fetch', { url: 'http://metadata.test/latest/meta-data/' })).toMatch(
      /^refused: metadata\.test resolves to a cloud metadata address \(169\.254\.169\.254\)/,
    );
    expect(await fails(client, 'fetch', { url: url('/to-internal') })).toMatch(/^refused: 127\.0\.0\.1 is a private/);
    expect(await fails(client, 'fetch', { url: 'file:///etc/passwd' })).toBe(
      'refused: only http and https URLs are fetched (got file:)',
    );
    expect(victim.hits).toEqual([]);
  });

  it('fetch: honours robots.txt', async () => {
    expect(await fails(client, 'fetch', { url: url('/private/page') })).toBe(
      `robots.txt of http://public.test:${sitePort()} disallows /private/page for this user agent ` +
        '(ModelContextProtocol/1.0 (mcp-sse-fetch; autonomous)); set FETCH_IGNORE_ROBOTS=true to ignore robots.txt',
    );
    expect(site.hits.some((hit) => hit.path === '/private/page')).toBe(false);
  });

  it('fetch: robots.txt holds for every spelling of a disallowed path; the site sees none of them', async () => {
    const spellings = [
      '/%70rivate/page',
      '/%50rivate/../private/page', // the URL parser folds `..`
      '/priv%61te/page',
      '/%70%72%69%76%61%74%65/page',
      '/%70%72%69%76%61%74%65/%70%61%67%65',
      '/private/%70age',
      '/private/page?q=1',
    ];
    const before = site.hits.length;
    for (const spelling of spellings) {
      expect(await fails(client, 'fetch', { url: url(spelling) }), spelling).toMatch(
        /^robots\.txt of http:\/\/public\.test:\d+ disallows \/.* for this user agent/,
      );
    }
    // Only robots.txt itself may have been fetched meanwhile (once, then cached).
    expect(site.hits.slice(before).filter((hit) => hit.path !== '/robots.txt')).toEqual([]);
    // Not the same path, so not disallowed: double encoding and an encoded slash.
    for (const other of ['/%2570rivate/page', '/private%2Fpage']) {
      expect((await call(client, 'fetch', { url: url(other) })).text).not.toMatch(/robots\.txt/);
    }
  });

  it('fetch: clear errors for bad input', async () => {
    expect(await fails(client, 'fetch', { url: url('/notes.txt'), start_index: 5000 })).toBe(
      'start_index 5000 is past the end of the content (total_length 21)',
    );
    expect(await fails(client, 'fetch', { url: url('/notes.txt'), headers: { 'User-Agent': 'x' } })).toBe(
      'header "User-Agent" cannot be set (set FETCH_USER_AGENT instead)',
    );
    expect(await fails(client, 'fetch', { url: 'not a url' })).toBe('not a valid absolute URL: "not a url"');
    expect(await fails(client, 'fetch', { url: url('/'), format: 'pdf' })).toMatch(/^Invalid arguments for fetch: /);
    expect(await fails(client, 'fetch', { url: 'http://unknown.test/' })).toBe(
      'could not resolve host unknown.test (ENOTFOUND)',
    );
  });

  it('fetch_many: bounded, ordered, one failure does not fail the batch', async () => {
    const result = await call(client, 'fetch_many', {
      urls: [
        url('/zlib'),
        `http://127.0.0.1:${victim.port}/`,
        url('/missing'),
        url('/private/page'),
        url('/data.json'),
      ],
      max_length: 500,
    });
    expect(result.isError).toBe(false);
    const { results, succeeded, failed } = result.structured as {
      results: {
        ok: boolean;
        url: string;
        status?: number;
        content?: string;
        error?: { code: string; message: string };
      }[];
      succeeded: number;
      failed: number;
    };
    expect([succeeded, failed]).toEqual([3, 2]);
    expect(results.map((r) => [r.ok, r.url])).toEqual([
      [true, url('/zlib')],
      [false, `http://127.0.0.1:${victim.port}/`],
      [true, url('/missing')],
      [false, url('/private/page')],
      [true, url('/data.json')],
    ]);
    expect(results[0]?.content?.length).toBe(500);
    expect(results[1]?.error).toEqual({
      code: 'FORBIDDEN',
      message: 'refused: 127.0.0.1 is a private address (127.0.0.1, loopback); set FETCH_ALLOW_PRIVATE=true to allow',
    });
    expect(results[2]?.status).toBe(404);
    expect(results[3]?.error?.message).toMatch(/^robots\.txt of .* disallows \/private\/page/);
    expect(JSON.parse(result.text)).toEqual({ results, succeeded, failed });
    expect(victim.hits).toEqual([]);
  });

  it('fetch_many: refuses more URLs than FETCH_MAX_URLS', async () => {
    const urls = Array.from({ length: 6 }, (_, i) => url(`/batch-${i}`));
    expect(await fails(client, 'fetch_many', { urls })).toBe('at most 5 URLs per call (FETCH_MAX_URLS); got 6');
    expect(site.hits.some((hit) => hit.path.startsWith('/batch-'))).toBe(false);
  });
});

describe('plain JSON-RPC and operator switches', () => {
  it('answers tools/call over /rpc', async () => {
    const svc = await startService(testService());
    try {
      const response = await rpc(svc.url, 'tools/call', { name: 'fetch', arguments: { url: url('/notes.txt') } });
      expect(response.status).toBe(200);
      const body = response.body as { result: { structuredContent: Record<string, unknown>; isError?: boolean } };
      expect(body.result.isError).not.toBe(true);
      expect(body.result.structuredContent).toMatchObject({ content: 'plain notes\nline two\n', untrusted: true });
    } finally {
      await svc.close();
    }
  });

  it('FETCH_IGNORE_ROBOTS=true fetches disallowed pages', async () => {
    const svc = await startService(testService(), { env: { FETCH_IGNORE_ROBOTS: 'true' } });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      const page = await ok(client, 'fetch', { url: url('/private/page') });
      expect(page['content']).toBe('not for robots');
    } finally {
      await client.close();
      await svc.close();
    }
  });

  it('FETCH_ALLOW_PRIVATE=true (the production policy, unwrapped) reaches the internal service', async () => {
    const svc = await startService(createFetchService({ resolver: dns.resolver }), {
      env: { FETCH_ALLOW_PRIVATE: 'true', FETCH_IGNORE_ROBOTS: 'true' },
    });
    const client = await connectClient(svc.url, 'sse');
    try {
      const page = await ok(client, 'fetch', { url: `http://internal.test:${victim.port}/` });
      expect(page['content']).toBe('internal secret');
      expect(victim.hits).toHaveLength(1);
      expect(await fails(client, 'fetch', { url: 'http://metadata.test/' })).toMatch(/cloud metadata address/);
    } finally {
      victim.hits.length = 0;
      await client.close();
      await svc.close();
    }
  });

  it('fetch_many returns what it has when the call time budget runs out', async () => {
    site.route('/hang', () => undefined);
    const svc = await startService(testService(), { env: { MCP_TOOL_TIMEOUT_MS: '1500', FETCH_TIMEOUT_MS: '10000' } });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      // A conversion worker loads first (slowly under tsx, within this short call timeout): poll until
      // one answers, since that is not what is measured here.
      while ((await call(client, 'fetch', { url: url('/notes.txt') })).isError);
      const output = await ok(client, 'fetch_many', { urls: [url('/notes.txt'), url('/hang')] });
      expect(output['succeeded']).toBe(1);
      expect((output['results'] as unknown[])[1]).toEqual({
        ok: false,
        url: url('/hang'),
        error: {
          code: 'TIMEOUT',
          message: "not finished within this call's time budget (1200 ms, from MCP_TOOL_TIMEOUT_MS)",
        },
      });
    } finally {
      await client.close();
      await svc.close();
    }
  });

  it('FETCH_DENIED_HOSTS refuses a host before DNS', async () => {
    const svc = await startService(testService(), { env: { FETCH_DENIED_HOSTS: 'public.test' } });
    try {
      const calls = dns.calls.length;
      const response = await rpc(svc.url, 'tools/call', { name: 'fetch', arguments: { url: url('/zlib') } });
      const body = response.body as { result: { isError: boolean; content: { text: string }[] } };
      expect(body.result.isError).toBe(true);
      expect(body.result.content[0]?.text).toBe('refused: public.test is listed in FETCH_DENIED_HOSTS');
      expect(dns.calls.length).toBe(calls);
    } finally {
      await svc.close();
    }
  });
});

describe('answers stop at MCP_MAX_RESULT_BYTES', () => {
  const BUDGET = 64 * 1024;
  // Half a megabyte of text in which every character weighs two to six bytes of JSON.
  const heavy = '"\\\u0001é'.repeat(128 * 1024);

  beforeAll(() => {
    site.route('/heavy.txt', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(heavy);
    });
  });

  it('fetch cuts the page to the budget, says so, and the pages still add up to the document', async () => {
    const svc = await startService(testService(), { env: { MCP_MAX_RESULT_BYTES: String(BUDGET) } });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      const parts: string[] = [];
      let start: number | undefined = 0;
      for (let page = 0; page < 3 && start !== undefined; page += 1) {
        const result = await call(client, 'fetch', {
          url: url('/heavy.txt'),
          format: 'raw',
          max_length: 1_000_000,
          start_index: start,
        });
        expect(result.isError, result.text).toBe(false);
        expect(result.text.length).toBeLessThanOrEqual(BUDGET);
        expect(result.structured).toMatchObject({
          truncated: true,
          truncated_reason: 'this page was cut to fit the answer (MCP_MAX_RESULT_BYTES): continue at next_start_index',
        });
        parts.push(result.structured['content'] as string);
        start = result.structured['next_start_index'] as number | undefined;
      }
      expect(heavy.startsWith(parts.join(''))).toBe(true);
      expect(parts.join('').length).toBe(start);
    } finally {
      await client.close();
      await svc.close();
    }
  });

  it('fetch_many shares the budget: the whole answer stays under it, whatever the pages', async () => {
    const svc = await startService(testService(), {
      env: { MCP_MAX_RESULT_BYTES: String(BUDGET), FETCH_MAX_URLS: '40' },
    });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      const urls = [
        ...Array.from({ length: 30 }, () => url('/heavy.txt')),
        url('/zlib'),
        url('/private/page'),
        'http://127.0.0.1:1/',
      ];
      const result = await call(client, 'fetch_many', { urls, format: 'raw', max_length: 1_000_000 });
      expect(result.isError, result.text.slice(0, 300)).toBe(false);
      expect(result.text.length).toBeLessThanOrEqual(BUDGET);
      const results = result.structured['results'] as { ok: boolean; truncated?: boolean; content?: string }[];
      expect(results).toHaveLength(urls.length);
      expect(results.slice(0, 31).every((page) => page.ok && page.truncated && (page.content ?? '').length > 0)).toBe(
        true,
      );
      expect(results.slice(31).map((page) => page.ok)).toEqual([false, false]);
    } finally {
      await client.close();
      await svc.close();
    }
  });
});
