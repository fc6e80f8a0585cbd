/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings:
 * traversal in every encoding, NUL, confusables, globs, long names; and ill-shaped), sent through a
 * real MCP client to the service run as a real process over a read-write and a read-only root, with
 * symlinks that lead out. First the read-only tools: the whole tree (every root, the sibling that
 * shares the root's prefix, the outside directory) must be identical after, to the byte and the
 * mode. Then every tool: the writes may change the read-write root, nothing else. FUZZ_RUNS /
 * FUZZ_SEED: see the README's Testing section.
 */
import path from 'node:path';

import { fuzzService, fuzzSettings, isReadOnlyTool, startServiceProcess, treeDigest } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { type Layout, makeLayout } from './helpers/sandbox.js';

const FILE = 'services/filesystem/test/tools.fuzz.test.ts';
const settings = fuzzSettings(6);
const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

describe('filesystem tools under fuzzing', () => {
  let layout: Layout;

  beforeAll(async () => {
    layout = await makeLayout();
  });
  afterAll(() => layout.cleanup());

  it('every tool answers in time and the process stays healthy; reads change nothing, writes nothing outside the read-write root', async () => {
    const { ws, ro, sibling, outside, base } = layout;
    const paths = [
      ws,
      ro,
      'hello.txt',
      path.join(ws, 'hello.txt'),
      path.join(ws, 'notes'),
      path.join(ws, 'notes', 'a.md'),
      path.join(ws, 'link-in'),
      path.join(ws, 'link-out-file'),
      path.join(ws, 'link-out-dir', 'secret.txt'),
      path.join(ws, 'loop-a'),
      path.join(ws, 'new-file.txt'),
      path.join(ro, 'readme.txt'),
      path.join(ro, 'link-to-ws'),
      path.join(sibling, 'secret.txt'),
      path.join(outside, 'secret.txt'),
      `${ws}/../outside/secret.txt`,
    ];
    const proc = await startServiceProcess(ENTRY, {
      env: { ALLOWED_PATHS: `${ws}:rw,${ro}:ro`, MCP_RATE_LIMIT: '0', MCP_TOOL_TIMEOUT_MS: '5000' },
    });
    const hints = { known: { path: paths, source: paths, destination: paths, paths: [paths.slice(0, 4), paths] } };
    try {
      const reads = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        select: isReadOnlyTool,
        dump: async () => treeDigest(base),
      });
      console.info(`filesystem read-only tools: ${reads.summary}`);
      const all = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        dump: async () => ({ ro: treeDigest(ro), sibling: treeDigest(sibling), outside: treeDigest(outside) }),
      });
      console.info(`filesystem all tools: ${all.summary}`);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 180_000);
});
