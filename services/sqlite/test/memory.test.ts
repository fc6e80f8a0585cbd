/**
 * Resident memory of the real service process (src/main.ts, as the container runs it) while it
 * produces the largest answers it allows: several concurrent calls, each of which would return far
 * more than MCP_MAX_RESULT_BYTES (hundreds of MB) without the budget. The service, and the service
 * with its database processes together, must stay under the container's 512 MB limit
 * (docker-compose.yml).
 *
 * In a container limited to 512 MB, Node sizes its JavaScript heap from that limit by itself
 * (heap_size_limit 259 MB, measured with `docker run --memory=512m`); outside one it sizes it from
 * the machine's memory (4 GB here) and lets garbage pile up accordingly. The service process is
 * therefore started here with the heap limit the container would give it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { rpc, type ServiceProcess, startServiceProcess } from '@mcp-sse/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { databaseChildPids, peakRss, pssOf, tempDir } from './helpers.js';

const CONTAINER_LIMIT = 512 * 1024 * 1024;
const BUDGET = 4 * 1024 * 1024;

const serviceEntry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.source.json', import.meta.url));

interface Answer {
  isError?: boolean;
  content: { text: string }[];
  structuredContent?: Record<string, unknown>;
}

describe('resident memory while the largest answers are produced', () => {
  let proc: ServiceProcess;
  let cleanup: () => void;

  beforeAll(async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    const path = join(temp.dir, 'data', 'big.db');
    mkdirSync(join(temp.dir, 'data'));
    // 120 MB of rows (600 × 200 KB) and a schema of 1500 wide tables, written straight through SQLite.
    const seed = new Database(path);
    seed.pragma('journal_mode = WAL');
    seed.exec(
      'BEGIN; CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT); ' +
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 600) INSERT INTO big SELECT x, printf('%.*c', 200000, 'b') FROM n; " +
        Array.from(
          { length: 1500 },
          (_, t) =>
            `CREATE TABLE wide_${t} (${Array.from({ length: 40 }, (_, c) => `column_number_${c}_of_a_wide_table TEXT`).join(', ')})`,
        ).join('; ') +
        '; COMMIT',
    );
    seed.close();
    proc = await startServiceProcess(serviceEntry, {
      cwd: serviceDir,
      env: { DATABASE_PATH: path, TSX_TSCONFIG_PATH: tsconfig, MCP_RATE_LIMIT: '0' },
      nodeArgs: ['--max-old-space-size=256'],
    });
  }, 60_000);

  afterAll(async () => {
    await proc.stop('SIGKILL');
    cleanup();
  });

  async function call(name: string, args: Record<string, unknown>): Promise<{ answer: Answer; bytes: number }> {
    const response = await rpc(proc.url, 'tools/call', { name, arguments: args });
    const answer = (response.body as { result: Answer }).result;
    return { answer, bytes: Buffer.byteLength(answer.content[0]?.text ?? '') };
  }

  it('stays under the container limit, and every answer is cut at the budget with the reason', async () => {
    const generated =
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x, printf('%.*c', 200000, 'g') AS pad FROM n";
    const calls: [string, Record<string, unknown>][] = [
      // 1000 rows × 200 KB = 200 MB each without the budget.
      ['execute_raw_query', { query: generated }],
      ['execute_raw_query', { query: generated }],
      ['execute_raw_query', { query: 'SELECT * FROM big' }],
      // 600 rows × 200 KB = 120 MB each without the budget.
      ['query_records', { table_name: 'big' }],
      ['query_records', { table_name: 'big', order_by: '-id' }],
      ['execute_raw_query', { query: generated }],
      // 1500 tables × 40 columns: about 4.5 MB of schema.
      ['list_tables', {}],
      ['execute_raw_query', { query: generated, read_only: false }],
    ];
    // The memory of the service and its database processes together (proportional shares, so that the
    // node binary they share counts once), sampled while the calls run: what the container's limit meets.
    let together = 0;
    const sampler = setInterval(() => {
      const pids = [proc.pid, ...databaseChildPids(undefined, proc.pid)];
      together = Math.max(
        together,
        pids.reduce((sum, pid) => sum + pssOf(pid), 0),
      );
    }, 10);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(calls.map(([name, args]) => call(name, args)));
      for (const [index, { answer, bytes }] of answers.entries()) {
        const [name] = calls[index] ?? [];
        expect(answer.isError, `${name}: ${answer.content[0]?.text.slice(0, 200)}`).toBeFalsy();
        expect(answer.structuredContent).toMatchObject({ truncated: true });
        expect(answer.structuredContent?.['truncated_reason']).toMatch(/MCP_MAX_RESULT_BYTES|MAX_QUERY_RESULTS/);
        expect(bytes).toBeLessThanOrEqual(BUDGET);
      }
    }
    // One 40 MB value: turned away whole (it is materialized once, in a database process only).
    const single = await call('execute_raw_query', { query: 'SELECT randomblob(40000000) AS b' });
    expect(single.answer.structuredContent).toMatchObject({ rows: [], truncated: true });
    clearInterval(sampler);
    const service = proc.peakRssBytes();
    const children = databaseChildPids(undefined, proc.pid);
    expect(children).toHaveLength(3);
    expect(service).toBeLessThan(CONTAINER_LIMIT);
    expect(together).toBeLessThan(CONTAINER_LIMIT);
    // The figures for the README (printed with --reporter=verbose).
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    process.stdout.write(
      `peak RSS of the service ${mb(service)} MB (database processes: ${children.map((pid) => mb(peakRss(pid))).join(', ')} MB); ` +
        `all together at most ${mb(together)} MB (proportional set size)\n`,
    );
  }, 120_000);
});
