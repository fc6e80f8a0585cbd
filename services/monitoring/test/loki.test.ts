/**
 * search_logs, loki_labels and loki_label_values against a stand-in serving Loki's documented HTTP
 * API answers (GET /loki/api/v1/query_range with "streams" and "matrix" results, /labels,
 * /label/<name>/values, /ready), checking every request it receives: path, query, tenant, auth.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  callToolOk as ok,
  callToolRefused as refused,
  connectClient,
  httpRequest,
  type StartedService,
  startService,
} from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
}

// Loki's documented examples (docs: "Query logs within a range of time").
const STREAMS = {
  status: 'success',
  data: {
    resultType: 'streams',
    result: [
      {
        stream: { container: 'web', level: 'error' },
        values: [
          ['1732849200123456789', 'error: upstream timed out'],
          ['1732849100000000000', 'error: connection refused'],
        ],
      },
      { stream: { container: 'db', level: 'error' }, values: [['1732849000000000001', 'FATAL: too many connections']] },
    ],
    stats: { summary: { totalEntriesReturned: 3 } },
  },
};
const MATRIX = {
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      {
        metric: { container: 'web' },
        values: [
          [1732849200, '4'],
          [1732849500.5, '7'],
        ],
      },
      { metric: { container: 'db' }, values: [[1732849200, '1']] },
    ],
  },
};

let seen: Seen[] = [];
let nextAnswer: { status: number; body: string; type?: string } | undefined;
let loki: Server;
let lokiUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'mcp-montest-loki-'));

beforeAll(async () => {
  loki = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://loki');
    seen.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
    });
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (nextAnswer) {
      const answer = nextAnswer;
      nextAnswer = undefined;
      send(answer.status, answer.body, answer.type);
      return;
    }
    if (url.pathname === '/ready') return send(200, 'ready\n', 'text/plain');
    if (url.pathname === '/loki/api/v1/query_range') {
      const query = url.searchParams.get('query') ?? '';
      return send(200, JSON.stringify(/count_over_time|rate\(/.test(query) ? MATRIX : STREAMS));
    }
    if (url.pathname === '/loki/api/v1/labels')
      return send(200, JSON.stringify({ status: 'success', data: ['job', 'container', 'level'] }));
    const values = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(url.pathname);
    if (values)
      return send(200, JSON.stringify({ status: 'success', data: values[1] === 'container' ? ['web', 'db'] : [] }));
    send(404, '404 page not found\n', 'text/plain');
  });
  await new Promise<void>((resolve) => loki.listen(0, '127.0.0.1', resolve));
  lokiUrl = `http://127.0.0.1:${(loki.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'password'), 'loki-pass-Secret\n');
  writeFileSync(join(dir, 'token'), 'loki-token-Secret\n');
});

afterAll(async () => {
  await new Promise<void>((resolve) => loki.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen = [];
  nextAnswer = undefined;
});

describe('with basic auth and a tenant', () => {
  let svc: StartedService;
  let client: Client;

  beforeAll(async () => {
    svc = await startService(service, {
      env: {
        LOKI_URL: lokiUrl,
        LOKI_TENANT: 'team-a',
        LOKI_USERNAME: 'grafana',
        LOKI_PASSWORD_FILE: join(dir, 'password'),
        LOKI_MAX_ENTRIES: '50',
        DOCKER_SOCKET: '/nonexistent/docker.sock',
      },
    });
    client = await connectClient(svc.url, 'streamable-http');
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
  });

  it('lists the Loki tools', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['search_logs', 'loki_labels', 'loki_label_values']));
  });

  it('runs LogQL through query_range with the window in nanoseconds, the tenant and basic auth; reports Loki hitting the limit', async () => {
    const result = await ok<Record<string, unknown>>(client, 'search_logs', {
      query: '{container=~"web|db"} |= "error"',
      since: '2024-11-29T02:00:00Z',
      until: '2024-11-29T03:00:00.5Z',
      limit: 3,
    });
    expect(seen).toHaveLength(1);
    const request = seen[0] as Seen;
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/loki/api/v1/query_range');
    expect(request.query).toEqual({
      query: '{container=~"web|db"} |= "error"',
      start: '1732845600000000000',
      end: '1732849200500000000',
      limit: '3',
      direction: 'backward',
    });
    expect(request.headers['x-scope-orgid']).toBe('team-a');
    expect(request.headers['authorization']).toBe(
      `Basic ${Buffer.from('grafana:loki-pass-Secret').toString('base64')}`,
    );
    expect(result).toEqual({
      backend: 'loki',
      query: '{container=~"web|db"} |= "error"',
      window: { since: '2024-11-29T02:00:00.000Z', until: '2024-11-29T03:00:00.500Z' },
      result_type: 'streams',
      streams: [
        {
          labels: { container: 'web', level: 'error' },
          entries: [
            { time: '2024-11-29T03:00:00.123456789Z', line: 'error: upstream timed out' },
            { time: '2024-11-29T02:58:20.000Z', line: 'error: connection refused' },
          ],
        },
        {
          labels: { container: 'db', level: 'error' },
          entries: [{ time: '2024-11-29T02:56:40.000000001Z', line: 'FATAL: too many connections' }],
        },
      ],
      entry_count: 3,
      truncated: true,
      truncated_reason:
        'limit: Loki returned 3 lines (the limit), newest first; older lines in the window were not returned',
    });
    // Below the limit: not truncated; the limit is capped by LOKI_MAX_ENTRIES.
    const full = await ok<{ truncated: boolean }>(client, 'search_logs', { query: '{job="docker"}', limit: 500 });
    expect(full.truncated).toBe(false);
    expect(seen[1]?.query['limit']).toBe('50');
  });

  it('returns metric queries as series', async () => {
    const result = await ok<Record<string, unknown>>(client, 'search_logs', {
      query: 'sum by (container) (count_over_time({job="docker"} |= "error" [5m]))',
      since: '1h',
    });
    expect(result).toMatchObject({
      result_type: 'matrix',
      series: [
        {
          metric: { container: 'web' },
          values: [
            { time: '2024-11-29T03:00:00.000Z', value: '4' },
            { time: '2024-11-29T03:05:00.500Z', value: '7' },
          ],
        },
        { metric: { container: 'db' }, values: [{ time: '2024-11-29T03:00:00.000Z', value: '1' }] },
      ],
      series_count: 2,
      truncated: false,
    });
  });

  it('loki_labels and loki_label_values call their endpoints with the window (and a selector)', async () => {
    const labels = await ok<{ values: string[]; count: number; window: { since: string } }>(client, 'loki_labels', {});
    expect(labels.values).toEqual(['container', 'job', 'level']);
    expect(seen[0]?.path).toBe('/loki/api/v1/labels');
    expect(Object.keys(seen[0]?.query ?? {}).sort()).toEqual(['end', 'start']);
    const span = BigInt(seen[0]?.query['end'] ?? '0') - BigInt(seen[0]?.query['start'] ?? '0');
    expect(span).toBe(6n * 3600n * 1_000_000_000n);
    const values = await ok<{ values: string[] }>(client, 'loki_label_values', {
      label: 'container',
      query: '{job="docker"}',
    });
    expect(values.values).toEqual(['db', 'web']);
    expect(seen[1]?.path).toBe('/loki/api/v1/label/container/values');
    expect(seen[1]?.query['query']).toBe('{job="docker"}');
    expect(seen.every((s) => s.headers['x-scope-orgid'] === 'team-a')).toBe(true);
  });

  it("answers Loki's failures clearly, and refuses what does not apply", async () => {
    nextAnswer = {
      status: 400,
      body: 'parse error at line 1, col 6: syntax error: unexpected $end\n',
      type: 'text/plain',
    };
    expect(await refused(client, 'search_logs', { query: '{job=' })).toBe(
      'Loki refused the query: parse error at line 1, col 6: syntax error: unexpected $end',
    );
    nextAnswer = { status: 401, body: 'no org id\n', type: 'text/plain' };
    expect(await refused(client, 'loki_labels', {})).toMatch(/^Loki refused the credentials \(HTTP 401\)/);
    nextAnswer = { status: 200, body: '{"status":"success","data":{"resultType":"streams","result":[{"stream":{}}]}}' };
    expect(await refused(client, 'search_logs', { query: '{job="x"}' })).toBe(
      "Loki's query_range answer has an unexpected shape",
    );
    nextAnswer = { status: 200, body: JSON.stringify({ status: 'success', data: 'x'.repeat(33 * 1024 * 1024) }) };
    expect(await refused(client, 'loki_labels', {})).toMatch(/^Loki's answer is larger than 33554432 bytes/);
    expect(await refused(client, 'search_logs', { query: '{job="x"}', containers: ['web'] })).toMatch(
      /^containers applies to the engine search only/,
    );
    for (const label of ['a}b', '../x', 'a/values?x=', '1abc', 'lábel']) {
      expect(await refused(client, 'loki_label_values', { label })).toMatch(
        /^Invalid arguments for loki_label_values: label: /,
      );
    }
    const passwordLeak = JSON.stringify(seen.map((s) => s.path));
    expect(passwordLeak).not.toContain('loki-pass-Secret');
  });

  it('/health checks Loki', async () => {
    const health = await httpRequest(`${svc.url}/health`);
    const checks = (health.json as { checks: Record<string, { status: string }> }).checks;
    expect(checks['loki']?.status).toBe('ok');
    expect(seen.some((s) => s.path === '/ready')).toBe(true);
    expect(health.text).not.toContain('loki-pass-Secret');
  });
});

describe('with a bearer token', () => {
  it('sends it, and reports an unreachable Loki clearly', async () => {
    const svc = await startService(service, { env: { LOKI_URL: `${lokiUrl}/`, LOKI_TOKEN_FILE: join(dir, 'token') } });
    const client = await connectClient(svc.url, 'sse');
    try {
      await ok(client, 'loki_labels', { since: '1h' });
      expect(seen[0]?.headers['authorization']).toBe('Bearer loki-token-Secret');
      expect(seen[0]?.headers['x-scope-orgid']).toBeUndefined();
    } finally {
      await client.close();
      await svc.close();
    }
    const closed = await startService(service, { env: { LOKI_URL: 'http://127.0.0.1:1' } });
    const closedClient = await connectClient(closed.url, 'streamable-http');
    try {
      expect(await refused(closedClient, 'search_logs', { query: '{job="x"}' })).toBe(
        'Loki at http://127.0.0.1:1 is not reachable (ECONNREFUSED)',
      );
    } finally {
      await closedClient.close();
      await closed.close();
    }
  });
});

describe('without LOKI_URL', () => {
  it('has no Loki tools listed, and they answer clearly when enabled by hand', async () => {
    const svc = await startService(service, { env: { MCP_TOOLSETS: 'default,loki' } });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      expect(await refused(client, 'loki_labels', {})).toBe(
        'Loki is not configured (LOKI_URL is not set); search_logs searches the engine instead',
      );
    } finally {
      await client.close();
      await svc.close();
    }
    const plain = await startService(service, {});
    const plainClient = await connectClient(plain.url, 'streamable-http');
    try {
      const names = (await plainClient.listTools()).tools.map((tool) => tool.name);
      expect(names).not.toContain('loki_labels');
      expect(names).toContain('search_logs');
    } finally {
      await plainClient.close();
      await plain.close();
    }
  });
});
