/**
 * LazyDriver (src/engines/load-driver.ts): a server's driver module is imported at its first use,
 * once for concurrent first calls; a load that fails fails those calls and the next call tries
 * again; close() before any use loads nothing. The last test loads the real PostgreSQL driver and
 * pings the local server through it.
 */
import { describe, expect, it } from 'vitest';

import type { DriverOptions, EngineDriver } from '../src/engines/engine.js';
import { LazyDriver } from '../src/engines/load-driver.js';
import { serverEntrySchema } from '../src/servers-file.js';
import { PG_URL, requireServers } from './helpers/fixture.js';

const pgUrl = new URL(PG_URL);
const options: DriverOptions = {
  server: {
    ...serverEntrySchema.parse({
      name: 'pg-lazy',
      engine: 'postgres',
      host: pgUrl.hostname,
      user: decodeURIComponent(pgUrl.username) || 'postgres',
      connect_timeout_ms: 2000,
    }),
    port: Number(pgUrl.port || 5432),
    password: '',
  },
  password: async () => '',
  applicationName: 'mcp-databases-test',
};

/** What the wrapped driver was asked, in order. */
function recordingDriver(calls: string[]): EngineDriver {
  return {
    engine: 'postgres',
    listDatabases: async () => {
      calls.push('listDatabases');
      return ['one'];
    },
    readCatalog: async (database) => {
      calls.push(`readCatalog ${database}`);
      throw new Error('not read here');
    },
    execute: async () => {
      calls.push('execute');
      throw new Error('not executed here');
    },
    explain: async () => {
      calls.push('explain');
      throw new Error('not explained here');
    },
    ping: async () => {
      calls.push('ping');
    },
    close: async () => {
      calls.push('close');
    },
  };
}

describe('LazyDriver', () => {
  it('loads once for concurrent first calls, then hands every call to the driver', async () => {
    const calls: string[] = [];
    let loads = 0;
    const lazy = new LazyDriver(options, async () => {
      loads += 1;
      return recordingDriver(calls);
    });
    expect(lazy.engine).toBe('postgres');
    expect(loads).toBe(0);
    const [databases] = await Promise.all([lazy.listDatabases(), lazy.ping(), lazy.ping()]);
    expect(databases).toEqual(['one']);
    expect(loads).toBe(1);
    await lazy.close();
    expect(calls).toEqual(['listDatabases', 'ping', 'ping', 'close']);
  });

  it('a failed load fails the calls that waited for it, and the next call loads again', async () => {
    const calls: string[] = [];
    let loads = 0;
    const lazy = new LazyDriver(options, async () => {
      loads += 1;
      if (loads === 1) throw new Error("Cannot find package 'tedious'");
      return recordingDriver(calls);
    });
    const first = await Promise.allSettled([lazy.ping(), lazy.listDatabases()]);
    expect(first.map((result) => (result.status === 'rejected' ? (result.reason as Error).message : 'ok'))).toEqual([
      "Cannot find package 'tedious'",
      "Cannot find package 'tedious'",
    ]);
    await lazy.ping();
    expect({ loads, calls }).toEqual({ loads: 2, calls: ['ping'] });
  });

  it('close() before any use loads nothing', async () => {
    let loads = 0;
    const lazy = new LazyDriver(options, async () => {
      loads += 1;
      return recordingDriver([]);
    });
    await lazy.close();
    expect(loads).toBe(0);
  });

  it("loads the engine's real driver module: a ping reaches the local PostgreSQL", async () => {
    await requireServers();
    const lazy = new LazyDriver(options);
    try {
      await lazy.ping();
      expect((await lazy.listDatabases()).length).toBeGreaterThan(0);
    } finally {
      await lazy.close();
    }
  });
});
