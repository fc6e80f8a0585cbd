/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings:
 * FTS and SQL fragments, NUL, confusables, long text; and ill-shaped), sent through a real MCP
 * client to the service run as a real process. First the read-only tools: the database (schema,
 * every row, the FTS and vector shadow tables) and the files around it must be exactly as before.
 * Then every tool: the writes may change memories, but no file may appear beside the database and
 * the process must stay healthy. FUZZ_RUNS / FUZZ_SEED: see the README's Testing section.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fuzzService, fuzzSettings, isReadOnlyTool, rpc, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dumpDatabase, tempDir } from './helpers.js';

const FILE = 'services/memory/test/tools.fuzz.test.ts';
const settings = fuzzSettings(5);
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.source.json', import.meta.url));

/** The files beside the database, less SQLite's own companions. */
function foreignFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !/^memory\.db(-wal|-shm|-journal)?$/.test(name))
    .sort();
}

describe('memory tools under fuzzing', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  it('every tool answers in time and the process stays healthy; the read-only tools change nothing, and no file appears beside the database', async () => {
    const path = join(dir, 'memory.db');
    const proc = await startServiceProcess('src/main.ts', {
      cwd: serviceDir,
      env: { MEMORY_DB_PATH: path, MCP_RATE_LIMIT: '0', TSX_TSCONFIG_PATH: tsconfig, MCP_TOOL_TIMEOUT_MS: '20000' },
    });
    try {
      const hashes: string[] = [];
      for (const [content, tags] of [
        ['The deploy key rotates monthly', ['ops', 'keys']],
        ['Alice owns the billing service', ['ops']],
      ] as const) {
        const stored = await rpc(proc.url, 'tools/call', { name: 'memory_store', arguments: { content, tags } });
        const hash = (stored.body as { result?: { structuredContent?: { hash?: string } } }).result?.structuredContent
          ?.hash;
        expect(typeof hash).toBe('string');
        hashes.push(hash ?? '');
      }
      const hints = {
        known: {
          hash: hashes,
          content_hash: hashes,
          tags: [['ops'], ['keys', 'ops']],
          query: ['deploy key', 'billing', 'ops*', '"unterminated', 'NEAR(a b)'],
          time_expr: ['yesterday', 'last week', 'last 3 days', 'in 1000000 years'],
        },
      };
      const reads = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        select: isReadOnlyTool,
        dump: async () => ({ database: dumpDatabase(path).text, files: foreignFiles(dir) }),
      });
      console.info(`memory read-only tools: ${reads.summary}`);
      const all = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        dump: async () => foreignFiles(dir),
      });
      console.info(`memory all tools: ${all.summary}`);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 180_000);
});
