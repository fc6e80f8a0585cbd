/**
 * I/O pinned to what path-guard resolved. Every directory is opened from a root's file descriptor one
 * component at a time with O_NOFOLLOW, and every later name is looked up relative to that open
 * descriptor (`/proc/self/fd/N/name`, Linux's openat). A symlink swapped in after the check is refused
 * (O_NOFOLLOW), and a directory moved or replaced after it was opened cannot redirect the operation:
 * the descriptor still names the directory that was checked. Writes go to an O_EXCL temp file in that
 * directory, are synced, and are renamed over the target (rename replaces a link, never follows it).
 * Without /proc (not Linux) the same code falls back to real paths plus re-verification; see README.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Dirent, type Stats } from 'node:fs';
import { type Dir } from 'node:fs';
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  opendir,
  readlink,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import path from 'node:path';

import { createTimeSlice } from '@mcp-sse/core';

import {
  type AllowedRoot,
  FsError,
  isInside,
  type PathGuard,
  type ResolvedPath,
  translateErrno,
} from './path-guard.js';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: opening a FIFO must not hang the call; it has no effect on regular files.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
const quote = (input: string): string => JSON.stringify(input);

export const TEMP_PREFIX = '.mcp-tmp-';

export interface CommitInfo {
  /** Real path of the file about to be replaced or created. */
  target: string;
  /** Real path of the directory the temp file sits in. */
  directory: string;
}

/** Test hooks: let a test change the disk at exactly the racy moments. Never set in production. */
export interface SafeIoHooks {
  /** After a path was resolved and checked, before anything is opened. */
  afterResolve?: (resolved: ResolvedPath) => void | Promise<void>;
  /** After the temp file is written and synced, just before it replaces the target. */
  beforeCommit?: (info: CommitInfo) => void | Promise<void>;
}

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

export function entryType(entry: Stats | Dirent): EntryType {
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isDirectory()) return 'directory';
  if (entry.isFile()) return 'file';
  return 'other';
}

/** An open directory that every later lookup goes through. */
export class PinnedDir {
  constructor(
    readonly handle: FileHandle,
    /** The real path it was opened at (what it must still be at when a write commits). */
    readonly real: string,
    readonly root: AllowedRoot,
    private readonly procFd: boolean,
    /** Root descriptors live as long as the service; only owned ones are closed. */
    private readonly owned: boolean,
  ) {}

  /** A path naming `name` inside this very directory, whatever happened to its path since. */
  at(name: string): string {
    if (name.length === 0 || name.includes('/') || name === '.' || name === '..') {
      throw new FsError('INVALID_INPUT', `Invalid file name ${quote(name)}`);
    }
    return this.procFd ? `/proc/self/fd/${this.handle.fd}/${name}` : path.join(this.real, name);
  }

  /** A path naming this directory itself (for readdir). */
  self(): string {
    return this.procFd ? `/proc/self/fd/${this.handle.fd}` : this.real;
  }

