/**
 * The bundle the image runs (dist/main.bundle.js, scripts/bundle-service.mjs) as its own process with
 * plain node: the same tools as the sources (the reviewed tools/list), a write and a read, and a
 * grep, whose worker runs source text taken from a function of the bundle (grep.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { builtEntry, listedTools, rpc, type ServiceProcess, startServiceProcess, toolsListOf } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const READY_MS = 60_000;

describe('the filesystem service bundle (what the image runs)', () => {
  let root: string;
  let proc: ServiceProcess;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fs-bundle-'));
    proc = await startServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      env: { ALLOWED_PATHS: `${root}:rw` },
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const call = async (name: string, args: Record<string, unknown>) =>
    (await rpc(proc.url, 'tools/call', { name, arguments: args })).body;

  it('serves the reviewed tools/list over /mcp', async () => {
    expect(await listedTools(proc.url)).toEqual(toolsListOf(service));
  });

  it('writes, reads and greps (the grep worker from the bundle)', async () => {
    const path = join(root, 'notes', 'bundle.txt');
    expect(await call('write_file', { path, content: 'first line\nthe needle is here\n' })).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        content: [{ type: 'text', text: JSON.stringify({ path, bytes_written: 30, created: true }) }],
        structuredContent: { path, bytes_written: 30, created: true },
      },
    });
    expect(readFileSync(path, 'utf8')).toBe('first line\nthe needle is here\n');
    expect(await call('grep_files', { path: root, regex: 'needle' })).toMatchObject({
      result: {
        structuredContent: {
          matches: [{ path, line: 2, text: 'the needle is here' }],
          files_searched: 1,
          truncated: false,
        },
      },
    });
  });
});
