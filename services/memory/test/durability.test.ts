/**
 * Durability and concurrency on a real file: the real service, run as its own process, is SIGKILLed
 * the moment the Nth store is acknowledged and loses none of them; several processes writing at
 * once (and the service) lose nothing and leave every index consistent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { rpc, startServiceProcess } from '@mcp-sse/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.source.json', import.meta.url));

/** Reopens the file as a restarted service would (read-write, so SQLite recovers the WAL). */
function readBack(path: string) {
  const db = new Database(path);
  try {
    const count = (sql: string) => db.prepare(sql).pluck().get() as number;
    return {
      hashes: new Set(db.prepare('SELECT hash FROM memories').pluck().all() as string[]),
      memories: count('SELECT count(*) FROM memories'),
      vectors: count('SELECT count(*) FROM memory_vectors_g1'),
      codes: count('SELECT count(*) FROM memory_codes_g1'),
      fts: count("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'writes OR durable'"),
      tagged: count('SELECT count(DISTINCT memory_id) FROM memory_tags'),
      stored_events: count("SELECT count(*) FROM events WHERE type = 'memory_stored'"),
      integrity: db.pragma('integrity_check', { simple: true }),
      fts_integrity:
        db.prepare("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')").run().changes >= 0,
    };
  } finally {
    db.close();
  }
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    parts.forEach(onLine);
  });
}

describe('durability and concurrency', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterAll(() => cleanup());

  it('keeps every store the service acknowledged over /rpc after kill -9', async () => {
    const path = join(dir, 'killed', 'memory.db');
    const svc = await startServiceProcess('src/main.ts', {
      cwd: serviceDir,
      env: { MEMORY_DB_PATH: path, MCP_RATE_LIMIT: '0', TSX_TSCONFIG_PATH: tsconfig },
    });
    const acked: string[] = [];
    const target = 60;
    let killed = false;
    const writer = async (w: number) => {
      for (let n = 0; !killed; n++) {
        try {
          const answer = await rpc(svc.url, 'tools/call', {
            name: 'memory_store',
            arguments: { content: `durable memory ${w}-${n}`, tags: [`w${w}`] },
          });
          const result = (answer.body as { result?: { isError?: boolean; structuredContent?: { hash: string } } })
            .result;
          if (result?.structuredContent && result.isError !== true) {
            acked.push(result.structuredContent.hash);
            if (acked.length >= target && !killed) {
              killed = true;
              await svc.stop('SIGKILL');
            }
          }
        } catch {
          return; // The connection died with the process: never acknowledged.
        }
      }
    };
    await Promise.all([1, 2, 3, 4].map(writer));
    expect(acked.length).toBeGreaterThanOrEqual(target);
    const back = readBack(path);
    expect(acked.filter((hash) => !back.hashes.has(hash))).toEqual([]);
    expect(back.integrity).toBe('ok');
    // Every stored memory is whole: its vector, code, words, tags and event committed with it.
    expect([back.vectors, back.codes, back.fts, back.tagged, back.stored_events]).toEqual(Array(5).fill(back.memories));
  }, 90_000);

  it('loses nothing when several processes write at once', async () => {
    const path = join(dir, 'concurrent', 'memory.db');
    // The service creates the file and stays up, storing too, while three other processes write.
    const svc = await startServiceProcess('src/main.ts', {
      cwd: serviceDir,
      env: { MEMORY_DB_PATH: path, MCP_RATE_LIMIT: '0', TSX_TSCONFIG_PATH: tsconfig },
    });
    try {
      const acked: string[] = [];
      const perWriter = 40;
      const writers = ['alpha', 'beta', 'gamma'].map(
        (name) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', 'test/concurrent-writer.ts', path, name, String(perWriter)],
              {
                cwd: serviceDir,
                stdio: ['ignore', 'pipe', 'pipe'],
              },
            );
            let stderr = '';
            child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            lines(child, (line) => {
              const hash = /^ack ([0-9a-f]{64})$/.exec(line)?.[1];
              if (hash) acked.push(hash);
            });
            child.once('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`${name} exited ${code}: ${stderr}`)),
            );
          }),
      );
      const viaService = (async () => {
        for (let i = 0; i < 20; i++) {
          const answer = await rpc(svc.url, 'tools/call', {
            name: 'memory_store',
            arguments: { content: `service writes memory ${i}` },
          });
          acked.push(
            (answer.body as { result: { structuredContent: { hash: string } } }).result.structuredContent.hash,
          );
        }
      })();
      await Promise.all([...writers, viaService]);
      expect(acked).toHaveLength(3 * perWriter + 20);
      const back = readBack(path);
      expect(acked.filter((hash) => !back.hashes.has(hash))).toEqual([]);
      expect(back.memories).toBe(3 * perWriter + 20);
      expect([back.vectors, back.codes, back.fts, back.stored_events]).toEqual(Array(4).fill(back.memories));
      expect(back.integrity).toBe('ok');
    } finally {
      await svc.stop();
    }
  }, 120_000);
});
