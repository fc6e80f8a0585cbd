import { mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FsError, isInside, parseAllowedPaths, PathGuard, translateErrno } from '../src/path-guard.js';
import { type Layout, makeLayout } from './helpers/sandbox.js';

async function refusal(promise: Promise<unknown>): Promise<FsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FsError);
  return error as FsError;
}

describe('parseAllowedPaths', () => {
  it('reads modes per root, read-only when none is given', () => {
    expect(parseAllowedPaths('/workspace:ro,/shared:rw,/data')).toEqual([
      { path: '/workspace', mode: 'ro' },
      { path: '/shared', mode: 'rw' },
      { path: '/data', mode: 'ro' },
    ]);
  });

  it('resolves relative roots against the given cwd and normalises', () => {
    expect(parseAllowedPaths('./data/workspace:rw, ../x/./y/ :RO', '/srv/app')).toEqual([
      { path: '/srv/app/data/workspace', mode: 'rw' },
      { path: '/srv/x/y', mode: 'ro' },
    ]);
  });

  it('keeps a colon that is not a mode suffix as part of the path', () => {
    expect(parseAllowedPaths('/data/a:b,/c:rw:ro')).toEqual([
      { path: '/data/a:b', mode: 'ro' },
      { path: '/c:rw', mode: 'ro' },
    ]);
  });

  it.each([
    ['', 'needs at least one directory'],
    [' , ,', 'needs at least one directory'],
    [':rw', 'has no directory before the mode'],
    ['/a\0b', 'NUL'],
    ['/a,/a/', 'listed twice'],
  ])('refuses %j', (value, message) => {
    expect(() => parseAllowedPaths(value, '/')).toThrow(message);
  });
});

describe('isInside', () => {
  it.each([
    ['/workspace', '/workspace', true],
    ['/workspace', '/workspace/a/b', true],
    ['/workspace', '/workspace2', false],
    ['/workspace', '/workspace2/a', false],
    ['/workspace', '/work', false],
    ['/workspace', '/', false],
    ['/', '/anything/at/all', true],
  ])('%s holds %s: %s', (root, candidate, expected) => {
    expect(isInside(root, candidate)).toBe(expected);
  });
});

