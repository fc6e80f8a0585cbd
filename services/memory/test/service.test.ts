/**
 * Every tool over both MCP transports (and /rpc), the original plan's aliases, and the guarantees
 * the tools add on top of the store: answers within MCP_MAX_RESULT_BYTES, clear errors.
 */
import { join } from 'node:path';

import { type ClientTransportKind, connectClient, rpc, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { serviceEnv, tempDir } from './helpers.js';

interface Item {
  hash: string;
  content: string;
}
/** A list of memories out of a structured answer. */
const items = (value: unknown): Item[] => value as Item[];
const hashes = (value: unknown): string[] => items(value).map((item) => item.hash);

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('memory tools over %s', (kind) => {
  let svc: StartedService;
  let client: Client;
  let cleanup: () => void;

  async function call(name: string, args: Record<string, unknown> = {}) {
    const result = await client.callTool({ name, arguments: args });
    const text = (result.content as { text?: string }[])[0]?.text ?? '';
    return { isError: result.isError === true, text, data: result.structuredContent as Record<string, unknown> };
  }

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    svc = await startService(service, {
      env: serviceEnv(join(dir, 'memory.db'), {
        MCP_MAX_RESULT_BYTES: '16384',
        // The most that still fits one memory in a 16 KiB answer at JSON's worst escaping.
        MEMORY_MAX_CONTENT_BYTES: '1200',
        MEMORY_MAX_METADATA_BYTES: '100',
      }),
    });
    client = await connectClient(svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    cleanup();
  });

  it('lists every tool with the aliases', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual([
      'memory_store',
      'memory_search',
      'memory_list',
      'memory_get',
      'memory_update',
      'memory_delete',
      'memory_tags',
      'memory_stats',
      'store_memory',
      'retrieve_memory',
      'search_by_tag',
      'recall_by_timeframe',
      'delete_memory',
    ]);
  });

  it('stores, deduplicates, gets, searches, lists, updates, counts and deletes', async () => {
    const stored = await call('memory_store', {
      content: 'The user prefers dark mode in every editor',
      tags: ['Prefs', 'UI'],
      type: 'preference',
      metadata: { source: 'chat', turn: 3 },
      conversation_id: 'conv-1',
    });
    expect(stored.isError).toBe(false);
    const hash = stored.data['hash'] as string;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.data['created']).toBe(true);
    expect(stored.data['memory']).toMatchObject({
      content: 'The user prefers dark mode in every editor',
      tags: ['prefs', 'ui'],
      type: 'preference',
      metadata: { source: 'chat', turn: 3 },
      conversation_id: 'conv-1',
    });
    const again = await call('memory_store', { content: '\tThe user prefers dark mode in every editor  ' });
    expect([again.data['hash'], again.data['created']]).toEqual([hash, false]);
    await call('memory_store', { content: 'Deploys happen on Tuesdays after review', tags: ['process'] });

    expect((await call('memory_get', { hash: hash.toUpperCase() })).data['memory']).toMatchObject({ hash });
    const found = await call('memory_search', { query: 'dark theme editor' });
    expect(hashes(found.data['results'])[0]).toBe(hash);
    expect(found.data['count']).toBe(2);
    expect(found.data['strategy']).toBe('quantised+rescore');
    const exact = await call('memory_search', { query: 'tuesdays', mode: 'exact' });
    expect(items(exact.data['results']).map((hit) => hit.content)).toEqual(['Deploys happen on Tuesdays after review']);
    const hybrid = await call('memory_search', { query: 'deploy tuesday', mode: 'hybrid', tags: ['process'] });
    expect(hybrid.data['strategy']).toBe('exact-scan');
    expect(hybrid.data['count']).toBe(1);

    const listed = await call('memory_list', { page_size: 1 });
    expect([listed.data['total'], listed.data['pages'], items(listed.data['memories']).length]).toEqual([2, 2, 1]);

    const updated = await call('memory_update', { hash, tags: ['ui', 'Editor'], type: null });
    expect(updated.data['memory']).toMatchObject({ tags: ['editor', 'ui'], type: null });
    expect(updated.data['changed']).toBe(true);

    const tags = await call('memory_tags');
    expect(tags.data['tags']).toEqual([
      { tag: 'editor', count: 1 },
      { tag: 'process', count: 1 },
      { tag: 'ui', count: 1 },
    ]);
    const stats = await call('memory_stats');
    expect(stats.data['memories']).toBe(2);
    // Two stores and one update; the second store of the same content changed nothing.
    expect((stats.data['events'] as { count: number }).count).toBe(3);

    const deleted = await call('memory_delete', { hash });
    expect(deleted.data).toEqual({ deleted: 1, matched: 1, dry_run: false, hashes: [hash] });
    const gone = await call('memory_get', { hash });
    expect(gone.isError).toBe(true);
    expect(gone.text).toBe(`No memory with hash ${hash}`);
  });

  it("serves the original plan's names from the same code", async () => {
    const stored = await call('store_memory', { content: 'Alice likes green tea', tags: ['alice'] });
    const hash = stored.data['hash'] as string;
    expect(stored.data['created']).toBe(true);
    const retrieved = await call('retrieve_memory', { query: 'what tea does alice like', n_results: 1 });
    expect(hashes(retrieved.data['results'])).toEqual([hash]);
    const byTag = await call('search_by_tag', { tags: ['ALICE'] });
    expect(hashes(byTag.data['memories'])).toEqual([hash]);
    const recalled = await call('recall_by_timeframe', { time_expr: 'today' });
    expect(hashes(recalled.data['memories'])).toContain(hash);
    const noTime = await call('recall_by_timeframe', {});
    expect([noTime.isError, noTime.text]).toEqual([true, 'give time_expr, or start_date and/or end_date']);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const byDates = await call('recall_by_timeframe', { start_date: yesterday, query: 'tea' });
    expect(hashes(byDates.data['memories'])[0]).toBe(hash);
    expect((await call('delete_memory', { content_hash: hash })).data['deleted']).toBe(1);
    expect((await call('delete_memory', { content_hash: hash })).text).toBe(`No memory with hash ${hash}`);
  });

  it('keeps answers within MCP_MAX_RESULT_BYTES, saying truncated', async () => {
    const big = 'x'.repeat(1150);
    for (let i = 0; i < 20; i++) await call('memory_store', { content: `${big} ${i}`, tags: ['big'] });
    const listed = await call('memory_list', { tags: ['big'], page_size: 20 });
    expect(listed.isError).toBe(false);
    expect(listed.data['truncated']).toBe(true);
    expect(items(listed.data['memories']).length).toBeLessThan(20);
    expect(Buffer.byteLength(listed.text)).toBeLessThanOrEqual(16384);
    const searched = await call('memory_search', { query: 'xxx', tags: ['big'], limit: 20 });
    expect(searched.data['truncated']).toBe(true);
    expect((await call('memory_delete', { tags: ['big'], confirm: true })).data['deleted']).toBe(20);
  });

  it('answers bad arguments with errors that say what was wrong', async () => {
    const cases: [string, Record<string, unknown>, string | RegExp][] = [
      ['memory_get', { hash: 'abc' }, 'hash "abc" is not a content hash (64 hexadecimal digits)'],
      ['memory_search', { query: 'x', time_expr: 'the other day' }, /^time_expr "the other day" is not understood/],
      ['memory_search', { query: 'x', after: 'last tuesday' }, /^after "last tuesday" is not an ISO 8601 date/],
      [
        'memory_search',
        { query: '!!!', mode: 'exact' },
        'query has no word to match (exact search looks for letters and digits)',
      ],
      ['memory_store', { content: '   ' }, 'content is empty (only whitespace)'],
      ['memory_store', { content: 'x', tags: ['a,b'] }, /^tag "a,b" may only hold letters/],
      ['memory_delete', { tags: ['prefs'] }, /^this would delete 0 memories; send confirm: true/],
      ['memory_delete', {}, 'say what to delete: hash, or tags, type, after, before or time_expr'],
    ];
    for (const [tool, args, message] of cases) {
      const result = await call(tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      if (typeof message === 'string') expect(result.text).toBe(message);
      else expect(result.text).toMatch(message);
    }
  });
});

describe('memory tools over /rpc', () => {
  it('answer like the MCP transports', async () => {
    const { dir, cleanup } = tempDir();
    const svc = await startService(service, { env: serviceEnv(join(dir, 'memory.db')) });
    try {
      const stored = await rpc(svc.url, 'tools/call', { name: 'memory_store', arguments: { content: 'over rpc' } });
      const result = (
        stored.body as { result: { structuredContent: { created: boolean; memory: { content: string } } } }
      ).result;
      expect([result.structuredContent.created, result.structuredContent.memory.content]).toEqual([true, 'over rpc']);
    } finally {
      await svc.close();
      cleanup();
    }
  });
});
