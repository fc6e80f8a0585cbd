/**
 * The bundle the image runs (dist/main.bundle.js, scripts/bundle-service.mjs) as its own process with
 * plain node: the same tools as the sources (the reviewed tools/list), and its database processes
 * forked from the worker entry's own bundle. (The memory service's bundle test covers what a bundle
 * changes in the core: YAML settings, tracing, OAuth.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { builtEntry, listedTools, rpc, type ServiceProcess, startServiceProcess, toolsListOf } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { tempDir } from './helpers.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const READY_MS = 60_000;

/** The command lines of a process's descendants (Linux: /proc/<pid>/task/<pid>/children). */
function descendantCommands(pid: number): string[][] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.flatMap((child) => [
    readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean),
    ...descendantCommands(Number(child)),
  ]);
}

describe('the sqlite service bundle (what the image runs)', () => {
  let dir: string;
  let cleanup: () => void;
  let proc: ServiceProcess;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    proc = await startServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      env: { DATABASE_PATH: join(dir, 'bundle.db') },
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    cleanup?.();
  });

  it('serves the reviewed tools/list over /mcp', async () => {
    expect(await listedTools(proc.url)).toEqual(toolsListOf(service));
  });

  it('writes and reads through a database process started from the worker entry’s bundle', async () => {
    const call = async (name: string, args: Record<string, unknown>) =>
      (await rpc(proc.url, 'tools/call', { name, arguments: args })).body;
    expect(
      await call('create_table', { table_name: 'notes', schema: { id: 'INTEGER PRIMARY KEY', body: 'TEXT NOT NULL' } }),
    ).toMatchObject({ result: { structuredContent: { name: 'notes', primary_key: ['id'] } } });
    const inserted = await call('insert_record', { table_name: 'notes', data: { body: 'from the bundle' } });
    expect(inserted).toMatchObject({ result: { structuredContent: {} } });
    expect(inserted).not.toHaveProperty('result.isError');
    const queried = await call('query_records', { table_name: 'notes' });
    expect(queried).not.toHaveProperty('result.isError');
    expect(JSON.stringify(queried)).toContain('from the bundle');
    const workers = descendantCommands(proc.pid).filter((command) => command.includes(process.execPath));
    expect(workers.length).toBeGreaterThan(0);
    for (const command of workers) expect(command).toContain(join(serviceDir, 'dist', 'worker-entry.bundle.js'));
  });
});