describe('PathGuard', () => {
  let layout: Layout;
  let guard: PathGuard;

  beforeEach(async () => {
    layout = await makeLayout();
    guard = await PathGuard.create([
      { path: layout.ws, mode: 'rw' },
      { path: layout.ro, mode: 'ro' },
    ]);
  });
  afterEach(async () => {
    await layout.cleanup();
  });

  describe('create', () => {
    it('creates a missing read-write root when asked', async () => {
      const fresh = path.join(layout.base, 'new', 'root');
      const created = await PathGuard.create([{ path: fresh, mode: 'rw' }], { createMissing: true });
      expect(created.primary.real).toBe(await realpath(fresh));
    });

    it('refuses a missing read-only root instead of creating it', async () => {
      const missing = path.join(layout.base, 'absent');
      await expect(PathGuard.create([{ path: missing, mode: 'ro' }], { createMissing: true })).rejects.toThrow(
        'cannot be used (ENOENT)',
      );
    });

    it('refuses a missing root without createMissing, a file as root, and two names for one directory', async () => {
      await expect(PathGuard.create([{ path: path.join(layout.base, 'nope'), mode: 'rw' }])).rejects.toThrow('ENOENT');
      await expect(PathGuard.create([{ path: path.join(layout.ws, 'hello.txt'), mode: 'ro' }])).rejects.toThrow(
        'is not a directory',
      );
      await expect(
        PathGuard.create([
          { path: path.join(layout.ws, 'notes'), mode: 'ro' },
          { path: path.join(layout.ws, 'link-in'), mode: 'rw' },
        ]),
      ).rejects.toThrow('same directory');
      await expect(PathGuard.create([])).rejects.toThrow('at least one');
      await expect(PathGuard.create([{ path: 'relative', mode: 'ro' }])).rejects.toThrow('not absolute');
    });

    it('records the realpath of a root reached through a symlink, and shows its configured name', async () => {
      const alias = path.join(layout.base, 'alias');
      await symlink(layout.ws, alias);
      const aliased = await PathGuard.create([{ path: alias, mode: 'rw' }]);
      expect(aliased.primary.real).toBe(await realpath(layout.ws));
      const resolved = await aliased.resolve(path.join(alias, 'notes/a.md'));
      expect(resolved.display).toBe(path.join(alias, 'notes/a.md'));
      // The real location is accepted too: it is the same directory.
      expect((await aliased.resolve(path.join(layout.ws, 'hello.txt'))).display).toBe(path.join(alias, 'hello.txt'));
    });
  });

  describe('resolve: inside', () => {
    it('resolves relative paths against the first root', async () => {
      const resolved = await guard.resolve('notes/a.md');
      expect(resolved).toMatchObject({
        real: path.join(layout.ws, 'notes/a.md'),
        relative: path.join('notes', 'a.md'),
        exists: true,
        display: path.join(layout.ws, 'notes/a.md'),
      });
      expect(resolved.root.path).toBe(layout.ws);
      expect((await guard.resolve('.')).relative).toBe('');
    });

    it('accepts absolute paths in any root and reports that root', async () => {
      const resolved = await guard.resolve(path.join(layout.ro, 'readme.txt'));
      expect(resolved.root.mode).toBe('ro');
      expect(resolved.exists).toBe(true);
    });

    it('folds harmless `..` that stays inside', async () => {
      const resolved = await guard.resolve('notes/../hello.txt');
      expect(resolved.real).toBe(path.join(layout.ws, 'hello.txt'));
    });

    it('follows symlinks that stay inside, judging by where they land', async () => {
      expect((await guard.resolve('link-in/a.md')).real).toBe(path.join(layout.ws, 'notes/a.md'));
      expect((await guard.resolve('link-file-in')).real).toBe(path.join(layout.ws, 'hello.txt'));
      // A link from the read-only root into the read-write one lands in the read-write root.
      const crossing = await guard.resolve(path.join(layout.ro, 'link-to-ws', 'a.md'));
      expect(crossing.root.mode).toBe('rw');
      expect(crossing.display).toBe(path.join(layout.ws, 'notes/a.md'));
    });

    it('resolves a path that does not exist yet through its deepest existing ancestor', async () => {
      const resolved = await guard.resolve('notes/new/dir/file.txt');
      expect(resolved.exists).toBe(false);
      expect(resolved.real).toBe(path.join(layout.ws, 'notes/new/dir/file.txt'));
      const viaLink = await guard.resolve('link-in/new.txt');
      expect(viaLink.real).toBe(path.join(layout.ws, 'notes/new.txt'));
    });

    it('with follow=false keeps the last component as is (a link itself), even one aimed outside', async () => {
      const link = await guard.resolve('link-out-file', { follow: false });
      expect(link.real).toBe(path.join(layout.ws, 'link-out-file'));
      expect(link.exists).toBe(true);
      const dangling = await guard.resolve('dangling-out', { follow: false });
      expect(dangling.exists).toBe(true);
      const absent = await guard.resolve('notes/absent', { follow: false });
      expect(absent.exists).toBe(false);
      // Earlier components are still resolved: through a link out, even follow=false is outside.
      expect((await refusal(guard.resolve('link-out-dir/secret.txt', { follow: false }))).message).toContain(
        'outside the allowed directories',
      );
      expect((await guard.resolve(layout.ro, { follow: false })).relative).toBe('');
    });

    it('lets the innermost of nested roots decide the mode', async () => {
      const nested = await PathGuard.create([
        { path: layout.base, mode: 'ro' },
        { path: layout.ws, mode: 'rw' },
      ]);
      expect((await nested.resolve(path.join(layout.ws, 'hello.txt'))).root.mode).toBe('rw');
      expect((await nested.resolve(path.join(layout.ro, 'readme.txt'))).root.mode).toBe('ro');
      expect((await nested.resolve(layout.ws, { follow: false })).relative).toBe('');
    });
  });

  describe('resolve: refused', () => {
    const outside = (error: FsError, input: string) => {
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toBe(`Access denied: ${JSON.stringify(input)} is outside the allowed directories`);
    };

    it('refuses a sibling directory that shares the root prefix', async () => {
      for (const input of [layout.sibling, path.join(layout.sibling, 'secret.txt'), `${layout.ws}2/new.txt`]) {
        outside(await refusal(guard.resolve(input)), input);
      }
    });

    it('refuses absolute paths elsewhere, and the parent of a root', async () => {
      for (const input of [
        '/etc/passwd',
        '/',
        layout.base,
        path.join(layout.outside, 'secret.txt'),
        '/proc/self/root',
      ]) {
        outside(await refusal(guard.resolve(input)), input);
      }
    });

    it('refuses `..` tricks in every spelling', async () => {
      const inputs = [
        '..',
        '../outside/secret.txt',
        'notes/../../outside/secret.txt',
        `${layout.ws}/../outside/secret.txt`,
        `${layout.ws}/notes/../../ws2/secret.txt`,
        './././../ws2',
        'notes/../../../../../../etc/passwd',
      ];
      for (const input of inputs) outside(await refusal(guard.resolve(input)), input);
    });

    it('folds `..` lexically, so it never climbs out through a symlink', async () => {
      // The kernel would read link-out-dir/.. as outside/..; lexically it is the root itself.
      const resolved = await guard.resolve('link-out-dir/..');
      expect(resolved.real).toBe(layout.ws);
    });

    it('refuses symlinks to files and directories outside, existing or not', async () => {
      for (const input of [
        'link-out-file',
        'link-out-dir',
        'link-out-dir/secret.txt',
        'link-out-dir/deep/secret.md',
        'link-out-dir/missing/new.txt',
        'link-out-dir/secret.txt/below',
      ]) {
        outside(await refusal(guard.resolve(input)), input);
      }
    });

    it('refuses dangling symlinks: outside ones as outside, inside ones as not found', async () => {
      outside(await refusal(guard.resolve('dangling-out')), 'dangling-out');
      outside(await refusal(guard.resolve('dangling-out/child')), 'dangling-out/child');
      const inside = await refusal(guard.resolve('dangling-in'));
      expect(inside.code).toBe('NOT_FOUND');
      expect(inside.message).toContain('dangling or loops');
    });

    it('refuses symlink loops with a clear message', async () => {
      const error = await refusal(guard.resolve('loop-a/x'));
      expect(error.code).toBe('NOT_FOUND');
      expect(error.message).toContain('dangling or loops');
    });

    it('refuses NUL bytes, empty and overlong paths before touching the disk', async () => {
      for (const input of ['hello.txt\0.png', '\0', `${layout.ws}/\0/../../etc/passwd`]) {
        const error = await refusal(guard.resolve(input));
        expect(error.code).toBe('INVALID_INPUT');
        expect(error.message).toContain('NUL');
      }
      expect((await refusal(guard.resolve(''))).message).toContain('empty');
      expect((await refusal(guard.resolve('a'.repeat(5000)))).message).toContain('longer than');
      const longName = await refusal(guard.resolve(`notes/${'n'.repeat(300)}`));
      expect(longName).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('too long') as string });
    });

    it('says a path under a file is not found, without more detail', async () => {
      const error = await refusal(guard.resolve('hello.txt/below'));
      expect(error.code).toBe('NOT_FOUND');
      expect(error.message).toBe('Not found: "hello.txt/below" (a parent of it is not a directory)');
    });

    it('never names a location outside the roots in any message', async () => {
      const inputs = ['link-out-file', 'link-out-dir/deep', 'dangling-out', '../outside', `${layout.ws}2`];
      for (const input of inputs) {
        // Whatever remains once the user's own input is taken out must name nothing on the disk.
        const rest = (await refusal(guard.resolve(input))).message.replace(JSON.stringify(input), '');
        expect(rest).not.toContain(layout.base);
        expect(rest).not.toContain('secret');
        expect(rest).not.toContain('/');
      }
    });

    it('answers the same for an outside target that exists and one that does not (no existence oracle)', async () => {
      await symlink(path.join(layout.outside, 'does-not-exist'), path.join(layout.ws, 'probe-missing'));
      const existing = await refusal(guard.resolve('link-out-dir/secret.txt'));
      const missing = await refusal(guard.resolve('link-out-dir/does-not-exist'));
      expect(existing.message.replace('secret.txt', 'X')).toBe(missing.message.replace('does-not-exist', 'X'));
      expect((await refusal(guard.resolve('probe-missing'))).message).toBe(
        (await refusal(guard.resolve('link-out-file'))).message.replace('link-out-file', 'probe-missing'),
      );
    });
  });

  it('assertWritable refuses read-only roots, naming only the input', async () => {
    const resolved = await guard.resolve(path.join(layout.ro, 'readme.txt'));
    expect(() => guard.assertWritable(resolved)).toThrow(
      `${JSON.stringify(path.join(layout.ro, 'readme.txt'))} is in a read-only directory`,
    );
    guard.assertWritable(await guard.resolve('hello.txt'));
  });

  it('re-resolves on every call: a directory replaced by a link out is refused next time', async () => {
    expect((await guard.resolve('notes/a.md')).exists).toBe(true);
    await rm(path.join(layout.ws, 'notes'), { recursive: true });
    await symlink(layout.outside, path.join(layout.ws, 'notes'));
    expect((await refusal(guard.resolve('notes/secret.txt'))).code).toBe('FORBIDDEN');
    await mkdir(path.join(layout.outside, 'made'));
    await writeFile(path.join(layout.outside, 'made', 'x'), 'x');
    expect((await refusal(guard.resolve('notes/made/x'))).code).toBe('FORBIDDEN');
  });
});

