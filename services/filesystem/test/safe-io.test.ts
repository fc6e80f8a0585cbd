import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FsError, PathGuard } from '../src/path-guard.js';
import { SafeIo, type SafeIoHooks, TEMP_PREFIX } from '../src/safe-io.js';
import { type Layout, makeLayout } from './helpers/sandbox.js';

describe('SafeIo', () => {
  let layout: Layout;
  let guard: PathGuard;
  const opened: SafeIo[] = [];

  const open = async (procFd?: boolean, hooks: SafeIoHooks = {}) => {
    const io = await SafeIo.open(guard, { procFd, hooks });
    opened.push(io);
    return io;
  };

  beforeEach(async () => {
    layout = await makeLayout();
    guard = await PathGuard.create([
      { path: layout.ws, mode: 'rw' },
      { path: layout.ro, mode: 'ro' },
    ]);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((io) => io.close()));
    await layout.cleanup();
  });

  it('detects /proc/self/fd on Linux', async () => {
    expect((await open()).procFd).toBe(true);
  });

  it('only accepts single names below a pinned directory', async () => {
    const io = await open();
    const dir = await io.openDir(guard.primary, 'notes', 'notes');
    try {
      for (const bad of ['', '.', '..', 'a/b', '../x']) expect(() => dir.at(bad)).toThrow(FsError);
      expect(dir.at('a.md')).toMatch(/^\/proc\/self\/fd\/\d+\/a\.md$/);
      expect(await readdir(dir.self())).toContain('a.md');
    } finally {
      await dir.close();
    }
  });

  it('refuses to start when a root was replaced after the guard resolved it', async () => {
    await rename(layout.ws, `${layout.ws}.old`);
    await mkdir(layout.ws);
    await expect(SafeIo.open(guard)).rejects.toThrow('changed while starting');
  });

  it('health check fails once a root is replaced by another directory', async () => {
    const io = await open();
    await io.checkRoots();
    await rename(layout.ro, `${layout.ro}.old`);
    await mkdir(layout.ro);
    await expect(io.checkRoots()).rejects.toThrow(`root ${layout.ro} is unavailable`);
  });

  describe.each([true, false])('writeAtomic (procFd=%s)', (procFd) => {
    it('creates, replaces and leaves no temp file behind', async () => {
      const io = await open(procFd);
      const target = await guard.resolve('deep/er/file.txt');
      expect(await io.writeAtomic(target, 'one')).toEqual({ created: true });
      expect(await io.writeAtomic(await guard.resolve('deep/er/file.txt'), 'two')).toEqual({ created: false });
      expect(await readFile(path.join(layout.ws, 'deep/er/file.txt'), 'utf8')).toBe('two');
      expect((await readdir(path.join(layout.ws, 'deep/er'))).filter((name) => name.startsWith(TEMP_PREFIX))).toEqual(
        [],
      );
    });

    it('exclusive: refuses a target that appears before the commit, keeping it', async () => {
      const io = await open(procFd, {
        beforeCommit: async ({ target }) => {
          await writeFile(target, 'theirs');
        },
      });
      const target = await guard.resolve('notes/new.txt');
      await expect(io.writeAtomic(target, 'mine', { exclusive: true })).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await readFile(path.join(layout.ws, 'notes/new.txt'), 'utf8')).toBe('theirs');
      expect((await readdir(path.join(layout.ws, 'notes'))).sort()).toEqual(['a.md', 'b.txt', 'new.txt']);
    });

    it('refuses to write to a read-only root even when called directly', async () => {
      const io = await open(procFd);
      const target = await guard.resolve(path.join(layout.ro, 'readme.txt'));
      await expect(io.writeAtomic(target, 'x')).rejects.toThrow('is in a read-only directory');
      await expect(io.remove(target, false)).rejects.toThrow('is in a read-only directory');
      await expect(io.makeDirectory(await guard.resolve(path.join(layout.ro, 'd')))).rejects.toThrow('read-only');
      expect(await readFile(path.join(layout.ro, 'readme.txt'), 'utf8')).toBe('read only\n');
    });
  });

  it('fallback mode notices a root that was replaced after start', async () => {
    const io = await open(false);
    await rename(layout.ws, `${layout.ws}.old`);
    await mkdir(layout.ws);
    await expect(io.openDir(guard.primary, '', '.')).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
