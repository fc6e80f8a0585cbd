import { chmod, lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { applyEdits, FileService, type FileServiceOptions, selectionOf } from '../src/file-service.js';
import { FsError } from '../src/path-guard.js';
import { TEMP_PREFIX } from '../src/safe-io.js';
import { type Layout, makeLayout } from './helpers/sandbox.js';

const limits = { maxFileBytes: 4096, maxReadBytes: 1024 };

async function refusal(promise: Promise<unknown>): Promise<FsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FsError);
  return error as FsError;
}

/** Every temp file the service might have left anywhere under `dir`. */
async function temps(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.name.startsWith(TEMP_PREFIX)) found.push(entry.name);
  }
  return found;
}

describe('FileService', () => {
  let layout: Layout;
  let files: FileService;

  const open = (options: Partial<FileServiceOptions> = {}) =>
    FileService.create(
      [
        { path: layout.ws, mode: 'rw' },
        { path: layout.ro, mode: 'ro' },
      ],
      { limits, ...options },
    );

  beforeEach(async () => {
    layout = await makeLayout();
    files = await open();
  });
  afterEach(async () => {
    await files.close();
    expect(await temps(layout.base)).toEqual([]);
    await layout.cleanup();
  });

  it('lists the allowed directories with their modes', () => {
    expect(files.listAllowedDirectories()).toEqual({
      directories: [
        { path: layout.ws, mode: 'rw' },
        { path: layout.ro, mode: 'ro' },
      ],
    });
    expect(files.io.procFd).toBe(true);
  });

  describe('listDirectory', () => {
    it('lists names sorted with types; links are listed as links, not followed', async () => {
      const listing = await files.listDirectory('.');
      expect(listing.path).toBe(layout.ws);
      expect(listing.truncated).toBe(false);
      expect(listing.entries).toEqual([
        { name: 'dangling-in', type: 'symlink' },
        { name: 'dangling-out', type: 'symlink' },
        { name: 'hello.txt', type: 'file' },
        { name: 'link-file-in', type: 'symlink' },
        { name: 'link-in', type: 'symlink' },
        { name: 'link-out-dir', type: 'symlink' },
        { name: 'link-out-file', type: 'symlink' },
        { name: 'loop-a', type: 'symlink' },
        { name: 'loop-b', type: 'symlink' },
        { name: 'notes', type: 'directory' },
      ]);
      expect(listing.total_size).toBeUndefined();
    });

    it('adds sizes and a total, and sorts by size, largest first', async () => {
      await writeFile(path.join(layout.ws, 'notes', 'big.txt'), 'x'.repeat(100));
      const listing = await files.listDirectory('notes', { sizes: true, sortBy: 'size' });
      expect(listing.entries).toEqual([
        { name: 'big.txt', type: 'file', size: 100 },
        { name: 'a.md', type: 'file', size: 15 },
        { name: 'b.txt', type: 'file', size: 5 },
      ]);
      expect(listing.total_size).toBe(120);
    });

    it('lists through a link that stays inside, under the real location', async () => {
      expect((await files.listDirectory('link-in')).path).toBe(path.join(layout.ws, 'notes'));
    });

    it('refuses a file, and a path that does not exist', async () => {
      expect((await refusal(files.listDirectory('hello.txt'))).message).toBe('"hello.txt" is not a directory');
      expect((await refusal(files.listDirectory('nope'))).code).toBe('NOT_FOUND');
    });
  });

  describe('directoryTree', () => {
    it('nests entries down to max_depth and honours exclude', async () => {
      await mkdir(path.join(layout.ws, 'notes', 'deeper', 'deepest'), { recursive: true });
      const { tree, truncated } = await files.directoryTree('notes', 2, ['b.txt']);
      expect(truncated).toBe(false);
      expect(tree).toEqual({
        name: 'notes',
        type: 'directory',
        children: [
          { name: 'a.md', type: 'file' },
          { name: 'deeper', type: 'directory', children: [{ name: 'deepest', type: 'directory', children: [] }] },
        ],
      });
      const shallow = await files.directoryTree('notes', 1);
      expect(shallow.tree.children?.find((node) => node.name === 'deeper')?.children).toEqual([]);
    });

    it('shows links without following them', async () => {
      const { tree } = await files.directoryTree('.', 5);
      const linkOut = tree.children?.find((node) => node.name === 'link-out-dir');
      expect(linkOut).toEqual({ name: 'link-out-dir', type: 'symlink' });
      expect(JSON.stringify(tree)).not.toContain('secret');
    });
  });

  it('getFileInfo reports type, size, times, permissions and writability', async () => {
    await chmod(path.join(layout.ws, 'hello.txt'), 0o640);
    const info = await files.getFileInfo('hello.txt');
    expect(info).toMatchObject({ path: path.join(layout.ws, 'hello.txt'), type: 'file', size: 12, permissions: '640' });
    expect(info.writable).toBe(true);
    expect(Date.parse(info.modified)).toBeGreaterThan(0);
    expect(await files.getFileInfo(layout.ro)).toMatchObject({ type: 'directory', writable: false });
    expect((await refusal(files.getFileInfo('nope'))).code).toBe('NOT_FOUND');
  });

  describe('readFile', () => {
    it('reads whole files and line ranges', async () => {
      expect(await files.readFile('hello.txt')).toEqual({
        path: path.join(layout.ws, 'hello.txt'),
        content: 'hello\nworld\n',
        start_line: 1,
        end_line: 2,
        total_lines: 2,
        truncated: false,
      });
      expect((await files.readFile('hello.txt', { offset: 2 })).content).toBe('world\n');
      expect((await files.readFile('hello.txt', { head: 1 })).content).toBe('hello\n');
      expect((await files.readFile('hello.txt', { tail: 1 })).content).toBe('world\n');
      expect((await files.readFile('link-file-in', { limit: 1 })).next_offset).toBe(2);
    });

    it('caps the bytes returned at FS_MAX_READ_BYTES', async () => {
      await writeFile(path.join(layout.ws, 'long.txt'), 'abcdefghi\n'.repeat(200));
      const slice = await files.readFile('long.txt');
      expect(slice.content.length).toBe(1020);
      expect(slice).toMatchObject({ truncated: true, next_offset: 103, end_line: 102 });
    });

    it('refuses binary files, directories and contradicting options', async () => {
      await writeFile(path.join(layout.ws, 'blob.bin'), Buffer.from([1, 0, 2]));
      expect((await refusal(files.readFile('blob.bin'))).message).toContain('binary');
      expect((await refusal(files.readFile('notes'))).message).toBe('"notes" is a directory');
      expect((await refusal(files.readFile('.'))).message).toBe('"." is a directory');
      expect((await refusal(files.readFile('hello.txt', { head: 1, tail: 1 }))).message).toContain('not both');
      expect((await refusal(files.readFile('hello.txt', { head: 1, offset: 2 }))).message).toContain('offset');
    });

    it('refuses a FIFO instead of hanging on it', async () => {
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [path.join(layout.ws, 'pipe')]);
      expect((await refusal(files.readFile('pipe'))).message).toBe('"pipe" is not a regular file');
    });
  });

  describe('readMultipleFiles', () => {
    it('reads each file on its own: one failure does not fail the batch', async () => {
      const { files: results } = await files.readMultipleFiles([
        'hello.txt',
        'nope.txt',
        'link-out-file',
        'notes/b.txt',
      ]);
      expect(results).toEqual([
        { path: 'hello.txt', content: 'hello\nworld\n', truncated: false },
        { path: 'nope.txt', error: 'Not found: "nope.txt"' },
        { path: 'link-out-file', error: 'Access denied: "link-out-file" is outside the allowed directories' },
        { path: 'notes/b.txt', content: 'beta\n', truncated: false },
      ]);
    });

    it('shares the byte cap across the batch', async () => {
      await writeFile(path.join(layout.ws, 'one.txt'), `${'a'.repeat(99)}\n${'b'.repeat(1000)}`);
      const { files: results } = await files.readMultipleFiles(['one.txt', 'hello.txt', 'notes/b.txt']);
      const total = results.reduce((sum, file) => sum + Buffer.byteLength(file.content ?? ''), 0);
      expect(total).toBeLessThanOrEqual(limits.maxReadBytes);
      expect(results[0]?.truncated).toBe(true);
      expect(results.map((file) => file.path)).toEqual(['one.txt', 'hello.txt', 'notes/b.txt']);
    });
  });

  describe('readMediaFile', () => {
    it('returns base64 with the MIME type from the extension', async () => {
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      await writeFile(path.join(layout.ws, 'pic.png'), png);
      await writeFile(path.join(layout.ws, 'sound.mp3'), Buffer.from([0xff, 0xfb, 0x90]));
      expect(await files.readMediaFile('pic.png')).toEqual({
        path: path.join(layout.ws, 'pic.png'),
        mime_type: 'image/png',
        size: png.length,
        data: png.toString('base64'),
      });
      expect((await files.readMediaFile('sound.mp3')).mime_type).toBe('audio/mpeg');
    });

    it('refuses other types and files over FS_MAX_FILE_BYTES', async () => {
      expect((await refusal(files.readMediaFile('hello.txt'))).message).toContain(
        'not an image or audio file (text/plain)',
      );
      await writeFile(path.join(layout.ws, 'huge.png'), Buffer.alloc(limits.maxFileBytes + 1));
      expect((await refusal(files.readMediaFile('huge.png'))).code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('searchFiles', () => {
    it('matches names at any depth, or relative paths when the glob has a slash', async () => {
      await mkdir(path.join(layout.ws, 'notes', 'sub'));
      await writeFile(path.join(layout.ws, 'notes', 'sub', 'c.md'), '');
      const names = await files.searchFiles('.', '*.md');
      expect(names.matches).toEqual([
        { path: path.join(layout.ws, 'notes/a.md'), type: 'file' },
        { path: path.join(layout.ws, 'notes/sub/c.md'), type: 'file' },
      ]);
      const rooted = await files.searchFiles('.', 'notes/*.md');
      expect(rooted.matches.map((match) => match.path)).toEqual([path.join(layout.ws, 'notes/a.md')]);
      const excluded = await files.searchFiles('.', '*.md', ['sub']);
      expect(excluded.matches).toHaveLength(1);
    });

    it('finds directories and links by name but never descends through links', async () => {
      const result = await files.searchFiles('.', '*secret*');
      expect(result.matches).toEqual([]);
      expect((await files.searchFiles('.', 'link-*')).matches.map((match) => match.type)).toEqual([
        'symlink',
        'symlink',
        'symlink',
        'symlink',
      ]);
    });
  });

  describe('grepFiles', () => {
    beforeEach(async () => {
      await writeFile(path.join(layout.ws, 'notes', 'c.txt'), 'x\nalpha two\ny\n');
      await writeFile(path.join(layout.ws, 'notes', 'bin.dat'), Buffer.from('alpha\0binary'));
      await writeFile(path.join(layout.ws, 'notes', 'big.txt'), `alpha\n${'z'.repeat(limits.maxFileBytes)}`);
    });

    it('finds matching lines, skipping binary and oversized files', async () => {
      const result = await files.grepFiles('.', 'alpha');
      expect(result.matches).toEqual([
        { path: path.join(layout.ws, 'notes/a.md'), line: 2, text: 'alpha line' },
        { path: path.join(layout.ws, 'notes/c.txt'), line: 2, text: 'alpha two' },
      ]);
      expect(result).toMatchObject({ files_skipped: 2, truncated: false });
      expect(result.files_searched).toBe(4);
    });

    it('filters by glob, adds context, caps matches, and searches a single file', async () => {
      const filtered = await files.grepFiles('notes', 'alpha', { glob: '*.txt', contextLines: 1 });
      expect(filtered.matches).toEqual([
        { path: path.join(layout.ws, 'notes/c.txt'), line: 2, text: 'alpha two', before: ['x'], after: ['y'] },
      ]);
      const capped = await files.grepFiles('.', 'a', { maxMatches: 1 });
      expect(capped.matches).toHaveLength(1);
      expect(capped.truncated).toBe(true);
      const single = await files.grepFiles('hello.txt', 'wor');
      expect(single.matches).toEqual([{ path: path.join(layout.ws, 'hello.txt'), line: 2, text: 'world' }]);
    });

    it('refuses bad and overlong regexes, and stops a catastrophic one', async () => {
      expect((await refusal(files.grepFiles('.', '(['))).message).toMatch(/^Invalid regex/);
      expect((await refusal(files.grepFiles('.', 'a'.repeat(1001)))).message).toContain('longer than');
      const slow = await open({ grepBudgetMs: 200 });
      try {
        await writeFile(path.join(layout.ws, 'evil.txt'), `${'a'.repeat(40)}!\n`);
        const error = await refusal(slow.grepFiles('evil.txt', '^(a+)+$'));
        expect(error.code).toBe('TIMEOUT');
      } finally {
        await slow.close();
      }
    });
  });

  describe('writeFile', () => {
    it('creates files and missing parents, and replaces content atomically', async () => {
      expect(await files.writeFile('new/dir/file.txt', 'fresh')).toEqual({
        path: path.join(layout.ws, 'new/dir/file.txt'),
        bytes_written: 5,
        created: true,
      });
      expect(await readFile(path.join(layout.ws, 'new/dir/file.txt'), 'utf8')).toBe('fresh');
      const before = await stat(path.join(layout.ws, 'hello.txt'));
      expect((await files.writeFile('hello.txt', 'changed')).created).toBe(false);
      const after = await stat(path.join(layout.ws, 'hello.txt'));
      expect(after.ino).not.toBe(before.ino);
      expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('changed');
    });

    it('keeps the mode of a file it replaces', async () => {
      await chmod(path.join(layout.ws, 'hello.txt'), 0o751);
      await files.writeFile('hello.txt', '#!/bin/sh\n');
      expect((await stat(path.join(layout.ws, 'hello.txt'))).mode & 0o777).toBe(0o751);
    });

    it('writes through a link that stays inside, keeping the link', async () => {
      await files.writeFile('link-file-in', 'via link');
      expect(await readlink(path.join(layout.ws, 'link-file-in'))).toBe('hello.txt');
      expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('via link');
    });

    it('refuses read-only roots, directories and content over FS_MAX_FILE_BYTES, writing nothing', async () => {
      const target = path.join(layout.ro, 'readme.txt');
      expect((await refusal(files.writeFile(target, 'x'))).message).toBe(
        `${JSON.stringify(target)} is in a read-only directory`,
      );
      expect(await readFile(target, 'utf8')).toBe('read only\n');
      expect((await refusal(files.writeFile(path.join(layout.ro, 'new.txt'), 'x'))).code).toBe('FORBIDDEN');
      expect((await refusal(files.writeFile('notes', 'x'))).message).toBe('"notes" is a directory');
      expect((await refusal(files.writeFile('.', 'x'))).message).toBe('"." is a directory');
      expect((await refusal(files.writeFile('big.txt', 'x'.repeat(limits.maxFileBytes + 1)))).code).toBe(
        'PAYLOAD_TOO_LARGE',
      );
      await expect(lstat(path.join(layout.ws, 'big.txt'))).rejects.toThrow('ENOENT');
      expect((await refusal(files.writeFile('hello.txt/x', 'x'))).code).toBe('NOT_FOUND');
    });
  });

  describe('editFile', () => {
    it('applies exact edits in order and returns a unified diff', async () => {
      const result = await files.editFile('hello.txt', [
        { old_text: 'hello', new_text: 'hi' },
        { old_text: 'hi\nworld', new_text: 'hi\nthere' },
      ]);
      expect(result.applied).toBe(true);
      expect(result.diff).toContain('-hello\n-world\n+hi\n+there');
      expect(result.diff).toContain(`--- ${path.join(layout.ws, 'hello.txt')}`);
      expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('hi\nthere\n');
    });

    it('dry_run previews without writing', async () => {
      const result = await files.editFile('hello.txt', [{ old_text: 'world', new_text: 'moon' }], true);
      expect(result).toMatchObject({ applied: false, edits: 1 });
      expect(result.diff).toContain('+moon');
      expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('hello\nworld\n');
    });

    it('writes nothing when any edit fails to match exactly once', async () => {
      const missing = await refusal(
        files.editFile('hello.txt', [
          { old_text: 'hello', new_text: 'bye' },
          { old_text: 'absent', new_text: 'x' },
        ]),
      );
      expect(missing.message).toContain('edits[1].old_text was not found');
      await writeFile(path.join(layout.ws, 'twice.txt'), 'same same\n');
      const ambiguous = await refusal(files.editFile('twice.txt', [{ old_text: 'same', new_text: 'x' }]));
      expect(ambiguous.message).toContain('edits[0].old_text matches more than one place');
      expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('hello\nworld\n');
      expect(await readFile(path.join(layout.ws, 'twice.txt'), 'utf8')).toBe('same same\n');
    });

    it('refuses read-only roots, binary and non-UTF-8 files', async () => {
      expect(
        (await refusal(files.editFile(path.join(layout.ro, 'readme.txt'), [{ old_text: 'r', new_text: 'w' }]))).code,
      ).toBe('FORBIDDEN');
      await writeFile(path.join(layout.ws, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
      expect((await refusal(files.editFile('latin1.txt', [{ old_text: 'caf', new_text: 'x' }]))).message).toContain(
        'not valid UTF-8',
      );
    });

    it('refuses when the file changed between read and write, keeping the other writer’s content', async () => {
      const racing = await open({
        hooks: {
          beforeCommit: async ({ target }) => {
            await writeFile(target, 'someone else\n');
          },
        },
      });
      try {
        const error = await refusal(racing.editFile('hello.txt', [{ old_text: 'world', new_text: 'moon' }]));
        expect(error.message).toContain('changed while it was being edited');
        expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('someone else\n');
      } finally {
        await racing.close();
      }
    });
  });

  describe('applyEdits and selectionOf', () => {
    it('treats $ patterns literally and accepts LF edits on CRLF files', () => {
      expect(applyEdits('price: X', [{ old_text: 'X', new_text: "$& $' $1" }], 'f')).toBe("price: $& $' $1");
      expect(applyEdits('a\r\nb\r\nc\r\n', [{ old_text: 'a\nb', new_text: 'x\ny' }], 'f')).toBe('x\r\ny\r\nc\r\n');
      expect(() => applyEdits('aaa', [{ old_text: 'aa', new_text: 'b' }], 'f')).toThrow('more than one place');
      expect(() => applyEdits('a', [{ old_text: '', new_text: 'b' }], 'f')).toThrow('must not be empty');
    });

    it('maps read options to one selection', () => {
      expect(selectionOf({})).toEqual({ from: 1 });
      expect(selectionOf({ offset: 3, limit: 2 })).toEqual({ from: 3, limit: 2 });
      expect(selectionOf({ head: 4 })).toEqual({ from: 1, limit: 4 });
      expect(selectionOf({ tail: 4 })).toEqual({ tail: 4 });
      expect(() => selectionOf({ tail: 1, limit: 1 })).toThrow(FsError);
    });
  });

  describe('createDirectory', () => {
    it('creates nested directories and is idempotent', async () => {
      expect(await files.createDirectory('a/b/c')).toEqual({ path: path.join(layout.ws, 'a/b/c'), created: true });
      expect((await stat(path.join(layout.ws, 'a/b/c'))).isDirectory()).toBe(true);
      expect((await files.createDirectory('a/b/c')).created).toBe(false);
    });

    it('refuses a file in the way and read-only roots', async () => {
      expect((await refusal(files.createDirectory('hello.txt'))).code).toBe('CONFLICT');
      expect((await refusal(files.createDirectory('hello.txt/sub'))).code).toBe('NOT_FOUND');
      expect((await refusal(files.createDirectory(path.join(layout.ro, 'new')))).code).toBe('FORBIDDEN');
    });
  });

  describe('moveFile', () => {
    it('moves files and directories, creating missing parents', async () => {
      expect(await files.moveFile('hello.txt', 'moved/hello.txt')).toEqual({
        source: path.join(layout.ws, 'hello.txt'),
        destination: path.join(layout.ws, 'moved/hello.txt'),
      });
      expect(await readFile(path.join(layout.ws, 'moved/hello.txt'), 'utf8')).toBe('hello\nworld\n');
      await expect(lstat(path.join(layout.ws, 'hello.txt'))).rejects.toThrow('ENOENT');
      await files.moveFile('notes', 'archive');
      expect((await readdir(path.join(layout.ws, 'archive'))).sort()).toEqual(['a.md', 'b.txt']);
    });

    it('moves a link as a link, even one aimed outside', async () => {
      await files.moveFile('link-out-file', 'moved-link');
      expect(await readlink(path.join(layout.ws, 'moved-link'))).toBe(path.join(layout.outside, 'secret.txt'));
    });

    it('refuses an existing destination, moving into itself, roots and read-only sides', async () => {
      expect((await refusal(files.moveFile('hello.txt', 'notes/a.md'))).code).toBe('CONFLICT');
      expect((await refusal(files.moveFile('notes', 'notes/inner'))).message).toContain('into itself');
      expect((await refusal(files.moveFile('.', 'elsewhere'))).code).toBe('FORBIDDEN');
      expect((await refusal(files.moveFile(path.join(layout.ro, 'readme.txt'), 'x.txt'))).code).toBe('FORBIDDEN');
      expect((await refusal(files.moveFile('hello.txt', path.join(layout.ro, 'x.txt')))).code).toBe('FORBIDDEN');
      expect((await refusal(files.moveFile('nope', 'x'))).code).toBe('NOT_FOUND');
      expect(await readFile(path.join(layout.ws, 'notes/a.md'), 'utf8')).toBe('# A\nalpha line\n');
    });
  });

  describe('copyFile', () => {
    it('copies a file, also out of a read-only root, keeping its mode', async () => {
      await chmod(path.join(layout.ro, 'readme.txt'), 0o600);
      expect(await files.copyFile(path.join(layout.ro, 'readme.txt'), 'copies/readme.txt')).toEqual({
        source: path.join(layout.ro, 'readme.txt'),
        destination: path.join(layout.ws, 'copies/readme.txt'),
        bytes: 10,
      });
      expect(await readFile(path.join(layout.ws, 'copies/readme.txt'), 'utf8')).toBe('read only\n');
      expect((await stat(path.join(layout.ws, 'copies/readme.txt'))).mode & 0o777).toBe(0o600);
    });

    it('refuses an existing destination, directories and read-only destinations', async () => {
      expect((await refusal(files.copyFile('hello.txt', 'notes/a.md'))).code).toBe('CONFLICT');
      expect((await refusal(files.copyFile('hello.txt', 'link-out-file'))).code).toBe('CONFLICT');
      expect((await refusal(files.copyFile('notes', 'notes2'))).message).toContain('copy_file copies files');
      expect((await refusal(files.copyFile('hello.txt', path.join(layout.ro, 'x')))).code).toBe('FORBIDDEN');
      expect(await readFile(path.join(layout.ws, 'notes/a.md'), 'utf8')).toBe('# A\nalpha line\n');
    });
  });

  describe('deletePath', () => {
    it('deletes files, links (never their targets) and empty directories', async () => {
      expect(await files.deletePath('notes/b.txt')).toEqual({
        path: path.join(layout.ws, 'notes/b.txt'),
        type: 'file',
        removed: 1,
      });
      expect((await files.deletePath('link-out-file')).type).toBe('symlink');
      expect(await readFile(path.join(layout.outside, 'secret.txt'), 'utf8')).toContain('CANARY');
      expect((await files.deletePath('link-out-dir')).type).toBe('symlink');
      expect((await readdir(layout.outside)).sort()).toEqual(['deep', 'secret.txt']);
      await mkdir(path.join(layout.ws, 'empty'));
      expect((await files.deletePath('empty')).type).toBe('directory');
    });

    it('needs recursive for a non-empty directory, then removes everything under it', async () => {
      await mkdir(path.join(layout.ws, 'notes', 'sub'));
      await writeFile(path.join(layout.ws, 'notes', 'sub', 'c'), 'c');
      await symlink(layout.outside, path.join(layout.ws, 'notes', 'sub', 'out'));
      expect((await refusal(files.deletePath('notes'))).message).toContain('pass recursive: true');
      expect((await files.deletePath('notes', true)).removed).toBe(6);
      await expect(lstat(path.join(layout.ws, 'notes'))).rejects.toThrow('ENOENT');
      expect((await readdir(layout.outside)).sort()).toEqual(['deep', 'secret.txt']);
    });

    it('refuses roots, read-only roots and missing paths', async () => {
      expect((await refusal(files.deletePath('.', true))).message).toContain('allowed directory itself');
      expect((await refusal(files.deletePath(layout.ws, true))).code).toBe('FORBIDDEN');
      expect((await refusal(files.deletePath(path.join(layout.ro, 'readme.txt')))).code).toBe('FORBIDDEN');
      expect((await refusal(files.deletePath('nope'))).code).toBe('NOT_FOUND');
      expect(await readFile(path.join(layout.ro, 'readme.txt'), 'utf8')).toBe('read only\n');
    });
  });
});
