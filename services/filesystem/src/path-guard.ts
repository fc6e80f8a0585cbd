/**
 * Containment: maps a user's path onto a real location inside one of the allowed roots, or refuses.
 * No I/O beyond realpath/lstat/stat happens here; safe-io.ts does the opening, pinned to what this
 * module resolved. No MCP imports: this is the security boundary and is unit-tested on its own.
 */
import { lstat, mkdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export type RootMode = 'ro' | 'rw';

/** A root without `:ro` or `:rw` is read-only: writing must be asked for explicitly. */
export const DEFAULT_ROOT_MODE: RootMode = 'ro';

export interface RootSpec {
  /** Absolute, normalised path as configured. */
  path: string;
  mode: RootMode;
}

export type FsErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'FORBIDDEN' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE' | 'TIMEOUT';

/** An expected failure whose message is safe to show: it names only what the user typed. */
export class FsError extends Error {
  override readonly name = 'FsError';
  /** The message only ever names the caller's own input: the core shows it as is. */
  readonly expose = true;
  constructor(
    readonly code: FsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_PATH_LENGTH = 4096;

/**
 * Parses `ALLOWED_PATHS`: comma-separated roots, each optionally suffixed `:ro` or `:rw`.
 * Relative roots resolve against `cwd`. Throws Error with a message naming the bad entry.
 */
export function parseAllowedPaths(value: string, cwd: string = process.cwd()): RootSpec[] {
  const specs: RootSpec[] = [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new Error('needs at least one directory');
  for (const entry of entries) {
    let raw = entry;
    let mode: RootMode = DEFAULT_ROOT_MODE;
    const suffix = /:(ro|rw)$/i.exec(entry);
    if (suffix?.[1] !== undefined) {
      mode = suffix[1].toLowerCase() as RootMode;
      raw = entry.slice(0, -suffix[0].length).trim();
    }
    if (raw.length === 0) throw new Error(`"${entry}" has no directory before the mode`);
    if (raw.includes('\0')) throw new Error(`"${entry}" contains a NUL byte`);
    const resolved = path.resolve(cwd, raw);
    if (specs.some((spec) => spec.path === resolved)) throw new Error(`"${raw}" is listed twice`);
    specs.push({ path: resolved, mode });
  }
  return specs;
}

/** True when `candidate` is `root` or below it. `/workspace2` is not inside `/workspace`. */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return candidate.startsWith(prefix);
}

export interface AllowedRoot {
  /** Absolute path as configured: what users see and type. */
  readonly path: string;
  /** Its realpath at start-up: what containment is checked against. */
  readonly real: string;
  readonly mode: RootMode;
  /** Identity at start-up, so that a root swapped for another directory is noticed. */
  readonly dev: number;
  readonly ino: number;
}

export interface ResolvedPath {
  /** What the user typed; the only path an error message may show. */
  readonly input: string;
  readonly root: AllowedRoot;
  /** Absolute real location (for a missing path: the real deepest ancestor plus the missing tail). */
  readonly real: string;
  /** `real` relative to `root.real`; '' for the root itself. Contains no symlinks, no `..`. */
  readonly relative: string;
  readonly exists: boolean;
  /** `real` expressed under the root's configured path: what results show. */
  readonly display: string;
}

export interface ResolveOptions {
  /**
   * false: the last component is not followed when it is a symlink (delete or move the link itself).
   * Every earlier component is still resolved. Default true.
   */
  follow?: boolean;
}

export interface CreateGuardOptions {
  /** Create read-write roots that do not exist yet (read-only ones must exist). Default false. */
  createMissing?: boolean;
}

/** realpath failures that mean "look at the ancestors": containment is judged before reporting them. */
const WALK_UP = ['ENOENT', 'ENOTDIR', 'EACCES', 'ELOOP', 'EPERM'];

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

const quote = (input: string): string => JSON.stringify(input);

export const outsideError = (input: string): FsError =>
  new FsError('FORBIDDEN', `Access denied: ${quote(input)} is outside the allowed directories`);

export class PathGuard {
  private constructor(readonly roots: readonly AllowedRoot[]) {}

  /** Resolves each root once (creating missing read-write ones when asked). Throws Error naming a bad root. */
  static async create(specs: readonly RootSpec[], options: CreateGuardOptions = {}): Promise<PathGuard> {
    if (specs.length === 0) throw new Error('ALLOWED_PATHS: needs at least one directory');
    const roots: AllowedRoot[] = [];
    for (const spec of specs) {
      if (!path.isAbsolute(spec.path)) throw new Error(`ALLOWED_PATHS: ${spec.path} is not absolute`);
      let real: string;
      try {
        real = await realpath(spec.path);
      } catch (error) {
        if (errno(error) !== 'ENOENT' || !options.createMissing || spec.mode !== 'rw') {
          throw new Error(`ALLOWED_PATHS: ${spec.path} cannot be used (${errno(error) ?? 'error'})`);
        }
        await mkdir(spec.path, { recursive: true });
        real = await realpath(spec.path);
      }
      const info = await stat(real);
      if (!info.isDirectory()) throw new Error(`ALLOWED_PATHS: ${spec.path} is not a directory`);
      if (roots.some((root) => root.real === real)) {
        throw new Error(`ALLOWED_PATHS: ${spec.path} is the same directory as another root`);
      }
      roots.push({ path: path.normalize(spec.path), real, mode: spec.mode, dev: info.dev, ino: info.ino });
    }
    return new PathGuard(roots);
  }

  /** The first root: relative paths resolve against it. */
  get primary(): AllowedRoot {
    return this.roots[0] as AllowedRoot;
  }

  get anyWritable(): boolean {
    return this.roots.some((root) => root.mode === 'rw');
  }

  /** The innermost root whose real path holds `real` (nested roots: the deepest wins). */
  rootOfReal(real: string): AllowedRoot | undefined {
    let best: AllowedRoot | undefined;
    for (const root of this.roots) {
      if (isInside(root.real, real) && (best === undefined || root.real.length > best.real.length)) best = root;
    }
    return best;
  }

  /** Maps a real path inside a root to the path users see under the root's configured name. */
  displayOf(real: string, root: AllowedRoot | undefined = this.rootOfReal(real)): string {
    if (root === undefined) throw new Error('displayOf: path is outside every root');
    const relative = path.relative(root.real, real);
    return relative === '' ? root.path : path.join(root.path, relative);
  }

  /**
   * Resolves a user path (absolute, or relative to the first root) to a real location inside a root.
   * Order matters: a lexical check first, so paths that are plainly elsewhere never touch the disk
   * (no existence oracle outside); then realpath, and containment is judged on the real location.
   */
  async resolve(input: string, options: ResolveOptions = {}): Promise<ResolvedPath> {
    const abs = this.lexical(input);
    const follow = options.follow ?? true;
    const isRootItself = this.roots.some((root) => root.path === abs || root.real === abs);
    let real: string;
    let exists: boolean;
    if (follow || isRootItself) {
      ({ real, exists } = await this.realLocation(input, abs));
    } else {
      const parent = await this.realLocation(input, path.dirname(abs));
      real = path.join(parent.real, path.basename(abs));
      exists = parent.exists && (await lstatOrUndefined(input, real)) !== undefined;
    }
    const root = this.contain(input, real);
    const relative = path.relative(root.real, real);
    return { input, root, real, relative, exists, display: this.displayOf(real, root) };
  }

  /** Refuses a write to a read-only root, naming only the user's input. */
  assertWritable(resolved: ResolvedPath): void {
    if (resolved.root.mode !== 'rw') {
      throw new FsError('FORBIDDEN', `${quote(resolved.input)} is in a read-only directory`);
    }
  }

  private lexical(input: string): string {
    if (typeof input !== 'string' || input.length === 0) throw new FsError('INVALID_INPUT', 'Path must not be empty');
    if (input.includes('\0')) throw new FsError('INVALID_INPUT', 'Path must not contain a NUL byte');
    if (input.length > MAX_PATH_LENGTH) {
      throw new FsError('INVALID_INPUT', `Path is longer than ${MAX_PATH_LENGTH} characters`);
    }
    // path.resolve folds `..` lexically, before any symlink is followed: `..` never climbs out through a link.
    const abs = path.isAbsolute(input) ? path.resolve(input) : path.resolve(this.primary.path, input);
    if (!this.roots.some((root) => isInside(root.path, abs) || isInside(root.real, abs))) throw outsideError(input);
    return abs;
  }

  private contain(input: string, real: string): AllowedRoot {
    const root = this.rootOfReal(real);
    if (root === undefined) throw outsideError(input);
    return root;
  }

  /**
   * realpath, or for a path that does not exist yet: the realpath of its deepest existing ancestor
   * plus the missing tail. Containment is checked before any other failure is reported, so the error
   * for something outside never depends on what exists there.
   */
  private async realLocation(input: string, abs: string): Promise<{ real: string; exists: boolean }> {
    // A missing component that another call creates meanwhile (two writes making the same new
    // folder) resolves on the next look: look again, a bounded number of times.
    for (let attempt = 1; ; attempt += 1) {
      const location = await this.realLocationOnce(input, abs);
      if (location !== 'appeared') return location;
      if (attempt === 3) {
        throw new FsError('CONFLICT', `${quote(input)} kept changing while it was resolved; nothing was done, retry`);
      }
    }
  }

  private async realLocationOnce(input: string, abs: string): Promise<{ real: string; exists: boolean } | 'appeared'> {
    try {
      return { real: await realpath(abs), exists: true };
    } catch (error) {
      if (!WALK_UP.includes(errno(error) ?? '')) throw translateErrno(input, error);
    }
    const missing: string[] = [];
    let current = abs;
    let ancestor: string | undefined;
    while (ancestor === undefined) {
      const parent = path.dirname(current);
      missing.unshift(path.basename(current));
      if (parent === current) throw outsideError(input);
      current = parent;
      try {
        ancestor = await realpath(current);
      } catch (error) {
        if (!WALK_UP.includes(errno(error) ?? '')) throw translateErrno(input, error);
      }
    }
    const real = path.join(ancestor, ...missing);
    this.contain(input, ancestor);
    this.contain(input, real);
    if (await this.explainMissing(input, ancestor, missing[0] as string)) return 'appeared';
    return { real, exists: false };
  }

  /**
   * The deepest ancestor resolved; the next component does not resolve. Either it is genuinely absent
   * (fine: the path does not exist yet), or it appeared since (true: resolve again), or something
   * there blocks resolution: say which, safely.
   */
  private async explainMissing(input: string, ancestor: string, next: string): Promise<boolean> {
    let ancestorInfo;
    try {
      ancestorInfo = await stat(ancestor);
    } catch (error) {
      throw translateErrno(input, error);
    }
    if (!ancestorInfo.isDirectory()) {
      throw new FsError('NOT_FOUND', `Not found: ${quote(input)} (a parent of it is not a directory)`);
    }
    const entry = await lstatOrUndefined(input, path.join(ancestor, next));
    if (entry === undefined) return false;
    if (entry.isSymbolicLink()) {
      const link = await readlink(path.join(ancestor, next)).catch(() => undefined);
      const target = link === undefined ? ancestor : path.resolve(ancestor, link);
      // A dangling link that aims outside is reported like any other outside path.
      if (this.roots.every((root) => !isInside(root.path, target) && !isInside(root.real, target))) {
        throw outsideError(input);
      }
      throw new FsError(
        'NOT_FOUND',
        `Not found: ${quote(input)} (a symbolic link on this path is dangling or loops; it is not followed)`,
      );
    }
    // It is there and not a link: either it was made after the walk above looked (it resolves now),
    // or it cannot be searched (EACCES: permission denied).
    try {
      await realpath(path.join(ancestor, next));
      return true;
    } catch (error) {
      if (errno(error) === 'ENOENT') return false; // gone again: missing after all
      if (errno(error) === 'EACCES' || errno(error) === 'EPERM') {
        throw new FsError('FORBIDDEN', `Permission denied: ${quote(input)}`);
      }
      throw translateErrno(input, error);
    }
  }
}

async function lstatOrUndefined(input: string, real: string) {
  try {
    return await lstat(real);
  } catch (error) {
    if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') return undefined;
    throw translateErrno(input, error);
  }
}

/**
 * Turns an errno from an operation on a path inside the sandbox into a safe FsError that names only
 * the user's input. Unknown errors are rethrown untouched (the core reports them generically).
 */
export function translateErrno(input: string, error: unknown): FsError {
  if (error instanceof FsError) return error;
  const name = quote(input);
  switch (errno(error)) {
    case 'ENOENT':
      return new FsError('NOT_FOUND', `Not found: ${name}`);
    case 'ENOTDIR':
      return new FsError('NOT_FOUND', `Not found: ${name} (a parent of it is not a directory)`);
    case 'EISDIR':
      return new FsError('INVALID_INPUT', `${name} is a directory`);
    case 'EEXIST':
      return new FsError('CONFLICT', `${name} already exists`);
    case 'ENOTEMPTY':
      return new FsError('CONFLICT', `Directory not empty: ${name}`);
    case 'EACCES':
    case 'EPERM':
      return new FsError('FORBIDDEN', `Permission denied: ${name}`);
    case 'EROFS':
      return new FsError('FORBIDDEN', `${name} is on a read-only file system`);
    case 'ELOOP':
      return new FsError('CONFLICT', `${name} is or became a symbolic link; it is not followed`);
    case 'ENAMETOOLONG':
      return new FsError('INVALID_INPUT', `Path or name too long: ${name}`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new FsError('FORBIDDEN', 'No space left on the device');
    case 'EFBIG':
      return new FsError('PAYLOAD_TOO_LARGE', `${name} is too large`);
    default:
      throw error;
  }
}