  /** True while the directory still sits at the real path it was opened at. */
  async stillAt(): Promise<boolean> {
    try {
      if (this.procFd) return (await readlink(this.self())) === this.real;
      const [now, opened] = await Promise.all([stat(this.real), this.handle.stat()]);
      return (await realpath(this.real)) === this.real && now.ino === opened.ino && now.dev === opened.dev;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.handle.close();
  }
}

export interface WriteOptions {
  /** Fail with CONFLICT when the target exists (copy); the commit itself is no-clobber (link). */
  exclusive?: boolean;
  /** Fail with CONFLICT unless the target is still exactly the file that was read (edit). */
  expect?: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs'>;
  /** Permission bits for a new file (copy keeps the source's); an existing file keeps its own. */
  mode?: number;
  /** Create missing parent directories (default true). */
  createParents?: boolean;
}

export interface SafeIoOptions {
  /** Use /proc/self/fd (Linux). Default: detected. false forces the path-based fallback (tests). */
  procFd?: boolean;
  hooks?: SafeIoHooks;
  /** Read and replace regular files that have more than one hard link (FS_ALLOW_HARDLINKS). Default false. */
  allowHardlinks?: boolean;
}

/**
 * A hard link is a second name for the same file, and nothing in the file says where its other names
 * are: one inside a root may name a file outside every root. So, unless allowed, a regular file with
 * more than one link is neither read nor replaced. The count comes from the same stat that is used
 * for the operation (fstat of the opened descriptor for reads), so no swap can slip in between.
 */
export function hardLinkRefusal(input: string, stats: Pick<Stats, 'nlink' | 'isFile'>): FsError | undefined {
  if (!stats.isFile() || stats.nlink <= 1) return undefined;
  return new FsError(
    'FORBIDDEN',
    `${quote(input)} has ${stats.nlink} hard links; files with more than one link are refused, because another ` +
      'link may be outside the allowed directories (FS_ALLOW_HARDLINKS=true allows them)',
  );
}

export class SafeIo {
  private constructor(
    readonly guard: PathGuard,
    private readonly rootDirs: ReadonlyMap<AllowedRoot, PinnedDir>,
    readonly procFd: boolean,
    readonly hooks: SafeIoHooks,
    readonly allowHardlinks: boolean,
  ) {}

  /** Throws when `stats` is a multiply-linked regular file and those are not allowed. */
  assertLinks(input: string, stats: Pick<Stats, 'nlink' | 'isFile'>): void {
    if (this.allowHardlinks) return;
    const refusal = hardLinkRefusal(input, stats);
    if (refusal) throw refusal;
  }

  /** Opens every root once and checks that each is still the directory the guard resolved. */
  static async open(guard: PathGuard, options: SafeIoOptions = {}): Promise<SafeIo> {
    const handles: FileHandle[] = [];
    try {
      for (const root of guard.roots) {
        const handle = await open(root.real, DIR_FLAGS);
        handles.push(handle);
        const info = await handle.stat();
        if (info.dev !== root.dev || info.ino !== root.ino) {
          throw new Error(`ALLOWED_PATHS: ${root.path} changed while starting`);
        }
      }
      const first = handles[0] as FileHandle;
      const procFd =
        options.procFd ??
        (await readlink(`/proc/self/fd/${first.fd}`).then(
          (target) => target === guard.primary.real,
          () => false,
        ));
      const dirs = new Map<AllowedRoot, PinnedDir>();
      guard.roots.forEach((root, index) => {
        dirs.set(root, new PinnedDir(handles[index] as FileHandle, root.real, root, procFd, false));
      });
      return new SafeIo(guard, dirs, procFd, options.hooks ?? {}, options.allowHardlinks ?? false);
    } catch (error) {
      await Promise.all(handles.map((handle) => handle.close()));
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.rootDirs.values()].map((dir) => dir.handle.close()));
  }

  /** For /health: each root is still the directory it was at start-up. */
  async checkRoots(): Promise<void> {
    for (const [root, dir] of this.rootDirs) {
      const info = await stat(root.real).catch(() => undefined);
      const opened = await dir.handle.stat();
      if (info?.ino !== opened.ino || info.dev !== opened.dev) throw new Error(`root ${root.path} is unavailable`);
    }
  }

  /** Resolves through the guard, then gives the test hook its chance. */
  async resolve(input: string, follow = true): Promise<ResolvedPath> {
    const resolved = await this.guard.resolve(input, { follow });
    await this.hooks.afterResolve?.(resolved);
    return resolved;
  }

  private rootDir(root: AllowedRoot): PinnedDir {
    const dir = this.rootDirs.get(root);
    if (dir === undefined) throw new Error('unknown root');
    return dir;
  }

