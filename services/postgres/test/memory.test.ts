import { fileURLToPath } from 'node:url';

import { rpc, type ServiceProcess, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

/**
 * The service process stays under its container's memory limit (512 MB in docker-compose.yml) while
 * it produces the largest answers it allows, several at once: every call asks for far more than
 * MCP_MAX_RESULT_BYTES (a gigabyte of rows, one 100 MB value, a 40 MB JSON document, 100,000 rows).
 * Real server only: PGlite serves one connection at a time.
 */
const backend = await startPgBackend();
const describeReal = describe.runIf(backend.real);
const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const CONTAINER_LIMIT_BYTES = 512 * 1024 * 1024;
const BUDGET = 4 * 1024 * 1024;

const oversized: [string, Record<string, unknown>][] = [
  ["SELECT g, repeat('x', 1000000) AS v FROM generate_series(1, 1000) AS g", {}],
  ["SELECT repeat('y', 100000000) AS v", {}],
  ['SELECT jsonb_agg(g) AS doc FROM generate_series(1, 5000000) AS g', {}],
  ['SELECT g, md5(g::text) AS h, now() AS t FROM generate_series(1, 200000) AS g', { max_rows: 100_000 }],
  ["SELECT array_agg(repeat('z', 100)) AS a FROM generate_series(1, 500000)", {}],
];

describeReal(`resident memory under the largest answers ${REAL_SERVER}`, () => {
  let svc: ServiceProcess;

  beforeAll(async () => {
    svc = await startServiceProcess(entry, {
      env: {
        DATABASE_URL: backend.url,
        MCP_MAX_RESULT_BYTES: String(BUDGET),
        POSTGRES_MAX_ROWS: '100000',
        POSTGRES_POOL_MAX: '10',
        MCP_RATE_LIMIT: '0',
      },
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await backend.close();
  });

  it('stays under 512 MB with ten oversized calls at a time, each answering within the budget', async () => {
    const idle = svc.rssBytes();
    for (let round = 0; round < 2; round += 1) {
      const calls = Array.from({ length: 10 }, (_, i) => {
        const [sql, extra] = oversized[i % oversized.length] as [string, Record<string, unknown>];
        return rpc(svc.url, 'tools/call', { name: 'execute_sql', arguments: { sql, ...extra } });
      });
      for (const response of await Promise.all(calls)) {
        const result = (
          response.body as {
            result: {
              isError?: boolean;
              content: { text: string }[];
              structuredContent?: { truncated: boolean; truncated_reason: string | null; row_count: number };
            };
          }
        ).result;
        const text = result.content[0]?.text ?? '';
        expect(result.isError, text.slice(0, 300)).not.toBe(true);
        expect(result.structuredContent).toMatchObject({ truncated: true, truncated_reason: 'byte_limit' });
        expect(text.length).toBeLessThanOrEqual(BUDGET);
      }
    }
    const peak = svc.peakRssBytes();
    // Reported for the README; the assertion is the container's limit.
    console.info(
      `mcp-postgres resident memory: idle ${Math.round(idle / 2 ** 20)} MB, peak ${Math.round(peak / 2 ** 20)} MB under 2 x 10 oversized calls`,
    );
    expect(peak).toBeLessThan(CONTAINER_LIMIT_BYTES);
    // Still serving ordinary calls afterwards.
    const after = await rpc(svc.url, 'tools/call', { name: 'execute_sql', arguments: { sql: 'SELECT 1 AS ok' } });
    expect(after.body).toMatchObject({ result: { structuredContent: { rows: [{ ok: 1 }] } } });
  }, 120_000);
});
