/**
 * Durability: an acknowledged write survives kill -9. The real service runs as a child process
 * (src/main.ts through tsx, exactly what dist/main.js runs), takes inserts over /rpc from several
 * concurrent writers, and is SIGKILLed the moment the Nth acknowledgement arrives. A second test
 * drives the database module in a tight loop for kills that land mid-commit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { isAlive } from '@mcp-sse/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cpuTicks, databaseChildPids, runawayWrite, tempDir, waitForCpu, waitUntil } from './helpers.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.source.json', import.meta.url));

function spawnTs(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: serviceDir,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Calls lines(line) for every stdout line of the child. */
function onLines(child: ChildProcess, lines: (line: string) => void): void {
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    parts.forEach(lines);
  });
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

/** Reopens the file as a restarted service would (read-write, so SQLite recovers the WAL). */
function readBack(path: string, sql: string): { values: number[]; integrity: unknown } {
  const db = new Database(path);
  try {
    return {
      values: db.prepare(sql).pluck().all() as number[],
      integrity: db.pragma('integrity_check', { simple: true }),
    };
  } finally {
    db.close();
  }
}

describe('durability', () => {
  let dir: string;
  let cleanup: () => void;

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
  });

  afterAll(() => cleanup());

  /** The real service as its own process (src/main.ts through tsx, what dist/main.js runs). */
  async function startServiceChild(path: string) {
    const child = spawnTs('src/main.ts', {
      DATABASE_PATH: path,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MCP_RATE_LIMIT: '0',
    });
    const exit = exited(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      onLines(child, (line) => {
        const address = /"address":"(http:[^"]+)"/.exec(line)?.[1];
        if (address) resolve(address);
      });
      void exit.then(() => reject(new Error(`service exited before listening: ${stderr}`)));
    });
    const callTool = async (name: string, args: Record<string, unknown>) => {
      const response = await fetch(`${url}/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
      });
      return (await response.json()) as { result?: { isError?: boolean; content?: { text: string }[] } };
    };
    return { child, exit, callTool };
  }

  /** Four concurrent writers insert until `target` inserts are acknowledged, then the service is killed (or `atTarget` runs). */
  async function insertUntil(
    callTool: Awaited<ReturnType<typeof startServiceChild>>['callTool'],
    target: number,
    atTarget: () => void,
  ): Promise<number[]> {
    const acked: number[] = [];
    let done = false;
    const writerLoop = async (writer: number) => {
      for (let n = 0; !done; n++) {
        const id = writer * 100_000 + n;
        try {
          const answer = await callTool('insert_record', {
            table_name: 'orders',
            data: { id, writer, note: `w${writer}` },
          });
          if (answer.result !== undefined && answer.result.isError !== true) {
            acked.push(id);
            if (acked.length >= target && !done) {
              done = true;
              atTarget();
            }
          }
        } catch {
          return; // The connection died with the process: this insert was never acknowledged.
        }
      }
    };
    await Promise.all([1, 2, 3, 4].map(writerLoop));
    return acked;
  }

  const ORDERS = { id: 'INTEGER PRIMARY KEY', writer: 'INTEGER NOT NULL', note: 'TEXT' };

  it('the service keeps every insert it acknowledged over /rpc after kill -9', async () => {
    const path = join(dir, 'service', 'durable.db');
    const { child, exit, callTool } = await startServiceChild(path);
    expect((await callTool('create_table', { table_name: 'orders', schema: ORDERS })).result?.isError).toBeFalsy();
    const target = 120;
    const acked = await insertUntil(callTool, target, () => child.kill('SIGKILL'));
    expect(await exit).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(target);

    const { values, integrity } = readBack(path, 'SELECT id FROM orders');
    const stored = new Set(values);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    expect(integrity).toBe('ok');
  }, 60_000);

  it('after attempts to open a transaction or turn durability off, acknowledged inserts survive kill -9 and a write in progress leaves nothing', async () => {
    const path = join(dir, 'hostile', 'durable.db');
    const { child, exit, callTool } = await startServiceChild(path);
    expect((await callTool('create_table', { table_name: 'orders', schema: ORDERS })).result?.isError).toBeFalsy();
    expect(
      (await callTool('create_table', { table_name: 'junk', schema: { v: 'INTEGER' } })).result?.isError,
    ).toBeFalsy();
    // The attacks and other spellings of them, each refused, whatever read_only says.
    for (const query of [
      ';BEGIN',
      ';BEGIN IMMEDIATE',
      '/* */ begin deferred transaction',
      'SAVEPOINT keep_open',
      ';PRAGMA synchronous=OFF',
      '\uFEFFPRAGMA synchronous = 0',
      ' \vPRAGMA main.synchronous(OFF)',
      'PRAGMA journal_mode=MEMORY',
      "PRAGMA 'synchronous' = 'OFF'",
    ]) {
      for (const read_only of [true, false]) {
        const answer = await callTool('execute_raw_query', { query, read_only });
        expect(answer.result?.isError, `${query}: ${answer.result?.content?.[0]?.text}`).toBe(true);
      }
    }
    const target = 120;
    const acked = await insertUntil(callTool, target, () => undefined);
    expect(acked.length).toBeGreaterThanOrEqual(target);
    // A write in progress when the service dies: its rows are in an open transaction, never acknowledged.
    const writer = databaseChildPids('writer', child.pid ?? 0)[0];
    expect(writer).toBeDefined();
    const since = cpuTicks(writer as number);
    // Never answered: the service dies first (the connection's failure is the expected outcome).
    const runaway = callTool('execute_raw_query', { query: runawayWrite('junk', 'v'), read_only: false }).catch(
      () => undefined,
    );
    await waitForCpu(writer as number, since, 30);
    child.kill('SIGKILL');
    expect(await exit).toBe('SIGKILL');
    await runaway;
    // The writer dies with the service (its parent-death signal), releasing the write lock.
    await waitUntil(() => !isAlive(writer as number), 5000, 'the writer to die with the service');

    const { values, integrity } = readBack(path, 'SELECT id FROM orders');
    const stored = new Set(values);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    expect(integrity).toBe('ok');
    expect(readBack(path, 'SELECT count(*) FROM junk').values).toEqual([0]);
  }, 60_000);

  it('the database module keeps every acknowledged write when killed mid-stream, across repeated crashes', async () => {
    const path = join(dir, 'module', 'durable.db');
    let total = 0;
    for (const killAfter of [200, 100]) {
      const child = spawnTs('test/durability-writer.ts', { DATABASE_PATH: path });
      const exit = exited(child);
      const acked: number[] = [];
      onLines(child, (line) => {
        const seq = /^ack (\d+)$/.exec(line)?.[1];
        if (seq === undefined || acked.length >= killAfter) return;
        acked.push(Number(seq));
        if (acked.length === killAfter) child.kill('SIGKILL');
      });
      expect(await exit).toBe('SIGKILL');
      expect(acked).toHaveLength(killAfter);

      const { values, integrity } = readBack(path, 'SELECT seq FROM events');
      const stored = new Set(values);
      expect(acked.filter((seq) => !stored.has(seq))).toEqual([]);
      expect(integrity).toBe('ok');
      const counter = readBack(path, 'SELECT value FROM counter WHERE id = 1').values[0];
      expect(counter).toBeGreaterThanOrEqual(Math.max(...acked) + 1);
      total += killAfter;
      expect(stored.size).toBeGreaterThanOrEqual(total);
    }
  }, 60_000);
});