  /** Opens the directory `relative` below `root`, one component at a time, never following a link. */
  async openDir(root: AllowedRoot, relative: string, input: string, create = false): Promise<PinnedDir> {
    let current = this.rootDir(root);
    if (!this.procFd && !(await current.stillAt())) throw changed(input);
    const parts = relative === '' ? [] : relative.split(path.sep);
    try {
      for (const part of parts) {
        const next = await this.openChild(current, part, input, create);
        await current.close();
        current = next;
      }
      return current;
    } catch (error) {
      await current.close();
      throw error;
    }
  }

  private async openChild(dir: PinnedDir, name: string, input: string, create: boolean): Promise<PinnedDir> {
    const childReal = path.join(dir.real, name);
    let handle: FileHandle;
    try {
      handle = await open(dir.at(name), DIR_FLAGS);
    } catch (error) {
      if (errno(error) === 'ENOENT' && create) {
        await mkdir(dir.at(name)).catch((mkdirError: unknown) => {
          if (errno(mkdirError) !== 'EEXIST') throw translateErrno(input, mkdirError);
        });
        return this.openChild(dir, name, input, false);
      }
      if (errno(error) === 'ENOTDIR' || errno(error) === 'ELOOP') {
        const info = await lstat(dir.at(name)).catch(() => undefined);
        if (info?.isSymbolicLink()) throw changed(input);
        throw new FsError('NOT_FOUND', `Not found: ${quote(input)} (a parent of it is not a directory)`);
      }
      throw translateErrno(input, error);
    }
    const child = new PinnedDir(handle, childReal, dir.root, this.procFd, true);
    if (!this.procFd && !(await child.stillAt())) {
      await child.close();
      throw changed(input);
    }
    return child;
  }

  /** The directory holding `resolved` plus its last name. The root itself has no parent here. */
  async openParent(resolved: ResolvedPath, create = false): Promise<{ dir: PinnedDir; name: string }> {
    if (resolved.relative === '') throw new FsError('INVALID_INPUT', `${quote(resolved.input)} is a directory`);
    const dir = await this.openDir(
      resolved.root,
      path.dirname(resolved.relative) === '.' ? '' : path.dirname(resolved.relative),
      resolved.input,
      create,
    );
    return { dir, name: path.basename(resolved.relative) };
  }

  /** Opens an existing directory for listing. */
  async openDirectory(resolved: ResolvedPath): Promise<PinnedDir> {
    if (!resolved.exists) throw new FsError('NOT_FOUND', `Not found: ${quote(resolved.input)}`);
    try {
      return await this.openDir(resolved.root, resolved.relative, resolved.input);
    } catch (error) {
      // The last component exists but is a file: say so, rather than "a parent is not a directory".
      if (error instanceof FsError && error.code === 'NOT_FOUND') {
        const info = await this.lstatEntry(resolved).catch(() => undefined);
        if (info !== undefined && !info.isDirectory()) {
          throw new FsError('INVALID_INPUT', `${quote(resolved.input)} is not a directory`);
        }
      }
      throw error;
    }
  }

