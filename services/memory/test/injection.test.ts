/**
 * Hostile arguments through every parameter, over the real service. Each refusal must say what was
 * wrong and leave the database file exactly as it was (schema, every row of every table, shadow
 * tables of FTS5 included). FTS5 syntax in search queries must neither break nor steer the search.
 */
import { join } from 'node:path';

import { type ClientTransportKind, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { dumpDatabase, serviceEnv, tempDir } from './helpers.js';

type Attempt = [label: string, tool: string, args: Record<string, unknown>, message: RegExp];

const SQL = "x'); DELETE FROM memories; --";

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('hostile arguments over %s', (kind) => {
  let svc: StartedService;
  let client: Client;
  let dir: string;
  let cleanup: () => void;
  let path: string;
  let hash: string;

  async function call(tool: string, args: Record<string, unknown>) {
    const result = await client.callTool({ name: tool, arguments: args });
    const text = (result.content as { text?: string }[])[0]?.text ?? '';
    return { isError: result.isError === true, text, data: result.structuredContent as Record<string, unknown> };
  }

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'memory.db');
    svc = await startService(service, {
      env: serviceEnv(path, {
        MEMORY_MAX_CONTENT_BYTES: '1000',
        MEMORY_MAX_METADATA_BYTES: '200',
        MEMORY_MAX_TAGS: '4',
      }),
    });
    client = await connectClient(svc.url, kind);
    hash = (await call('memory_store', { content: 'The deploy key rotates monthly', tags: ['ops', 'keys'] })).data[
      'hash'
    ] as string;
    await call('memory_store', { content: 'Alice owns the billing service', tags: ['ops'] });
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    cleanup();
  });

  const deep = (levels: number): Record<string, unknown> => (levels === 0 ? {} : { d: deep(levels - 1) });
  const attempts = (): Attempt[] => [
    ['content too large', 'memory_store', { content: 'x'.repeat(1001) }, /content is 1001 bytes; the limit is 1000/],
    ['content too large in UTF-8', 'memory_store', { content: '€'.repeat(334) }, /content is 1002 bytes/],
    ['content NUL', 'memory_store', { content: 'a\u0000b' }, /NUL/],
    ['content only whitespace', 'memory_store', { content: '\u2003\n\t' }, /content is empty/],
    ['content lone surrogate', 'memory_store', { content: 'a\ud83d' }, /lone surrogate/],
    ['tag with SQL', 'memory_store', { content: 'fine', tags: [SQL] }, /may only hold letters/],
    ['tag with comma', 'memory_store', { content: 'fine', tags: ['a,b'] }, /may only hold letters/],
    ['tag with control character', 'memory_store', { content: 'fine', tags: ['a\u0001'] }, /may only hold letters/],
    ['too many tags', 'memory_store', { content: 'fine', tags: ['a', 'b', 'c', 'd', 'e'] }, /5 tags; at most 4/],
    ['tag too long', 'memory_store', { content: 'fine', tags: ['t'.repeat(65)] }, /longer than 64 characters/],
    ['type with SQL', 'memory_store', { content: 'fine', type: SQL }, /may only hold letters/],
    [
      'metadata too large',
      'memory_store',
      { content: 'fine', metadata: { a: 'x'.repeat(300) } },
      /metadata is \d+ bytes of JSON; the limit is 200/,
    ],
    ['metadata too deep', 'memory_store', { content: 'fine', metadata: deep(20) }, /nested more than 16 levels/],
    ['conversation id control', 'memory_store', { content: 'fine', conversation_id: 'a\nb' }, /conversation_id/],
    ['get: SQL in hash', 'memory_get', { hash: `${'a'.repeat(60)}' OR '1'='1` }, /is not a content hash/],
    ['get: LIKE wildcard hash', 'memory_get', { hash: '%' }, /is not a content hash/],
    ['update: bad hash', 'memory_update', { hash: '*', tags: ['x'] }, /is not a content hash/],
    ['update: bad tag', 'memory_update', { hash: 'HASH', tags: ['ok', 'no good!'] }, /may only hold letters/],
    ['update: metadata too large', 'memory_update', { hash: 'HASH', metadata: { a: 'x'.repeat(300) } }, /limit is 200/],
    ['update: nothing', 'memory_update', { hash: 'HASH' }, /nothing to update/],
    ['update: unknown memory', 'memory_update', { hash: 'b'.repeat(64), tags: ['x'] }, /No memory with hash/],
    ['delete: bulk without confirm', 'memory_delete', { tags: ['ops'] }, /would delete 2 memories; send confirm: true/],
    ['delete: time without confirm', 'memory_delete', { time_expr: 'today' }, /would delete 2 memories/],
    ['delete: nothing named', 'memory_delete', {}, /say what to delete/],
    ['delete: empty tags', 'memory_delete', { tags: [], confirm: true }, /tags is empty/],
    ['delete: hash and tags', 'memory_delete', { hash: 'HASH', tags: ['ops'], confirm: true }, /either hash, or/],
    ['delete: wildcard hash', 'memory_delete', { hash: '%', confirm: true }, /is not a content hash/],
    ['delete: bad time', 'memory_delete', { time_expr: `1 day ago; ${SQL}`, confirm: true }, /is not understood/],
    ['delete: bad date', 'memory_delete', { before: "2026-01-01' OR 1=1", confirm: true }, /is not an ISO 8601 date/],
    ['delete_memory alias: bad hash', 'delete_memory', { content_hash: SQL }, /is not a content hash/],
    ['search: bad tag', 'memory_search', { query: 'x', tags: [SQL] }, /may only hold letters/],
  ];

  it('refuses each attempt with a clear error and changes nothing', async () => {
    for (const [label, tool, raw, message] of attempts()) {
      const args = Object.fromEntries(
        Object.entries(raw).map(([key, value]) => [key, value === 'HASH' ? hash : value]),
      );
      const before = dumpDatabase(path);
      const result = await call(tool, args);
      expect(result.isError, `${label} was not refused: ${result.text}`).toBe(true);
      expect(result.text, label).toMatch(message);
      expect(result.text).not.toContain(dir);
      expect(dumpDatabase(path).text, label).toBe(before.text);
    }
  });

  it('reads FTS5 syntax in a query as plain words: no error, no other matches, nothing changed', async () => {
    const before = dumpDatabase(path);
    const queries = [
      '"unbalanced',
      'deploy OR billing',
      'NEAR(deploy key)',
      'content:deploy',
      'deploy*',
      '^deploy',
      'deploy AND NOT key',
      ')))((( deploy',
      "deploy'; DROP TABLE memories; --",
      '{content}: deploy',
      '\u0000deploy',
    ];
    for (const query of queries) {
      for (const mode of ['exact', 'hybrid']) {
        const result = await call('memory_search', { query, mode });
        expect(result.isError, `${query} (${mode}): ${result.text}`).toBe(false);
      }
    }
    // The words must all appear: "OR" and "billing" are two more words, not an alternative.
    const or = await call('memory_search', { query: 'deploy OR billing', mode: 'exact' });
    expect(or.data['count']).toBe(0);
    // "content:deploy" is the words content and deploy, not a column filter.
    const column = await call('memory_search', { query: 'deploy key', mode: 'exact' });
    expect((column.data['results'] as { hash: string }[]).map((hit) => hit.hash)).toEqual([hash]);
    expect(dumpDatabase(path).text).toBe(before.text);
  });
});
