import { afterAll, describe, expect, it } from 'vitest';

import { REVIEWED_VOLATILE, SAFE_BUILTIN_FUNCTIONS } from '../src/safe-functions.js';
import { analyzeStatement, loadSqlParser } from '../src/sql-guard.js';
import { REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

/** The allow-list against the catalog of the server the tests run on. */
const backend = await startPgBackend();
const itReal = it.runIf(backend.real);

afterAll(async () => {
  await backend.close();
});

describe('the read_only allow-list of built-ins', () => {
  itReal(`holds no VOLATILE function of this server except the reviewed ones ${REAL_SERVER}`, async () => {
    const rows = await backend.admin<{ name: string }>(
      "SELECT DISTINCT proname AS name FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace AND provolatile = 'v' ORDER BY 1",
    );
    const volatile = rows.map((row) => row.name).filter((name) => SAFE_BUILTIN_FUNCTIONS.has(name));
    expect(volatile.filter((name) => !REVIEWED_VOLATILE.has(name))).toEqual([]);
  });

  itReal(
    `names functions that exist in this server's pg_catalog (apart from newer versions' additions) ${REAL_SERVER}`,
    async () => {
      const rows = await backend.admin<{ name: string }>(
        "SELECT DISTINCT proname AS name FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace",
      );
      const existing = new Set(rows.map((row) => row.name));
      const unknown = [...SAFE_BUILTIN_FUNCTIONS].filter((name) => !existing.has(name));
      // PostgreSQL 16-18 additions (listed on purpose) are the only names this server may lack.
      expect(unknown.length).toBeLessThan(40);
      expect(SAFE_BUILTIN_FUNCTIONS.size).toBeGreaterThan(1500);
    },
  );

  it('contains none of the functions refused in every mode', async () => {
    await loadSqlParser();
    for (const name of SAFE_BUILTIN_FUNCTIONS) {
      let refused = false;
      try {
        analyzeStatement(`SELECT pg_catalog."${name}"()`, 'read_only');
      } catch {
        refused = true;
      }
      expect(refused, name).toBe(false);
    }
  });
});
