/**
 * The query processes: reads answer from a child process; an abandoned read (timeout, cancel,
 * hang-up) is answered at once with the signal's reason and its process is killed, and the next
 * read gets a fresh process; close() refuses what waits.
 */
import { join } from 'node:path';

import { loadConfig } from '@mcp-sse/core';
import { waitUntil } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { configSchema } from '../src/config.js';
import { MemoryStore } from '../src/memory-store.js';
import { QueryPool } from '../src/query-pool.js';
import { tempDir } from './helpers.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
