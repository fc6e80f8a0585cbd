/**
 * The bundle the image runs (dist/main.bundle.js, scripts/bundle-service.mjs) as its own process with
 * plain node: the same tools as the sources (the reviewed tools/list); pg, mysql2 and ioredis left out
 * of it and required at run time (their tracing is tests/tracing.test.ts, from the bundle too); and
 * each engine's driver loaded when a server of that engine is first used, not at start (the module
 * probe sees the chunks load); and the SQL Server driver (tedious, bundled) reached: a server that
 * does not answer is synced with the driver's classified connection error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  builtEntry,
  freePort,
  listedTools,
  moduleProbe,
  rpc,
  type ServiceProcess,
  startServiceProcess,
  toolsListOf,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { createFixture, defaultServers, type Fixture } from './helpers/fixture.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(serviceDir, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
};
const READY_MS = 60_000;
const probe = moduleProbe();
/** The engine driver chunks the process has loaded, and the engine client packages it has required. */
const enginesLoaded = () =>
  probe
    .loaded()
    .flatMap(
      (line) =>
        /[/](postgres|mysql|mssql)-[A-Z0-9]+\.bundle\.js/.exec(line)?.[1] ??
        /^require (mysql2|tedious|mssql) /.exec(line)?.[1] ??
        [],
    )
    .filter((name, at, all) => all.indexOf(name) === at)
    .sort();

describe('the databases service bundle (what the image runs)', () => {
  let f: Fixture;
  let proc: ServiceProcess;
  let closedPort: number;

  beforeAll(async () => {
    f = await createFixture();
    closedPort = await freePort();
    f.writeServers(`${defaultServers(f)}  - name: erp-sql
    engine: sqlserver
    host: 127.0.0.1
    port: ${closedPort}
    user: sa
    connect_timeout_ms: 2000
`);
    proc = await startServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      env: { ...f.env, ...probe.env },
      nodeArgs: probe.nodeArgs,
    });
  }, READY_MS + 60_000);

  afterAll(async () => {
    await proc?.stop();
    await f?.close();
    probe.remove();
  }, 60_000);

  it('is what package.json names as main and start, with pg, mysql2 and ioredis left to node_modules', () => {
    expect(packageJson.main).toBe('dist/main.bundle.js');
    expect(packageJson.scripts['start']).toBe('node dist/main.bundle.js');
    expect(JSON.parse(readFileSync(join(serviceDir, 'dist', 'bundle.json'), 'utf8'))).toEqual({
      entries: ['main'],
      external: ['ioredis', 'mysql2', 'pg'],
    });
  });

  it('serves the reviewed tools/list over /mcp', async () => {
    expect(await listedTools(proc.url)).toEqual(toolsListOf(service, { DATABASES_ALLOW_WRITE: 'true' }));
  });

  it('loads no engine driver before a server is used', () => {
    // The probe did see the process load its modules (pg for the registry), so [] below means something.
    expect(probe.loaded().some((line) => line.startsWith('require pg '))).toBe(true);
    expect(enginesLoaded()).toEqual([]);
  });

  it('syncs every server: PostgreSQL and MariaDB through the clients required at run time, SQL Server through tedious', async () => {
    const { body } = await rpc(proc.url, 'tools/call', { name: 'sync_metadata', arguments: {} });
    const { results } = (body as { result: { structuredContent: { results: Array<{ duration_ms: number }> } } }).result
      .structuredContent;
    const row = (server: string, engine: string, databases: number, tables: number) => ({
      server,
      engine,
      ok: true,
      error: null,
      databases,
      tables,
      changed: true,
    });
    expect(results.map(({ duration_ms: _, ...result }) => result)).toEqual([
      // tedious's connection error, classified by the driver: the SQL Server code ran in the bundle.
      {
        server: 'erp-sql',
        engine: 'mssql',
        ok: false,
        error: 'Cannot reach erp-sql (ESOCKET).',
        databases: 0,
        tables: 0,
        changed: false,
      },
      row('maria-main', 'mysql', 2, 3),
      row('maria-rw', 'mysql', 1, 1),
      row('pg-main', 'postgres', 2, 5),
      row('pg-rw', 'postgres', 1, 1),
    ]);
    expect(enginesLoaded()).toEqual(['mssql', 'mysql', 'mysql2', 'postgres']);
  });

  it('queries PostgreSQL and MariaDB through the clients required at run time', async () => {
    const sales = await rpc(proc.url, 'tools/call', {
      name: 'execute_sql',
      arguments: { server: 'pg-main', database: f.pg.sales, sql: 'SELECT name FROM customers ORDER BY id LIMIT 1' },
    });
    expect(sales.body).toMatchObject({ result: { structuredContent: { rows: [{ name: 'Ada' }] } } });
    const shop = await rpc(proc.url, 'tools/call', {
      name: 'execute_sql',
      arguments: { server: 'maria-main', database: f.my.shop, sql: 'SELECT 6 * 7 AS answer' },
    });
    expect(shop.body).toMatchObject({ result: { structuredContent: { rows: [{ answer: 42 }] } } });
  });
});
