/**
 * The query processes: reads answer from a child process; an abandoned read (timeout, cancel,
 * hang-up) is answered at once with the signal's reason and its process is killed, and the next
 * read gets a fresh process; close() refuses what waits.
 */
import { join } from 'node:path';

import { loadConfig } from '@mcp-sse/core';
import { isAlive, waitUntil } from '@mcp-sse/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { configSchema } from '../src/config.js';
import { MemoryStore, WARM_AT_START_MEMORIES } from '../src/memory-store.js';
import { QueryPool } from '../src/query-pool.js';
import { tempDir } from './helpers.js';

describe('QueryPool', () => {
  let path: string;
  let cleanup: () => void;

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'memory.db');
    // A database with a few memories, made by the store itself.
    const store = new MemoryStore(loadConfig(configSchema, { MEMORY_DB_PATH: path }));
    for (let i = 0; i < 5; i++) await store.store({ content: `pool memory ${i}` });
    store.close();
  });
  afterAll(() => cleanup());

  it('answers from a child, kills the child of an abandoned read, and starts a fresh one', async () => {
    const pool = new QueryPool({ path, busyTimeoutMs: 1000, workers: 1, maxQueued: 4 });
    try {
      const stats = await pool.run<{ memories: number }>({ op: 'stats', args: {} });
      expect(stats.memories).toBe(5);
      const [first] = pool.pids();
      expect(first).toBeDefined();

      const controller = new AbortController();
      const pending = pool.run({ op: 'stats', args: {} }, controller.signal);
      controller.abort(new Error('caller gave up'));
      await expect(pending).rejects.toThrow('caller gave up');
      await waitUntil(() => !isAlive(first!), 'the abandoned read’s process to die');

      const again = await pool.run<{ memories: number }>({ op: 'stats', args: {} });
      expect(again.memories).toBe(5);
      expect(pool.pids()).not.toContain(first);
    } finally {
      pool.close();
    }
  });

  it('starts no child before the first read, and every child with it', async () => {
    const pool = new QueryPool({ path, busyTimeoutMs: 1000, workers: 3, maxQueued: 8 });
    try {
      expect(pool.pids()).toEqual([]);
      const stats = await pool.run<{ memories: number }>({ op: 'stats', args: {} });
      expect(stats.memories).toBe(5);
      expect(pool.pids()).toHaveLength(3);
      // The children warmed for later reads answer them.
      const results = await Promise.all([1, 2, 3].map(() => pool.run<{ memories: number }>({ op: 'stats', args: {} })));
      expect(results.map((result) => result.memories)).toEqual([5, 5, 5]);
      expect(pool.pids()).toHaveLength(3);
    } finally {
      pool.close();
    }
  });

  it('refuses beyond its queue, and refuses everything once closed', async () => {
    const pool = new QueryPool({ path, busyTimeoutMs: 1000, workers: 1, maxQueued: 1 });
    const running = pool.run({ op: 'stats', args: {} });
    const queued = pool.run({ op: 'stats', args: {} });
    await expect(pool.run({ op: 'stats', args: {} })).rejects.toThrow('Too many reads at once (1 running, 1 waiting)');
    pool.close();
    await expect(running).rejects.toThrow('The memory database is closed');
    await expect(queued).rejects.toThrow('The memory database is closed');
    await expect(pool.run({ op: 'stats', args: {} })).rejects.toThrow('The memory database is closed');
  });
});

/**
 * When the store's query processes start: a second after the service for a store of
 * WARM_AT_START_MEMORIES or more (its codes take a while to load), with the first read below that
 * (an idle service is then one process). The second is a fake timer's.
 */
describe('MemoryStore: when the query processes start', () => {
  let path: string;
  let cleanup: () => void;
  const open: MemoryStore[] = [];

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'memory.db');
    const store = new MemoryStore(loadConfig(configSchema, { MEMORY_DB_PATH: path }));
    for (let i = 0; i < 5; i++) await store.store({ content: `start memory ${i}` });
    store.close();
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const store of open.splice(0)) store.close();
  });
  afterAll(() => cleanup());

  const started = (warmAtStartMemories?: number) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new MemoryStore(
      loadConfig(configSchema, { MEMORY_DB_PATH: path, MEMORY_QUERY_WORKERS: '2' }),
      warmAtStartMemories === undefined ? {} : { warmAtStartMemories },
    );
    open.push(store);
    store.start();
    return store;
  };

  it('leaves a store below the threshold without query processes until its first read, which starts them all', async () => {
    expect(WARM_AT_START_MEMORIES).toBe(100_000);
    const store = started();
    expect(store.warmsAtStart).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(store.queryPids()).toEqual([]);
    vi.useRealTimers();
    const stats = await store.stats();
    expect(stats.memories).toBe(5);
    expect(store.queryPids()).toHaveLength(2);
  });

  it('starts a store at the threshold’s query processes a second after start, before any read', () => {
    // 5 memories, ids 1 to 5: the largest id is what is compared.
    for (const [threshold, warms] of [
      [5, true],
      [6, false],
      [1, true],
    ] as const) {
      const store = started(threshold);
      expect(store.warmsAtStart).toBe(warms);
      vi.advanceTimersByTime(999);
      expect(store.queryPids()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(store.queryPids()).toHaveLength(warms ? 2 : 0);
      store.close();
      open.splice(open.indexOf(store), 1);
      vi.useRealTimers();
    }
  });
});
