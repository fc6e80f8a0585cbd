/**
 * The service as its own process (as in its container): no hostile call freezes it (`/health`
 * keeps answering within a second while a pathological glob, a catastrophic regex and a walk over
 * a large tree run), and its resident memory stays under the container limit (512 MB,
 * docker-compose.yml) while several calls at once each produce the largest answer allowed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { probeResponsiveness, rpcCallTool, type ServiceProcess, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;
const CONTAINER_LIMIT = 512 * 1024 * 1024;
const RESULT_BYTES = 4 * 1024 * 1024;

describe('filesystem as a process', () => {
  let base: string;
  let root: string;
  let proc: ServiceProcess | undefined;

  /** A fresh process per test, so that each peak (VmHWM) is that test's own. */
  const start = async () => {
    await proc?.stop();
    proc = await startServiceProcess(ENTRY, {
      env: {
        ALLOWED_PATHS: `${root}:ro`,
        // The largest reads the settings allow: only the answer budget stops them.
        FS_MAX_READ_BYTES: String(256 * 1024 * 1024),
        FS_MAX_FILE_BYTES: String(128 * 1024 * 1024),
        MCP_MAX_RESULT_BYTES: String(RESULT_BYTES),
        MCP_TOOL_TIMEOUT_MS: '20000',
      },
    });
    return proc;
  };

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'mcp-fs-proc-'));
    root = path.join(base, 'root');
    // A tree of 24 000 entries with long names (the walks and globs have work to do).
    for (let d = 0; d < 120; d += 1) {
      const dir = path.join(root, 'tree', `dir-${d}`, 'nested');
      await mkdir(dir, { recursive: true });
      await Promise.all(
        Array.from({ length: 200 }, (_, f) => writeFile(path.join(dir, `${'a'.repeat(100)}-${d}-${f}.txt`), 'x\n')),
      );
    }
    // 64 MiB of text in 1 KiB lines: far more than any answer may carry.
    const line = `${'needle '.repeat(146)}\n`;
    await writeFile(path.join(root, 'big.txt'), line.repeat(Math.ceil((64 * 1024 * 1024) / line.length)));
    // Lines a catastrophic regex never finishes with.
    await writeFile(path.join(root, 'evil.txt'), `${'a'.repeat(40)}!\n`.repeat(100));
    // An image whose base64 is just under the answer budget.
    await writeFile(path.join(root, 'photo.png'), Buffer.alloc(3 * 1024 * 1024 - 64 * 1024, 1));
  }, 120_000);

  afterAll(async () => {
    await proc?.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('keeps answering /health while hostile calls run', async () => {
    const proc = await start();
    const probe = probeResponsiveness(proc.url);
    const calls = await Promise.all([
      // The pattern: refused at once.
      rpcCallTool(proc.url, 'search_files', { path: '.', pattern: '{a,b}{c,d}{e,f}'.repeat(15) }),
      rpcCallTool(proc.url, 'directory_tree', { path: '.', max_depth: 5, exclude: ['{a,b}{c,d}{e,f}'.repeat(15)] }),
      // Accepted, and as costly as the limits allow: 1024 expanded patterns against every entry.
      rpcCallTool(proc.url, 'search_files', {
        path: '.',
        pattern: `${'{*a,*b}'.repeat(8)}z`,
        exclude: [0, 1, 2].map((i) => `${'{*a,*b}'.repeat(8)}${i}`),
      }),
      // Catastrophic backtracking: the worker is stopped after its budget.
      rpcCallTool(proc.url, 'grep_files', { path: 'evil.txt', regex: '^(a+)+$' }),
      // The whole tree, and a grep over all of it.
      rpcCallTool(proc.url, 'directory_tree', { path: '.', max_depth: 20 }),
      rpcCallTool(proc.url, 'grep_files', { path: 'tree', regex: 'x', max_matches: 1000 }),
    ]);
    const report = await probe.stop();
    console.info(`filesystem: /health answered ${report.polls} times, slowest ${report.maxMs.toFixed(0)} ms`);

    expect(calls[0]?.text).toMatch(/more than 32 brace groups/);
    expect(calls[1]?.text).toMatch(/more than 32 brace groups/);
    expect(calls[2]?.isError).toBe(false);
    expect(calls[3]?.text).toMatch(
      /^The regex took longer than 2000 ms on ".*evil\.txt" \(catastrophic backtracking\?\)/,
    );
    expect(calls[4]?.structured['truncated']).toBe(true);
    expect(calls[5]?.structured['truncated']).toBe(true);
    expect(report.failures).toBe(0);
    expect(report.polls).toBeGreaterThan(3);
    expect(report.maxMs).toBeLessThan(1000);
  }, 120_000);

  it('stays under the container memory limit while the largest answers are produced', async () => {
    const proc = await start();
    const many = Array.from({ length: 50 }, () => 'big.txt');
    // Eight calls at once, each of which would return far more than the 4 MiB an answer may weigh.
    const calls = await Promise.all([
      rpcCallTool(proc.url, 'read_file', { path: 'big.txt' }),
      rpcCallTool(proc.url, 'read_file', { path: 'big.txt', tail: 1_000_000 }),
      ...Array.from({ length: 2 }, () => rpcCallTool(proc.url, 'read_multiple_files', { paths: many })),
      ...Array.from({ length: 2 }, () =>
        rpcCallTool(proc.url, 'grep_files', { path: 'big.txt', regex: 'needle', max_matches: 1000, context_lines: 10 }),
      ),
      rpcCallTool(proc.url, 'directory_tree', { path: '.', max_depth: 20 }),
      rpcCallTool(proc.url, 'search_files', { path: '.', pattern: '*' }),
    ]);
    for (const call of calls) {
      expect(call.isError, call.text.slice(0, 300)).toBe(false);
      expect(call.text.length).toBeLessThanOrEqual(RESULT_BYTES);
    }
    // Each was cut at the budget, and filled it.
    expect(calls.map((call) => call.structured['truncated'] ?? call.text.includes('"truncated":true'))).toEqual(
      Array.from({ length: 8 }, () => true),
    );
    expect(calls[0]?.text.length).toBeGreaterThan(RESULT_BYTES * 0.9);
    const media = await rpcCallTool(proc.url, 'read_media_file', { path: 'photo.png' });
    expect(media.isError).toBe(false);
    const peak = proc.peakRssBytes();
    console.info(`filesystem: peak resident memory ${(peak / 1024 / 1024).toFixed(0)} MB (under tsx)`);
    expect(peak).toBeLessThan(CONTAINER_LIMIT);
  }, 120_000);
});
