/**
 * The REST API: every route, its status codes and errors, the same key as MCP, MCP_READ_ONLY, and
 * the OpenAPI document generated from the tools' own schemas.
 */
import { join } from 'node:path';

import { httpRequest, type StartedService, startService } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { searchInput, storeInput } from '../src/schemas.js';
import { service } from '../src/service.js';
import { dumpDatabase, serviceEnv, tempDir } from './helpers.js';

const KEY = 'k-rest';
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

describe('REST API', () => {
  let svc: StartedService;
  let path: string;
  let cleanup: () => void;
  const api = (route: string, method = 'GET', body?: unknown) =>
    httpRequest(`${svc.url}${route}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'memory.db');
    svc = await startService(service, { env: serviceEnv(path, { MCP_API_KEYS: KEY }) });
  });
  afterAll(async () => {
    await svc.close();
    cleanup();
  });

  it('needs the API key on every /api route but the OpenAPI document; the page is public', async () => {
    for (const [route, method] of [
      ['/api/memories', 'GET'],
      ['/api/memories', 'POST'],
      ['/api/search', 'POST'],
      ['/api/tags', 'GET'],
      ['/api/stats', 'GET'],
      [`/api/memories/${'a'.repeat(64)}`, 'GET'],
    ] as const) {
      expect((await httpRequest(`${svc.url}${route}`, { method })).status, `${method} ${route}`).toBe(401);
    }
    expect((await httpRequest(`${svc.url}/api/openapi.json`)).status).toBe(200);
    const page = await httpRequest(`${svc.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(
      /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+';/,
    );
  });

  it('stores (201, then 200 for the same content), gets, lists with filters, patches, searches, counts and deletes', async () => {
    const created = await api('/api/memories', 'POST', {
      content: 'REST stored memory',
      tags: ['Rest', 'api'],
      type: 'note',
    });
    expect(created.status).toBe(201);
    const { hash } = created.json as { hash: string };
    const again = await api('/api/memories', 'POST', { content: ' REST stored memory ' });
    expect([again.status, (again.json as { created: boolean }).created]).toEqual([200, false]);
    await api('/api/memories', 'POST', { content: 'Another one', tags: ['other'] });

    expect(((await api(`/api/memories/${hash}`)).json as { memory: { tags: string[] } }).memory.tags).toEqual([
      'api',
      'rest',
    ]);
    const listed = (await api('/api/memories?page=1&page_size=1&tags=rest,nothing&tag_match=any')).json as {
      total: number;
      memories: unknown[];
    };
    expect([listed.total, listed.memories.length]).toEqual([1, 1]);
    const repeated = (await api('/api/memories?tags=rest&tags=other')).json as { total: number };
    expect(repeated.total).toBe(2);
    expect(((await api('/api/memories?time_expr=today&type=note')).json as { total: number }).total).toBe(1);

    const patched = await api(`/api/memories/${hash}`, 'PATCH', { tags: ['patched'], metadata: { by: 'rest' } });
    expect((patched.json as { memory: { tags: string[]; metadata: unknown } }).memory).toMatchObject({
      tags: ['patched'],
      metadata: { by: 'rest' },
    });

    const searched = (await api('/api/search', 'POST', { query: 'REST memory', mode: 'hybrid', limit: 1 })).json as {
      count: number;
      results: { hash: string }[];
    };
    expect([searched.count, searched.results[0]?.hash]).toEqual([1, hash]);
    expect((await api('/api/tags?limit=1')).json as { tags: unknown[]; truncated: boolean }).toMatchObject({
      truncated: true,
    });
    expect(((await api('/api/stats')).json as { memories: number }).memories).toBe(2);

    const dry = await api(`/api/memories/${hash}?dry_run=true`, 'DELETE');
    expect(dry.json).toEqual({ deleted: 0, matched: 1, dry_run: true, hashes: [hash] });
    expect((await api(`/api/memories/${hash}`, 'DELETE')).status).toBe(200);
    expect((await api(`/api/memories/${hash}`, 'DELETE')).status).toBe(404);
    const bulk = await api('/api/memories/delete', 'POST', { tags: ['other'] });
    expect([bulk.status, (bulk.json as { error: { message: string } }).error.message]).toEqual([
      400,
      'this would delete 1 memories; send confirm: true to do it (or dry_run: true to look first)',
    ]);
    expect(
      ((await api('/api/memories/delete', 'POST', { tags: ['other'], confirm: true })).json as { deleted: number })
        .deleted,
    ).toBe(1);
  });

  it('answers bad requests with a status and an error naming the field, changing nothing', async () => {
    await api('/api/memories', 'POST', { content: 'kept as it is' });
    const before = dumpDatabase(path).text;
    const cases: [string, string, unknown, number, RegExp][] = [
      ['/api/memories', 'POST', { content: 42 }, 400, /^Invalid arguments: content: /],
      ['/api/memories', 'POST', {}, 400, /^Invalid arguments: content: /],
      ['/api/memories', 'POST', { content: 'x'.repeat(70_000) }, 413, /content is 70000 bytes; the limit is 65536/],
      ['/api/memories?page=0', 'GET', undefined, 400, /^Invalid arguments: page: /],
      ['/api/memories?page_size=1000', 'GET', undefined, 400, /^Invalid arguments: page_size: /],
      ['/api/memories?time_expr=someday', 'GET', undefined, 400, /time_expr "someday" is not understood/],
      ['/api/memories/nothex', 'GET', undefined, 400, /is not a content hash/],
      [`/api/memories/${'c'.repeat(64)}`, 'GET', undefined, 404, /No memory with hash/],
      [`/api/memories/${'c'.repeat(64)}`, 'PATCH', { tags: ['x'] }, 404, /No memory with hash/],
      [`/api/memories/${'c'.repeat(64)}`, 'PATCH', ['not an object'], 400, /^Invalid arguments/],
      ['/api/search', 'POST', { query: 'x', mode: 'fuzzy' }, 400, /^Invalid arguments: mode: /],
      ['/api/search', 'POST', { query: 'x', limit: 1000 }, 400, /^Invalid arguments: limit: /],
      ['/api/tags?limit=-1', 'GET', undefined, 400, /^Invalid arguments: limit: /],
    ];
    for (const [route, method, body, status, message] of cases) {
      const response = await api(route, method, body);
      expect(response.status, `${method} ${route}`).toBe(status);
      expect((response.json as { error: { message: string } }).error.message, `${method} ${route}`).toMatch(message);
    }
    expect(dumpDatabase(path).text).toBe(before);
  });

  it("publishes an OpenAPI document generated from the tools' schemas", async () => {
    const document = (await httpRequest(`${svc.url}/api/openapi.json`)).json as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: unknown } } } }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/api/events/token',
      '/api/memories',
      '/api/memories/delete',
      '/api/memories/{hash}',
      '/api/search',
      '/api/stats',
      '/api/tags',
      '/events',
    ]);
    const schemaOf = (route: string, method: string) =>
      document.paths[route]?.[method]?.requestBody?.content['application/json'].schema;
    expect(schemaOf('/api/memories', 'post')).toEqual(
      z.toJSONSchema(storeInput, { io: 'input', unrepresentable: 'any' }),
    );
    expect(schemaOf('/api/search', 'post')).toEqual(
      z.toJSONSchema(searchInput, { io: 'input', unrepresentable: 'any' }),
    );
  });
});

describe('REST API with MCP_READ_ONLY', () => {
  it('refuses writes (403) and serves reads', async () => {
    const { dir, cleanup } = tempDir();
    const svc = await startService(service, { env: serviceEnv(join(dir, 'memory.db'), { MCP_READ_ONLY: 'true' }) });
    try {
      const post = await httpRequest(`${svc.url}/api/memories`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'x' }),
      });
      expect([post.status, (post.json as { error: { message: string } }).error.message]).toEqual([
        403,
        'This server is read-only (MCP_READ_ONLY=true)',
      ]);
      expect((await httpRequest(`${svc.url}/api/memories`)).status).toBe(200);
    } finally {
      await svc.close();
      cleanup();
    }
  });
});