  /** Opens an existing regular file for reading; the handle is pinned to the checked file. */
  async openRead(resolved: ResolvedPath): Promise<{ handle: FileHandle; stats: Stats }> {
    if (!resolved.exists) throw new FsError('NOT_FOUND', `Not found: ${quote(resolved.input)}`);
    const { dir, name } = await this.openParent(resolved);
    let handle: FileHandle;
    try {
      handle = await this.openIn(dir, name, READ_FLAGS, resolved.input);
    } finally {
      await dir.close();
    }
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw new FsError('INVALID_INPUT', `${quote(resolved.input)} is a directory`);
      if (!stats.isFile()) throw new FsError('INVALID_INPUT', `${quote(resolved.input)} is not a regular file`);
      this.assertLinks(resolved.input, stats);
      return { handle, stats };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** lstat of the entry `resolved` names (the root: the root itself). */
  async lstatEntry(resolved: ResolvedPath): Promise<Stats> {
    if (resolved.relative === '') return this.rootDir(resolved.root).handle.stat();
    const { dir, name } = await this.openParent(resolved);
    try {
      return await lstat(dir.at(name));
    } catch (error) {
      throw translateErrno(resolved.input, error);
    } finally {
      await dir.close();
    }
  }

  private async openIn(dir: PinnedDir, name: string, flags: number, input: string, mode?: number) {
    try {
      return await open(dir.at(name), flags, mode);
    } catch (error) {
      // O_NOFOLLOW: ELOOP means the name became a symlink after it was checked.
      if (errno(error) === 'ELOOP') throw changed(input);
      throw translateErrno(input, error);
    }
  }

  /**
   * Writes `data` to `resolved` atomically: temp file (O_EXCL) in the pinned parent, fsync, then
   * rename (or link, when exclusive) over the target, then fsync the directory. Nothing is left
   * behind on failure; the target is either the old file or the new one.
   */
  async writeAtomic(
    resolved: ResolvedPath,
    data: Uint8Array | string | ((temp: FileHandle) => Promise<void>),
    options: WriteOptions = {},
  ): Promise<{ created: boolean }> {
    this.guard.assertWritable(resolved);
    const { dir, name } = await this.openParent(resolved, options.createParents ?? true);
    const temp = `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`;
    let tempCreated = false;
    try {
      const existing = await lstat(dir.at(name)).catch((error: unknown) => {
        if (errno(error) === 'ENOENT') return undefined;
        throw translateErrno(resolved.input, error);
      });
      if (existing?.isDirectory()) throw new FsError('INVALID_INPUT', `${quote(resolved.input)} is a directory`);
      if (existing !== undefined && options.exclusive) {
        throw new FsError('CONFLICT', `${quote(resolved.input)} already exists`);
      }
      if (existing?.isSymbolicLink()) throw changed(resolved.input);
      if (existing !== undefined && !existing.isFile()) {
        throw new FsError('INVALID_INPUT', `${quote(resolved.input)} is not a regular file`);
      }
      // rename() below replaces the name and never writes into the old file, so even an allowed hard
      // link cannot carry a write outside; a refused one is left as it is.
      if (existing !== undefined) this.assertLinks(resolved.input, existing);
      const handle = await this.openIn(dir, temp, CREATE_FLAGS, resolved.input, 0o666);
      tempCreated = true;
      try {
        if (typeof data === 'function') await data(handle);
        else await handle.writeFile(data);
        const keepMode = existing ? existing.mode & 0o7777 : options.mode;
        if (keepMode !== undefined) await handle.chmod(keepMode);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.hooks.beforeCommit?.({ target: resolved.real, directory: dir.real });
      if (!(await dir.stillAt())) throw changedDir(resolved.input);
      if (options.expect) {
        const now = await lstat(dir.at(name)).catch(() => undefined);
        if (!now || !sameFile(now, options.expect)) {
          throw new FsError('CONFLICT', `${quote(resolved.input)} changed while it was being edited; nothing written`);
        }
      }
      if (options.exclusive) await this.commitExclusive(dir, temp, name, resolved.input);
      else
        await rename(dir.at(temp), dir.at(name)).catch((error: unknown) => {
          throw translateErrno(resolved.input, error);
        });
      tempCreated = false;
      await syncDir(dir);
      return { created: existing === undefined };
    } finally {
      if (tempCreated) await unlink(dir.at(temp)).catch(() => undefined);
      await dir.close();
    }
  }

  private async commitExclusive(dir: PinnedDir, temp: string, name: string, input: string): Promise<void> {
    try {
      // link() fails with EEXIST when the name exists: an atomic no-clobber commit.
      await link(dir.at(temp), dir.at(name));
    } catch (error) {
      if (errno(error) === 'EEXIST') throw new FsError('CONFLICT', `${quote(input)} already exists`);
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errno(error) ?? ''))
        throw translateErrno(input, error);
      // A file system without hard links: check, then rename (the race is confined to the sandbox).
      if (
        await lstat(dir.at(name)).then(
          () => true,
          () => false,
        )
      ) {
        throw new FsError('CONFLICT', `${quote(input)} already exists`);
      }
      await rename(dir.at(temp), dir.at(name));
      return;
    }
    await unlink(dir.at(temp));
  }

