/**
 * Check-then-use races, made deterministic with the domain's test hooks: the guard's check passes,
 * then the disk changes (a directory or file swapped for a symlink out of the sandbox) before the
 * operation opens or commits anything. Run with /proc/self/fd pinning (Linux) and with the
 * path-based fallback. In every case nothing outside is read or changed.
 */
import { lstat, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FileService, type FileServiceOptions } from '../src/file-service.js';
import { FsError } from '../src/path-guard.js';
import type { SafeIoHooks } from '../src/safe-io.js';
import { differences, type Fingerprint, fingerprint, type Layout, makeLayout, SECRET } from './helpers/sandbox.js';

const limits = { maxFileBytes: 4096, maxReadBytes: 4096 };

async function refusal(promise: Promise<unknown>): Promise<FsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FsError);
  return error as FsError;
}

describe.each([true, false])('races (procFd=%s)', (procFd) => {
  let layout: Layout;
  let outsideBefore: Fingerprint;
  let siblingBefore: Fingerprint;
  const services: FileService[] = [];

  /** Moves `dir` aside (to `dir.old`, still inside) and puts a symlink to `target` in its place. */
  const swapForLink = async (dir: string, target: string) => {
    await rename(dir, `${dir}.old`);
    await symlink(target, dir);
  };

  const open = async (hooks: SafeIoHooks, options: Partial<FileServiceOptions> = {}) => {
    const files = await FileService.create([{ path: layout.ws, mode: 'rw' }], { limits, procFd, hooks, ...options });
    services.push(files);
    expect(files.io.procFd).toBe(procFd);
    return files;
  };

  /** A hook that fires once, on the first call whose real path ends with `suffix`. */
  const once = (suffix: string, act: () => Promise<void>) => {
    let fired = false;
    return async (info: { real?: string; target?: string }) => {
      const where = info.real ?? info.target ?? '';
      if (!fired && where.endsWith(suffix)) {
        fired = true;
        await act();
      }
    };
  };

  beforeEach(async () => {
    layout = await makeLayout();
    // Bait: the same names outside, so that following a swapped link would hit something real.
    await writeFile(path.join(layout.ws, 'notes', 'secret.txt'), 'harmless\n');
    outsideBefore = await fingerprint(layout.outside);
    siblingBefore = await fingerprint(layout.sibling);
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((files) => files.close()));
    expect(await differences(layout.outside, outsideBefore)).toEqual([]);
    expect(await differences(layout.sibling, siblingBefore)).toEqual([]);
    await layout.cleanup();
  });

  const notes = () => path.join(layout.ws, 'notes');

  it('read: the parent directory becomes a link out after the check', async () => {
    const files = await open({ afterResolve: once('notes/secret.txt', () => swapForLink(notes(), layout.outside)) });
    const error = await refusal(files.readFile('notes/secret.txt'));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).not.toContain(SECRET);
  });

  it('read: the file itself becomes a link out after the check', async () => {
    const target = path.join(notes(), 'secret.txt');
    const files = await open({
      afterResolve: once('notes/secret.txt', async () => {
        await rename(target, `${target}.old`);
        await symlink(path.join(layout.outside, 'secret.txt'), target);
      }),
    });
    expect((await refusal(files.readFile('notes/secret.txt'))).code).toBe('CONFLICT');
    const batch = await files.readMultipleFiles(['notes/secret.txt']);
    expect(JSON.stringify(batch)).not.toContain(SECRET);
  });

  it('list and search: the directory becomes a link out after the check', async () => {
    const files = await open({ afterResolve: once('/notes', () => swapForLink(notes(), layout.outside)) });
    expect((await refusal(files.listDirectory('notes'))).code).toBe('CONFLICT');
    const grep = await files.grepFiles('.', 'CANARY');
    expect(grep.matches).toEqual([]);
  });

  it('write: the parent directory becomes a link out after the check', async () => {
    const files = await open({ afterResolve: once('notes/a.md', () => swapForLink(notes(), layout.outside)) });
    expect((await refusal(files.writeFile('notes/a.md', 'pwned'))).code).toBe('CONFLICT');
    expect(await readFile(path.join(`${notes()}.old`, 'a.md'), 'utf8')).toBe('# A\nalpha line\n');
  });

  it('write: the parent directory becomes a link out after the temp file is written, before the rename', async () => {
    const files = await open({ beforeCommit: once('notes/a.md', () => swapForLink(notes(), layout.outside)) });
    const error = await refusal(files.writeFile('notes/a.md', 'pwned'));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('nothing was written');
    expect(await readFile(path.join(`${notes()}.old`, 'a.md'), 'utf8')).toBe('# A\nalpha line\n');
    if (procFd) expect((await readdir(`${notes()}.old`)).sort()).toEqual(['a.md', 'b.txt', 'secret.txt']);
  });

  it('write: the target becomes a link out before the rename; the rename replaces the link', async () => {
    const target = path.join(notes(), 'secret.txt');
    const files = await open({
      beforeCommit: once('notes/secret.txt', async () => {
        await rename(target, `${target}.old`);
        await symlink(path.join(layout.outside, 'secret.txt'), target);
      }),
    });
    await files.writeFile('notes/secret.txt', 'new content');
    expect((await lstat(target)).isFile()).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('new content');
  });

  it('write: the target becomes a link out after the check', async () => {
    const target = path.join(notes(), 'secret.txt');
    const files = await open({
      afterResolve: once('notes/secret.txt', async () => {
        await rename(target, `${target}.old`);
        await symlink(path.join(layout.outside, 'secret.txt'), target);
      }),
    });
    expect((await refusal(files.writeFile('notes/secret.txt', 'pwned'))).code).toBe('CONFLICT');
    expect((await refusal(files.editFile('notes/secret.txt', [{ old_text: 'CANARY', new_text: 'x' }]))).code).toBe(
      'FORBIDDEN',
    );
  });

  it('create_directory and edit_file: the parent becomes a link out after the check', async () => {
    const mkdirFiles = await open({
      afterResolve: once('notes/new/deeper', () => swapForLink(notes(), layout.outside)),
    });
    expect((await refusal(mkdirFiles.createDirectory('notes/new/deeper'))).code).toBe('CONFLICT');
    await rename(notes(), `${notes()}.link`);
    await rename(`${notes()}.old`, notes());
    const editFiles = await open({ afterResolve: once('notes/a.md', () => swapForLink(notes(), layout.outside)) });
    expect((await refusal(editFiles.editFile('notes/a.md', [{ old_text: 'A', new_text: 'B' }]))).code).toBe('CONFLICT');
  });

  it('move and copy: the destination parent becomes a link out', async () => {
    const moveFiles = await open({ afterResolve: once('notes/moved.txt', () => swapForLink(notes(), layout.outside)) });
    expect((await refusal(moveFiles.moveFile('hello.txt', 'notes/moved.txt'))).code).toBe('CONFLICT');
    expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('hello\nworld\n');
    await rename(notes(), `${notes()}.link`);
    await rename(`${notes()}.old`, notes());
    const copyFiles = await open({ beforeCommit: once('notes/copy.txt', () => swapForLink(notes(), layout.outside)) });
    expect((await refusal(copyFiles.copyFile('hello.txt', 'notes/copy.txt'))).code).toBe('CONFLICT');
  });

  it('delete: a directory swapped for a link out is removed as a link; its target stays', async () => {
    const files = await open({ afterResolve: once('/notes', () => swapForLink(notes(), layout.outside)) });
    expect(await files.deletePath('notes', true)).toMatchObject({ type: 'symlink', removed: 1 });
    expect((await readdir(`${notes()}.old`)).sort()).toEqual(['a.md', 'b.txt', 'secret.txt']);
  });
  it('writes that create the same new folders at the same time all succeed (no false "Permission denied")', async () => {
    // Each write resolves a path whose folders do not exist yet while the others create them: a
    // folder that appears between two looks of the resolver is resolved again, not refused.
    const files = await open({});
    const failures: string[] = [];
    for (let round = 0; round < 40; round += 1) {
      const writes = Array.from({ length: 8 }, async (_, i) => {
        // staggered starts, so that some writes look while others have just made the folders
        for (let turn = 0; turn < i * 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
        return files.writeFile(`new-${round}/deeper/f${i}.txt`, `${round}.${i}`).catch((error: unknown) => {
          failures.push(String(error));
        });
      });
      await Promise.all(writes);
    }
    expect(failures).toEqual([]);
    for (let round = 0; round < 40; round += 1) {
      const names = (await readdir(path.join(layout.ws, `new-${round}`, 'deeper'))).sort();
      expect(names).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt', 'f6.txt', 'f7.txt']);
    }
  });
});
