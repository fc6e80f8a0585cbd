/**
 * The memory store as the tools and the REST API use it, with an injected clock: dedup, every
 * filter (tags any/all, type, after/before, time expressions), the three search modes, paging,
 * the answer budget, updates and deletes (single, bulk with dry_run and confirm).
 */
import { join } from 'node:path';

import { loadConfig } from '@mcp-sse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { configSchema } from '../src/config.js';
import { MemoryStore } from '../src/memory-store.js';
import { tempDir } from './helpers.js';

const DAY = 86_400_000;
// Wednesday 2026-06-17 12:00 UTC.
const NOW = Date.UTC(2026, 5, 17, 12);

describe('MemoryStore', () => {
  let store: MemoryStore;
  let clock = NOW;
  let cleanup: () => void;
  const hashes: Record<string, string> = {};

  const store_ = async (key: string, at: number, content: string, extra: { tags?: string[]; type?: string } = {}) => {
    clock = at;
    const result = await store.store({ content, ...extra });
    hashes[key] = result.hash;
    return result;
  };

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    const config = loadConfig(configSchema, { MEMORY_DB_PATH: join(dir, 'memory.db'), MEMORY_DELETE_BATCH: '2' });
    store = new MemoryStore(config, { now: () => clock });
    store.start();
    await store_('dark', NOW - 2 * 3_600_000, 'The user prefers dark mode in every editor', {
      tags: ['prefs', 'UI'],
      type: 'preference',
    });
    await store_('deploy', NOW - 1 * DAY, 'Deploys happen on Tuesdays after the review meeting', {
      tags: ['process'],
      type: 'decision',
    });
    await store_('coffee', NOW - 3 * DAY, 'Alice drinks her coffee black, no sugar', { tags: ['prefs', 'alice'] });
    await store_('march', Date.UTC(2026, 2, 10), 'In March we moved the database to PostgreSQL 17', {
      tags: ['infra'],
      type: 'decision',
    });
    await store_('lastweek', NOW - 8 * DAY, 'Budget review postponed to July', { tags: ['process', 'finance'] });
    await store_('lastyear', Date.UTC(2025, 10, 5), 'The old office was in Leeds', { tags: ['alice'] });
    clock = NOW;
  });

  afterAll(() => {
    store.close();
    cleanup();
  });

  const search = async (query: string, extra: Record<string, unknown> = {}) => {
    const result = await store.search({ query, mode: 'semantic', tag_match: 'any', limit: 10, ...extra }, 4_000_000);
    return result.results.map((hit) => Object.entries(hashes).find(([, hash]) => hash === hit.hash)?.[0]);
  };

  it('deduplicates by the hash of the trimmed content, leaving the first memory as it was', async () => {
    const again = await store.store({ content: '  The user prefers dark mode in every editor\n', tags: ['other'] });
    expect(again.created).toBe(false);
    expect(again.hash).toBe(hashes['dark']);
    expect(again.memory.tags).toEqual(['prefs', 'ui']);
    // A different inner character is a different memory.
    const other = await store.store({ content: 'The user prefers dark mode in every editor!' });
    expect(other.created).toBe(true);
    await store.delete({ hash: other.hash, tag_match: 'any', dry_run: false, confirm: false });
  });

  it('finds by meaning, by words and by both', async () => {
    expect((await search('dark theme in the editor'))[0]).toBe('dark');
    expect(await search('coffee sugar', { mode: 'exact' })).toEqual(['coffee']);
    // Porter stemming: "deploy" matches "Deploys", "meetings" matches "meeting".
    expect(await search('deploy meetings', { mode: 'exact' })).toEqual(['deploy']);
    expect((await search('when do deploys happen', { mode: 'hybrid' }))[0]).toBe('deploy');
    expect(await search('zebra unicorn', { mode: 'exact' })).toEqual([]);
  });

  it('filters by tags (any, all), type and time', async () => {
    expect((await search('preferences', { tags: ['prefs'] })).sort()).toEqual(['coffee', 'dark']);
    expect(await search('preferences', { tags: ['prefs', 'alice'], tag_match: 'all' })).toEqual(['coffee']);
    expect((await search('preferences', { tags: ['PREFS', 'Alice'] })).sort()).toEqual(['coffee', 'dark', 'lastyear']);
    expect((await search('what was decided', { type: 'Decision' })).sort()).toEqual(['deploy', 'march']);
    expect(await search('anything', { after: '2026-06-17', before: '2026-06-18' })).toEqual(['dark']);
  });

  it.each([
    ['today', ['dark']],
    ['yesterday', ['deploy']],
    ['3 days ago', ['coffee']],
    // Sunday the 14th (coffee) closes last week; Tuesday the 9th (lastweek) is in it.
    ['last week', ['coffee', 'lastweek']],
    ['in March', ['march']],
    ['last year', ['lastyear']],
    ['past 2 days', ['dark', 'deploy']],
    ['this month', ['coffee', 'dark', 'deploy', 'lastweek']],
  ])('time_expr %j', async (expression, expected) => {
    expect((await search('memory', { time_expr: expression })).sort()).toEqual(expected);
  });

  it('intersects time_expr with after/before', async () => {
    expect(await search('memory', { time_expr: 'this month', after: '2026-06-16T00:00:00Z' })).toContain('deploy');
    expect(await search('memory', { time_expr: 'this month', before: '2026-06-10' })).toEqual(['lastweek']);
  });

  it('applies min_score and limit', async () => {
    const all = await store.search(
      { query: 'dark mode editor', mode: 'semantic', tag_match: 'any', limit: 10 },
      4_000_000,
    );
    expect(all.results.length).toBe(6);
    const scores = all.results.map((hit) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const strict = await store.search(
      { query: 'dark mode editor', mode: 'semantic', tag_match: 'any', limit: 10, min_score: scores[1]! },
      4_000_000,
    );
    expect(strict.results.map((hit) => hit.score)).toEqual(scores.slice(0, 2));
    const one = await store.search(
      { query: 'dark mode editor', mode: 'semantic', tag_match: 'any', limit: 1 },
      4_000_000,
    );
    expect(one.results).toHaveLength(1);
  });

  it('lists newest first, paged, filtered; and stops at the byte budget', async () => {
    const page1 = await store.list({ page: 1, page_size: 4, tag_match: 'any' }, 4_000_000);
    expect([page1.total, page1.pages, page1.memories.length, page1.truncated]).toEqual([6, 2, 4, false]);
    expect(page1.memories[0]?.hash).toBe(hashes['dark']);
    const page2 = await store.list({ page: 2, page_size: 4, tag_match: 'any' }, 4_000_000);
    expect(page2.memories.map((memory) => memory.hash)).toEqual([hashes['march'], hashes['lastyear']]);
    const tagged = await store.list({ page: 1, page_size: 10, tags: ['process'], tag_match: 'any' }, 4_000_000);
    expect(tagged.memories.map((memory) => memory.hash)).toEqual([hashes['deploy'], hashes['lastweek']]);
    const small = await store.list({ page: 1, page_size: 10, tag_match: 'any' }, 1000);
    expect(small.truncated).toBe(true);
    expect(small.memories.length).toBeGreaterThan(0);
    expect(small.memories.length).toBeLessThan(6);
  });

  it('updates tags, type and metadata, and refuses an update of nothing', async () => {
    const updated = store.update({
      hash: hashes['coffee']!,
      tags: ['Alice', 'drinks'],
      type: 'fact',
      metadata: { source: 'chat' },
    });
    expect(updated.changed).toBe(true);
    expect(updated.memory).toMatchObject({ tags: ['alice', 'drinks'], type: 'fact', metadata: { source: 'chat' } });
    expect(store.update({ hash: hashes['coffee']!, tags: ['drinks', 'alice'] }).changed).toBe(false);
    expect(store.update({ hash: hashes['coffee']!, type: null }).memory.type).toBeNull();
    expect(() => store.update({ hash: hashes['coffee']! })).toThrow('nothing to update');
    expect(() => store.update({ hash: 'f'.repeat(64), tags: ['x'] })).toThrow(`No memory with hash ${'f'.repeat(64)}`);
  });

  it('counts tags and reports stats', async () => {
    const tags = await store.tagList(100, 4_000_000);
    expect(await store.tagList(100, 600)).toMatchObject({ truncated: true });
    expect(tags.tags.find((tag) => tag.tag === 'alice')?.count).toBe(2);
    const stats = await store.stats();
    expect(stats.memories).toBe(6);
    expect(stats.embeddings).toEqual({
      provider: 'builtin',
      model: 'hashed-ngrams-v1',
      dimensions: 384,
      generation: 1,
    });
  });

  it('bulk deletes: refuses without a criterion or confirm, shows a dry run, then deletes in batches', async () => {
    const base = { tag_match: 'any' as const, dry_run: false, confirm: false };
    await expect(store.delete(base)).rejects.toThrow('say what to delete');
    await expect(store.delete({ ...base, tags: [] })).rejects.toThrow('tags is empty');
    await expect(store.delete({ ...base, hash: hashes['dark'], tags: ['x'] })).rejects.toThrow('either hash, or');
    const dry = await store.delete({ ...base, tags: ['process', 'prefs'], dry_run: true });
    expect(dry).toEqual({
      deleted: 0,
      matched: 3,
      dry_run: true,
      hashes: [hashes['lastweek'], hashes['deploy'], hashes['dark']],
    });
    await expect(store.delete({ ...base, tags: ['process', 'prefs'] })).rejects.toThrow(
      'this would delete 3 memories; send confirm: true to do it',
    );
    expect((await store.stats()).memories).toBe(6);
    // MEMORY_DELETE_BATCH=2: three matches take two transactions.
    const done = await store.delete({ ...base, tags: ['process', 'prefs'], confirm: true });
    expect([done.deleted, done.matched]).toEqual([3, 3]);
    expect((await store.stats()).memories).toBe(3);
    expect((await search('dark mode')).includes('dark')).toBe(false);
    await expect(store.delete({ ...base, hash: hashes['dark'] })).rejects.toThrow('No memory with hash');
  });
});
