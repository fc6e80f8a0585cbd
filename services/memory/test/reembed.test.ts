/**
 * Embeddings recorded in the database: a start with other settings is refused with both named and
 * the re-embed command; the command re-embeds in batches, survives a failing provider (resumable),
 * picks up memories stored meanwhile, and switches; then the service starts and finds by meaning.
 */
import { join } from 'node:path';

import { rpc, startService } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { builtinProvider, type EmbeddingProvider } from '../src/embeddings.js';
import { reembed } from '../src/reembed.js';
import { openConnection, readSpec, vectorTables } from '../src/schema.js';
import { service } from '../src/service.js';
import { serviceEnv, tempDir } from './helpers.js';

describe('embeddings recorded in the database', () => {
  it('refuses a start with other embeddings, re-embeds resumably, then starts', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'memory.db');
    try {
      const first = await startService(service, { env: serviceEnv(path) });
      const contents = Array.from({ length: 25 }, (_, i) => `memory number ${i} about topic ${i % 5}`);
      for (const content of contents)
        await rpc(first.url, 'tools/call', { name: 'memory_store', arguments: { content } });
      await first.close();

      await expect(startService(service, { env: serviceEnv(path, { EMBEDDINGS_DIMENSIONS: '256' }) })).rejects.toThrow(
        'The memory database was embedded with builtin:hashed-ngrams-v1 (384 dimensions), but the settings ask for ' +
          'builtin:hashed-ngrams-v1 (256 dimensions). Vectors of different embeddings cannot be compared. Either restore ' +
          'the old EMBEDDINGS settings, or re-embed every memory with the new ones: pnpm --filter @mcp-sse/memory reembed',
      );

      // A provider that fails on its third batch: the run stops with the error, progress kept.
      const target = builtinProvider(256);
      let calls = 0;
      const flaky: EmbeddingProvider = {
        spec: target.spec,
        embed: async (texts) => {
          calls++;
          if (calls === 3) throw new Error('endpoint down');
          return target.embed(texts);
        },
      };
      const db = openConnection({ path, busyTimeoutMs: 5000 });
      await expect(reembed(db, flaky, { batchSize: 10 })).rejects.toThrow('endpoint down');
      expect(readSpec(db)).toMatchObject({ dimensions: 384, generation: 1 });
      const done = db
        .prepare(`SELECT count(*) FROM ${vectorTables(2).floats}`)
        .pluck()
        .get();
      expect(done).toBe(20);

      // A memory stored meanwhile by the old settings' writer is picked up too.
      db.close();
      const meanwhile = await startService(service, { env: serviceEnv(path) });
      await rpc(meanwhile.url, 'tools/call', {
        name: 'memory_store',
        arguments: { content: 'stored during the re-embed' },
      });
      await meanwhile.close();

      const db2 = openConnection({ path, busyTimeoutMs: 5000 });
      const lines: string[] = [];
      const result = await reembed(db2, flaky, { batchSize: 10, log: (line) => lines.push(line) });
      expect(result).toMatchObject({ embedded: 6, generation: 2, switched: true });
      expect(lines[0]).toContain('resuming after id 20');
      expect(readSpec(db2)).toEqual({ provider: 'builtin', model: 'hashed-ngrams-v1', dimensions: 256, generation: 2 });
      expect(
        db2
          .prepare(`SELECT count(*) FROM ${vectorTables(2).codes}`)
          .pluck()
          .get(),
      ).toBe(26);
      expect(db2.prepare("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'memory_%_g1'").pluck().get()).toBe(0);
      // Again: nothing to do.
      expect((await reembed(db2, target, { batchSize: 10 })).switched).toBe(false);
      db2.close();

      const after = await startService(service, { env: serviceEnv(path, { EMBEDDINGS_DIMENSIONS: '256' }) });
      const answer = await rpc(after.url, 'tools/call', {
        name: 'memory_search',
        arguments: { query: 'memory number 7', limit: 1 },
      });
      const results = (answer.body as { result: { structuredContent: { results: { content: string }[] } } }).result
        .structuredContent.results;
      expect(results.map((hit) => hit.content)).toEqual(['memory number 7 about topic 2']);
      await after.close();
    } finally {
      cleanup();
    }
  }, 60_000);

  it('lets an empty database take new settings without a re-embed', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'memory.db');
    try {
      await (await startService(service, { env: serviceEnv(path) })).close();
      const other = await startService(service, { env: serviceEnv(path, { EMBEDDINGS_DIMENSIONS: '128' }) });
      await other.close();
      const db = openConnection({ path, busyTimeoutMs: 5000 });
      expect(readSpec(db)).toMatchObject({ dimensions: 128, generation: 2 });
      db.close();
    } finally {
      cleanup();
    }
  });
});