describe('translateErrno', () => {
  const failure = (code: string) => Object.assign(new Error(`${code}: /secret/place`), { code });

  it.each([
    ['ENOENT', 'NOT_FOUND'],
    ['ENOTDIR', 'NOT_FOUND'],
    ['EISDIR', 'INVALID_INPUT'],
    ['EEXIST', 'CONFLICT'],
    ['ENOTEMPTY', 'CONFLICT'],
    ['EACCES', 'FORBIDDEN'],
    ['EPERM', 'FORBIDDEN'],
    ['EROFS', 'FORBIDDEN'],
    ['ELOOP', 'CONFLICT'],
    ['ENAMETOOLONG', 'INVALID_INPUT'],
    ['ENOSPC', 'FORBIDDEN'],
    ['EFBIG', 'PAYLOAD_TOO_LARGE'],
  ])('%s becomes %s, naming only the input', (code, expected) => {
    const error = translateErrno('my/file', failure(code));
    expect(error.code).toBe(expected);
    expect(error.message).not.toContain('/secret/place');
  });

  it('rethrows what it does not know, and passes FsError through', () => {
    const unknown = failure('EIO');
    expect(() => translateErrno('x', unknown)).toThrow(unknown);
    const known = new FsError('CONFLICT', 'kept');
    expect(translateErrno('x', known)).toBe(known);
  });
});