  /** Creates a directory and any missing parents. Returns false when it already existed. */
  async makeDirectory(resolved: ResolvedPath): Promise<boolean> {
    this.guard.assertWritable(resolved);
    if (resolved.exists) {
      const info = await this.lstatEntry(resolved);
      if (!info.isDirectory()) throw new FsError('CONFLICT', `${quote(resolved.input)} exists and is not a directory`);
      return false;
    }
    const dir = await this.openDir(resolved.root, resolved.relative, resolved.input, true);
    await dir.close();
    return true;
  }

  /** Removes a file, a link (never its target) or a directory (recursively when asked). */
  async remove(
    resolved: ResolvedPath,
    recursive: boolean,
    signal?: AbortSignal,
  ): Promise<{ type: EntryType; removed: number }> {
    this.guard.assertWritable(resolved);
    if (resolved.relative === '') {
      throw new FsError('FORBIDDEN', `${quote(resolved.input)} is an allowed directory itself and cannot be deleted`);
    }
    const { dir, name } = await this.openParent(resolved);
    try {
      const info = await lstat(dir.at(name)).catch((error: unknown) => {
        throw translateErrno(resolved.input, error);
      });
      const type = entryType(info);
      if (type !== 'directory') {
        await unlink(dir.at(name)).catch((error: unknown) => {
          throw translateErrno(resolved.input, error);
        });
        await syncDir(dir);
        return { type, removed: 1 };
      }
      if (!recursive) {
        await rmdir(dir.at(name)).catch((error: unknown) => {
          if (errno(error) === 'ENOTEMPTY' || errno(error) === 'EEXIST') {
            throw new FsError(
              'CONFLICT',
              `Directory not empty: ${quote(resolved.input)}; pass recursive: true to delete it with its contents`,
            );
          }
          throw translateErrno(resolved.input, error);
        });
        await syncDir(dir);
        return { type, removed: 1 };
      }
      const removed = await this.removeTree(dir, name, resolved.input, signal);
      await syncDir(dir);
      return { type, removed };
    } finally {
      await dir.close();
    }
  }

  private async removeTree(parent: PinnedDir, name: string, input: string, signal?: AbortSignal): Promise<number> {
    const dir = await this.openChild(parent, name, input, false);
    const slice = createTimeSlice();
    let removed = 0;
    try {
      // Read incrementally (a huge directory is never listed whole), yielding between slices.
      const listing = await this.openListing(dir, input);
      try {
        for (let entry = await listing.read(); entry !== null; entry = await listing.read()) {
          signal?.throwIfAborted();
          // Dirent types come from the directory itself; a link is unlinked, never descended into.
          if (entry.isDirectory()) removed += await this.removeTree(dir, entry.name, input, signal);
          else {
            await unlink(dir.at(entry.name)).catch((error: unknown) => {
              throw translateErrno(input, error);
            });
            removed += 1;
          }
          await slice.maybeYield();
        }
      } finally {
        await listing.close().catch(() => undefined);
      }
    } finally {
      await dir.close();
    }
    await rmdir(parent.at(name)).catch((error: unknown) => {
      throw translateErrno(input, error);
    });
    return removed + 1;
  }

