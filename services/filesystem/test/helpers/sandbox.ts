/**
 * A real directory layout for containment tests: roots, a sibling that shares a root's prefix, and
 * an "outside" canary directory with a secret. `fingerprint` proves nothing outside was read or
 * changed: contents, modes, link targets and access times (set far in the past, so that any read
 * of a file or listing of a directory moves them, even on relatime mounts).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SECRET = 'CANARY-7f3a9c-DO-NOT-LEAK';
const PAST = new Date('2000-01-01T00:00:00Z');

export interface Layout {
  base: string;
  /** Read-write root. */
  ws: string;
  /** Read-only root. */
  ro: string;
  /** Not a root, though `${ws}2` starts with the root's path. */
  sibling: string;
  /** Not a root: the canary. */
  outside: string;
  cleanup(): Promise<void>;
}

/**
 * base/ws (rw root): hello.txt, notes/a.md, notes/b.txt, link-in -> notes, link-file-in -> hello.txt,
 *   link-out-file -> outside/secret.txt, link-out-dir -> outside, dangling-out -> outside/missing,
 *   dangling-in -> ws/missing, loop-a <-> loop-b
 * base/ro (ro root): readme.txt, link-to-ws -> ws/notes
 * base/ws2 (sibling): secret.txt
 * base/outside: secret.txt, deep/secret.md, deep/image.png
 */
export async function makeLayout(): Promise<Layout> {
  const base = await mkdtemp(path.join(tmpdir(), 'mcp-fs-'));
  const ws = path.join(base, 'ws');
  const ro = path.join(base, 'ro');
  const sibling = path.join(base, 'ws2');
  const outside = path.join(base, 'outside');
  for (const dir of [ws, ro, sibling, outside, path.join(ws, 'notes'), path.join(outside, 'deep')]) {
    await mkdir(dir, { recursive: true });
  }
  await writeFile(path.join(ws, 'hello.txt'), 'hello\nworld\n');
  await writeFile(path.join(ws, 'notes', 'a.md'), '# A\nalpha line\n');
  await writeFile(path.join(ws, 'notes', 'b.txt'), 'beta\n');
  await symlink(path.join(ws, 'notes'), path.join(ws, 'link-in'));
  await symlink('hello.txt', path.join(ws, 'link-file-in'));
  await symlink(path.join(outside, 'secret.txt'), path.join(ws, 'link-out-file'));
  await symlink(outside, path.join(ws, 'link-out-dir'));
  await symlink(path.join(outside, 'missing'), path.join(ws, 'dangling-out'));
  await symlink(path.join(ws, 'missing'), path.join(ws, 'dangling-in'));
  await symlink(path.join(ws, 'loop-b'), path.join(ws, 'loop-a'));
  await symlink(path.join(ws, 'loop-a'), path.join(ws, 'loop-b'));
  await writeFile(path.join(ro, 'readme.txt'), 'read only\n');
  await symlink(path.join(ws, 'notes'), path.join(ro, 'link-to-ws'));
  await writeFile(path.join(sibling, 'secret.txt'), `${SECRET} sibling\n`);
  await writeFile(path.join(outside, 'secret.txt'), `${SECRET}\n`);
  await writeFile(path.join(outside, 'deep', 'secret.md'), `${SECRET} deep\n`);
  await writeFile(path.join(outside, 'deep', 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
  return { base, ws, ro, sibling, outside, cleanup: () => rm(base, { recursive: true, force: true }) };
}

interface Entry {
  path: string;
  type: string;
  mode: number;
  size: number;
  mtimeMs: number;
  atimeMs: number;
  content?: string;
}

/** Resets access times to the past: call after anything that legitimately read the tree. */
async function resetAtimes(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const full = path.join(dir, name);
    const info = await lstat(full);
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) await resetAtimes(full);
    await utimes(full, PAST, info.mtime);
  }
  const self = await lstat(dir);
  await utimes(dir, PAST, self.mtime);
}

async function walk(dir: string, prefix: string, out: Entry[], withContent: boolean): Promise<void> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const full = path.join(dir, name);
    const info = await lstat(full);
    const type = info.isSymbolicLink() ? 'symlink' : info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other';
    const entry: Entry = {
      path: `${prefix}${name}`,
      type,
      mode: info.mode,
      size: info.size,
      mtimeMs: info.mtimeMs,
      atimeMs: type === 'symlink' ? 0 : info.atimeMs,
    };
    if (withContent) {
      if (type === 'symlink') entry.content = await readlink(full);
      if (type === 'file')
        entry.content = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
    }
    out.push(entry);
    if (type === 'dir') await walk(full, `${entry.path}/`, out, withContent);
  }
}

export interface Fingerprint {
  entries: Entry[];
  dirAtimeMs: number;
}

/** Snapshot of a directory tree, taken so that it leaves every access time in the past. */
export async function fingerprint(dir: string): Promise<Fingerprint> {
  const entries: Entry[] = [];
  await walk(dir, '', entries, true);
  await resetAtimes(dir);
  const settled: Entry[] = [];
  await walk(dir, '', settled, false);
  await resetAtimes(dir);
  // Content hashes from the first pass, times from the settled second pass.
  const merged = settled.map((entry, index) => ({ ...entry, content: entries[index]?.content }));
  return { entries: merged, dirAtimeMs: (await lstat(dir)).atimeMs };
}

/**
 * What changed since `before`: atimes are compared first (a read or a listing moves them), then
 * contents. Returns a list of differences; [] means untouched. Leaves the atimes in the past again.
 */
export async function differences(dir: string, before: Fingerprint): Promise<string[]> {
  const diffs: string[] = [];
  const dirInfo = await lstat(dir);
  if (dirInfo.atimeMs !== before.dirAtimeMs) diffs.push('(root) listed');
  const now: Entry[] = [];
  await walk(dir, '', now, false);
  const beforeByPath = new Map(before.entries.map((entry) => [entry.path, entry]));
  for (const entry of now) {
    const old = beforeByPath.get(entry.path);
    if (!old) {
      diffs.push(`${entry.path} created`);
      continue;
    }
    beforeByPath.delete(entry.path);
    if (old.atimeMs !== entry.atimeMs) diffs.push(`${entry.path} read`);
    for (const key of ['type', 'mode', 'size', 'mtimeMs'] as const) {
      if (old[key] !== entry[key]) diffs.push(`${entry.path} ${key} changed`);
    }
  }
  for (const gone of beforeByPath.keys()) diffs.push(`${gone} deleted`);
  const after = await fingerprint(dir);
  const contentBefore = new Map(before.entries.map((entry) => [entry.path, entry.content]));
  for (const entry of after.entries) {
    if (contentBefore.has(entry.path) && contentBefore.get(entry.path) !== entry.content) {
      diffs.push(`${entry.path} content changed`);
    }
  }
  return diffs;
}
