import { waitUntil } from '@mcp-sse/testing';

import type { PgBackend } from './pg-backend.js';

/** A read that runs for many seconds unless stopped; the marker finds it in pg_stat_activity. */
export const longRead = (marker: string): string =>
  `SELECT count(*) AS n FROM generate_series(1, 2000000000) AS g WHERE g::text <> '${marker}'`;

/** The pid of the backend running the statement that carries `marker`, polled until it runs (15 s at most). */
export async function backendRunning(backend: PgBackend, marker: string): Promise<number> {
  let pid: number | undefined;
  await waitUntil(
    async () => {
      const rows = await backend.admin<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
        [`%${marker}%`],
      );
      pid = rows[0]?.pid;
      return pid !== undefined;
    },
    `a backend running ${marker}`,
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return pid as number;
}