  /**
   * Moves an entry (a link is moved as a link) to a destination that must not exist. Returns
   * 'cross-device' when the two sit on different file systems, so the caller can copy instead.
   */
  async move(source: ResolvedPath, destination: ResolvedPath): Promise<'moved' | 'cross-device'> {
    this.guard.assertWritable(source);
    this.guard.assertWritable(destination);
    if (source.relative === '') {
      throw new FsError('FORBIDDEN', `${quote(source.input)} is an allowed directory itself and cannot be moved`);
    }
    if (destination.relative === '' || destination.exists) {
      throw new FsError('CONFLICT', `${quote(destination.input)} already exists`);
    }
    const from = await this.openParent(source);
    try {
      const info = await lstat(from.dir.at(from.name)).catch((error: unknown) => {
        throw translateErrno(source.input, error);
      });
      if (info.isDirectory() && isInside(source.real, destination.real)) {
        throw new FsError('INVALID_INPUT', `Cannot move ${quote(source.input)} into itself`);
      }
      const to = await this.openParent(destination, true);
      try {
        const taken = await lstat(to.dir.at(to.name)).then(
          () => true,
          () => false,
        );
        if (taken) throw new FsError('CONFLICT', `${quote(destination.input)} already exists`);
        if (!(await from.dir.stillAt()) || !(await to.dir.stillAt())) throw changedDir(source.input);
        try {
          if (info.isDirectory()) await rename(from.dir.at(from.name), to.dir.at(to.name));
          else {
            // link + unlink: no-clobber even if the destination appears meanwhile.
            await link(from.dir.at(from.name), to.dir.at(to.name)).catch(async (error: unknown) => {
              if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errno(error) ?? '')) throw error;
              await rename(from.dir.at(from.name), to.dir.at(to.name));
            });
            await unlink(from.dir.at(from.name)).catch((error: unknown) => {
              if (errno(error) !== 'ENOENT') throw error;
            });
          }
        } catch (error) {
          if (errno(error) === 'EXDEV') return 'cross-device';
          if (errno(error) === 'EEXIST' || errno(error) === 'ENOTEMPTY') {
            throw new FsError('CONFLICT', `${quote(destination.input)} already exists`);
          }
          if (errno(error) === 'EINVAL')
            throw new FsError('INVALID_INPUT', `Cannot move ${quote(source.input)} into itself`);
          throw translateErrno(source.input, error);
        }
        await syncDir(to.dir);
        await syncDir(from.dir);
        return 'moved';
      } finally {
        await to.dir.close();
      }
    } finally {
      await from.dir.close();
    }
  }

  /**
   * Opens a pinned directory for reading its entries a batch at a time (entry types come from the
   * directory, links are not followed). Close it after use.
   */
  async openListing(dir: PinnedDir, input: string): Promise<Dir> {
    try {
      return await opendir(dir.self(), { bufferSize: 128 });
    } catch (error) {
      throw translateErrno(input, error);
    }
  }

  /** lstat of a name inside a pinned directory. */
  async lstatIn(dir: PinnedDir, name: string, input: string): Promise<Stats> {
    try {
      return await lstat(dir.at(name));
    } catch (error) {
      throw translateErrno(input, error);
    }
  }

  /** Opens a subdirectory of a pinned directory (never through a link). */
  async openSubdir(dir: PinnedDir, name: string, input: string): Promise<PinnedDir> {
    return this.openChild(dir, name, input, false);
  }

  /** Opens a regular file inside a pinned directory for reading (never through a link). */
  async openFileIn(dir: PinnedDir, name: string, input: string): Promise<{ handle: FileHandle; stats: Stats }> {
    const handle = await this.openIn(dir, name, READ_FLAGS, input);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new FsError('INVALID_INPUT', `${quote(input)} is not a regular file`);
      this.assertLinks(input, stats);
      return { handle, stats };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
}

function sameFile(
  a: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs'>,
  b: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs'>,
) {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function syncDir(dir: PinnedDir): Promise<void> {
  // Makes the new directory entry durable; some file systems refuse fsync on directories.
  await dir.handle.sync().catch(() => undefined);
}

function changed(input: string): FsError {
  return new FsError(
    'CONFLICT',
    `${quote(input)} changed during the call (a symbolic link appeared on its path); nothing was done`,
  );
}

function changedDir(input: string): FsError {
  return new FsError(
    'CONFLICT',
    `The directory of ${quote(input)} was moved or replaced during the call; nothing was written`,
  );
}
