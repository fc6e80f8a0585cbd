/**
 * What each tool does, on top of the guard and the pinned I/O. No MCP imports: the tools are thin
 * wrappers that translate FsError into ServiceError.
 */
import type { Dirent } from 'node:fs';
import path from 'node:path';

import { createTwoFilesPatch } from 'diff';
import mime from 'mime-types';
import { Minimatch } from 'minimatch';

import { checkRegex, type GrepHit, RegexWorker } from './grep.js';
import { type AllowedRoot, FsError, PathGuard, type ResolvedPath, type RootSpec } from './path-guard.js';
import { type EntryType, entryType, hardLinkRefusal, type PinnedDir, SafeIo, type SafeIoHooks } from './safe-io.js';
import { chunksOf, type LineSelection, looksBinary, readLines, type TextSlice } from './text-read.js';

export interface Limits {
  /** Largest file read whole or written (write, edit, copy, media, grep). */
  maxFileBytes: number;
  /** Most text one read returns (read_file; the whole batch for read_multiple_files). */
  maxReadBytes: number;
}

export const MAX_LIST_ENTRIES = 10_000;
export const MAX_TREE_ENTRIES = 10_000;
export const MAX_SEARCH_RESULTS = 1_000;
/** Entries a recursive walk may visit before it stops and reports `truncated`. */
export const MAX_WALK_ENTRIES = 200_000;
export const MAX_GLOB_LENGTH = 1_000;
export const GREP_LINE_CHARS = 500;
export const GREP_FILE_BUDGET_MS = 2_000;

const quote = (input: string): string => JSON.stringify(input);

export interface FileServiceOptions {
  limits: Limits;
  hooks?: SafeIoHooks;
  /** Create read-write roots that do not exist (the service does; unit tests choose). */
  createMissing?: boolean;
  procFd?: boolean;
  /** Time budget for the regex on one file, in ms. */
  grepBudgetMs?: number;
  /** Read and replace files with more than one hard link (FS_ALLOW_HARDLINKS). Default false. */
  allowHardlinks?: boolean;
}

export interface ListEntry {
  name: string;
  type: EntryType;
  size?: number;
}

export interface TreeNode {
  name: string;
  type: EntryType;
  children?: TreeNode[];
}

interface WalkEntry {
  /** Relative to the walk's start, '/'-separated. */
  relative: string;
  name: string;
  type: EntryType;
  parent: PinnedDir;
  depth: number;
}

export interface GrepMatch extends GrepHit {
  path: string;
}

export interface Edit {
  old_text: string;
  new_text: string;
}

function globs(patterns: readonly string[] | undefined): Minimatch[] {
  return (patterns ?? []).map((pattern) => {
    if (pattern.length === 0 || pattern.length > MAX_GLOB_LENGTH) {
      throw new FsError('INVALID_INPUT', `Glob patterns must be 1 to ${MAX_GLOB_LENGTH} characters`);
    }
    // No slash: match the name at any depth (`*.ts`); with one: match the relative path (`src/**/*.ts`).
    return new Minimatch(pattern, { dot: true, matchBase: !pattern.includes('/'), nocomment: true });
  });
}

const matchesAny = (matchers: readonly Minimatch[], relative: string) =>
  matchers.some((matcher) => matcher.match(relative));

/** Counts occurrences, overlapping ones included: `aa` in `aaa` is ambiguous, so it counts twice. */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let index = text.indexOf(needle); index !== -1; index = text.indexOf(needle, index + 1)) {
    found.push(index);
    if (found.length > 1) break;
  }
  return found;
}

export class FileService {
  private constructor(
    readonly guard: PathGuard,
    readonly io: SafeIo,
    readonly limits: Limits,
    private readonly grepBudgetMs: number,
  ) {}

  static async create(specs: readonly RootSpec[], options: FileServiceOptions): Promise<FileService> {
    const guard = await PathGuard.create(specs, { createMissing: options.createMissing ?? false });
    const io = await SafeIo.open(guard, {
      procFd: options.procFd,
      hooks: options.hooks,
      allowHardlinks: options.allowHardlinks,
    });
    return new FileService(guard, io, options.limits, options.grepBudgetMs ?? GREP_FILE_BUDGET_MS);
  }

  async close(): Promise<void> {
    await this.io.close();
  }

  listAllowedDirectories(): { directories: { path: string; mode: AllowedRoot['mode'] }[] } {
    return { directories: this.guard.roots.map((root) => ({ path: root.path, mode: root.mode })) };
  }

  async listDirectory(
    input: string,
    options: { sizes?: boolean; sortBy?: 'name' | 'size' } = {},
  ): Promise<{ path: string; entries: ListEntry[]; total_size?: number; truncated: boolean }> {
    const resolved = await this.io.resolve(input);
    const dir = await this.io.openDirectory(resolved);
    try {
      const dirents = (await this.io.list(dir, input)).sort((a, b) => compareNames(a.name, b.name));
      const truncated = dirents.length > MAX_LIST_ENTRIES;
      const withSizes = options.sizes === true || options.sortBy === 'size';
      const entries: ListEntry[] = [];
      let total = 0;
      for (const dirent of dirents.slice(0, MAX_LIST_ENTRIES)) {
        const entry: ListEntry = { name: dirent.name, type: entryType(dirent) };
        if (withSizes && entry.type === 'file') {
          const info = await this.io.lstatIn(dir, dirent.name, input).catch(() => undefined);
          // The size of a multiply-linked file is the size of a file that may be outside: not shown.
          const hidden = info !== undefined && !this.io.allowHardlinks && hardLinkRefusal(dirent.name, info);
          if (!hidden) {
            entry.size = info?.size ?? 0;
            total += entry.size;
          }
        }
        entries.push(entry);
      }
      if (options.sortBy === 'size') entries.sort((a, b) => (b.size ?? -1) - (a.size ?? -1));
      const result: { path: string; entries: ListEntry[]; total_size?: number; truncated: boolean } = {
        path: resolved.display,
        entries,
        truncated,
      };
      if (withSizes) result.total_size = total;
      return result;
    } finally {
      await dir.close();
    }
  }

  /**
   * Depth-first, names sorted, symlinks listed but never followed; each directory is opened through
   * its pinned parent. Excluded entries are neither yielded nor descended into.
   */
  private async *walk(
    start: PinnedDir,
    input: string,
    options: { maxDepth: number; exclude: readonly Minimatch[]; signal?: AbortSignal; budget: { left: number } },
    prefix = '',
    depth = 1,
  ): AsyncGenerator<WalkEntry> {
    const dirents: Dirent[] = (await this.io.list(start, input)).sort((a, b) => compareNames(a.name, b.name));
    for (const dirent of dirents) {
      options.signal?.throwIfAborted();
      if (options.budget.left <= 0) return;
      options.budget.left -= 1;
      const relative = prefix === '' ? dirent.name : `${prefix}/${dirent.name}`;
      if (matchesAny(options.exclude, relative)) continue;
      const type = entryType(dirent);
      yield { relative, name: dirent.name, type, parent: start, depth };
      if (type === 'directory' && depth < options.maxDepth) {
        let child: PinnedDir;
        try {
          child = await this.io.openSubdir(start, dirent.name, input);
        } catch (error) {
          // Gone or unreadable since the listing: skip it, as find(1) would.
          if (error instanceof FsError && error.code !== 'CONFLICT') continue;
          throw error;
        }
        try {
          yield* this.walk(child, input, options, relative, depth + 1);
        } finally {
          await child.close();
        }
      }
    }
  }

  async directoryTree(
    input: string,
    maxDepth: number,
    exclude?: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ path: string; tree: TreeNode; truncated: boolean }> {
    const matchers = globs(exclude);
    const resolved = await this.io.resolve(input);
    const dir = await this.io.openDirectory(resolved);
    const tree: TreeNode = {
      name: path.basename(resolved.display) || resolved.display,
      type: 'directory',
      children: [],
    };
    const nodes = new Map<string, TreeNode>([['', tree]]);
    const budget = { left: MAX_WALK_ENTRIES };
    let count = 0;
    let truncated = false;
    try {
      for await (const entry of this.walk(dir, input, { maxDepth, exclude: matchers, signal, budget })) {
        if (count >= MAX_TREE_ENTRIES) {
          truncated = true;
          break;
        }
        count += 1;
        const node: TreeNode = { name: entry.name, type: entry.type };
        if (entry.type === 'directory') node.children = [];
        const parentKey = entry.relative.includes('/') ? entry.relative.slice(0, entry.relative.lastIndexOf('/')) : '';
        nodes.get(parentKey)?.children?.push(node);
        if (entry.type === 'directory') nodes.set(entry.relative, node);
      }
    } finally {
      await dir.close();
    }
    return { path: resolved.display, tree, truncated: truncated || budget.left <= 0 };
  }

  async getFileInfo(input: string): Promise<{
    path: string;
    type: EntryType;
    size: number;
    created: string;
    modified: string;
    accessed: string;
    permissions: string;
    writable: boolean;
  }> {
    const resolved = await this.io.resolve(input);
    if (!resolved.exists) throw new FsError('NOT_FOUND', `Not found: ${quote(input)}`);
    const info = await this.io.lstatEntry(resolved);
    this.io.assertLinks(input, info);
    return {
      path: resolved.display,
      type: entryType(info),
      size: info.size,
      created: info.birthtime.toISOString(),
      modified: info.mtime.toISOString(),
      accessed: info.atime.toISOString(),
      permissions: (info.mode & 0o777).toString(8).padStart(3, '0'),
      writable: resolved.root.mode === 'rw',
    };
  }

  async readFile(
    input: string,
    options: { offset?: number; limit?: number; head?: number; tail?: number } = {},
    signal?: AbortSignal,
  ): Promise<TextSlice & { path: string }> {
    const selection = selectionOf(options);
    const resolved = await this.io.resolve(input);
    const slice = await this.readText(resolved, selection, this.limits.maxReadBytes, signal);
    return { path: resolved.display, ...slice };
  }

  private async readText(
    resolved: ResolvedPath,
    selection: LineSelection,
    maxBytes: number,
    signal?: AbortSignal,
  ): Promise<TextSlice> {
    const { handle, stats } = await this.io.openRead(resolved);
    try {
      const read = async (buffer: Buffer, position: number) =>
        (await handle.read(buffer, 0, buffer.length, position)).bytesRead;
      // Sized to the file (one read for small ones), at most 64 KiB a chunk.
      const chunkSize = Math.min(Math.max(stats.size + 1, 512), 64 * 1024);
      return await readLines(chunksOf(read, signal, chunkSize), selection, maxBytes, quote(resolved.input));
    } finally {
      await handle.close();
    }
  }

  /** Reads several files; each succeeds or fails on its own. The byte cap is shared by the batch. */
  async readMultipleFiles(
    inputs: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ files: { path: string; content?: string; truncated?: boolean; error?: string }[] }> {
    let left = this.limits.maxReadBytes;
    const files: { path: string; content?: string; truncated?: boolean; error?: string }[] = [];
    for (const input of inputs) {
      signal?.throwIfAborted();
      try {
        if (left <= 0) {
          files.push({ path: input, content: '', truncated: true });
          continue;
        }
        const resolved = await this.io.resolve(input);
        const slice = await this.readText(resolved, { from: 1 }, left, signal);
        left -= Buffer.byteLength(slice.content);
        files.push({ path: input, content: slice.content, truncated: slice.truncated });
      } catch (error) {
        if (!(error instanceof FsError)) throw error;
        files.push({ path: input, error: error.message });
      }
    }
    return { files };
  }

  async readMediaFile(input: string): Promise<{ path: string; mime_type: string; size: number; data: string }> {
    const resolved = await this.io.resolve(input);
    const type = mime.lookup(resolved.real);
    if (type === false || !(type.startsWith('image/') || type.startsWith('audio/'))) {
      throw new FsError(
        'INVALID_INPUT',
        `${quote(input)} is not an image or audio file${type === false ? '' : ` (${type})`}; use read_file for text`,
      );
    }
    const { handle, stats } = await this.io.openRead(resolved);
    try {
      this.checkSize(input, stats.size);
      const data = await handle.readFile();
      this.checkSize(input, data.length);
      return { path: resolved.display, mime_type: type, size: data.length, data: data.toString('base64') };
    } finally {
      await handle.close();
    }
  }

  async searchFiles(
    input: string,
    pattern: string,
    exclude?: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ path: string; matches: { path: string; type: EntryType }[]; truncated: boolean }> {
    const [matcher] = globs([pattern]) as [Minimatch];
    const matchers = globs(exclude);
    const resolved = await this.io.resolve(input);
    const dir = await this.io.openDirectory(resolved);
    const budget = { left: MAX_WALK_ENTRIES };
    const matches: { path: string; type: EntryType }[] = [];
    let truncated = false;
    try {
      const walk = this.walk(dir, input, { maxDepth: Infinity, exclude: matchers, signal, budget });
      for await (const entry of walk) {
        if (!matcher.match(entry.relative)) continue;
        if (matches.length >= MAX_SEARCH_RESULTS) {
          truncated = true;
          break;
        }
        matches.push({ path: path.join(resolved.display, entry.relative), type: entry.type });
      }
    } finally {
      await dir.close();
    }
    return { path: resolved.display, matches, truncated: truncated || budget.left <= 0 };
  }

  async grepFiles(
    input: string,
    regex: string,
    options: { glob?: string; contextLines?: number; maxMatches?: number } = {},
    signal?: AbortSignal,
  ): Promise<{
    path: string;
    matches: GrepMatch[];
    files_searched: number;
    files_skipped: number;
    truncated: boolean;
  }> {
    checkRegex(regex);
    const filter = options.glob === undefined ? undefined : (globs([options.glob])[0] as Minimatch);
    const maxMatches = options.maxMatches ?? 100;
    const contextLines = options.contextLines ?? 0;
    const resolved = await this.io.resolve(input);
    const matches: GrepMatch[] = [];
    let searched = 0;
    let skipped = 0;
    let truncated = false;
    const worker = new RegexWorker(this.grepBudgetMs);
    const searchOne = async (handle: Awaited<ReturnType<SafeIo['openRead']>>, display: string) => {
      try {
        if (handle.stats.size > this.limits.maxFileBytes) {
          skipped += 1;
          return;
        }
        const bytes = await handle.handle.readFile();
        if (looksBinary(bytes)) {
          skipped += 1;
          return;
        }
        searched += 1;
        const hits = await worker.match(
          {
            text: bytes.toString('utf8'),
            source: regex,
            contextLines,
            maxHits: maxMatches - matches.length + 1,
            maxLineChars: GREP_LINE_CHARS,
          },
          quote(display),
          signal,
        );
        for (const hit of hits) {
          if (matches.length >= maxMatches) {
            truncated = true;
            break;
          }
          matches.push({ path: display, ...hit });
        }
      } finally {
        await handle.handle.close();
      }
    };
    try {
      const info = resolved.exists ? await this.io.lstatEntry(resolved) : undefined;
      if (info?.isFile()) {
        await searchOne(await this.io.openRead(resolved), resolved.display);
      } else {
        const dir = await this.io.openDirectory(resolved);
        const budget = { left: MAX_WALK_ENTRIES };
        try {
          const walk = this.walk(dir, input, { maxDepth: Infinity, exclude: [], signal, budget });
          for await (const entry of walk) {
            if (entry.type !== 'file' || (filter && !filter.match(entry.relative))) continue;
            if (truncated) break;
            let opened;
            try {
              opened = await this.io.openFileIn(entry.parent, entry.name, input);
            } catch (error) {
              if (error instanceof FsError && error.code !== 'CONFLICT') {
                skipped += 1;
                continue;
              }
              throw error;
            }
            await searchOne(opened, path.join(resolved.display, entry.relative));
          }
          if (budget.left <= 0) truncated = true;
        } finally {
          await dir.close();
        }
      }
    } finally {
      await worker.close();
    }
    return { path: resolved.display, matches, files_searched: searched, files_skipped: skipped, truncated };
  }

  async writeFile(input: string, content: string): Promise<{ path: string; bytes_written: number; created: boolean }> {
    const bytes = Buffer.byteLength(content, 'utf8');
    this.checkSize(input, bytes);
    const resolved = await this.io.resolve(input);
    this.guard.assertWritable(resolved);
    const { created } = await this.io.writeAtomic(resolved, content);
    return { path: resolved.display, bytes_written: bytes, created };
  }

  async editFile(
    input: string,
    edits: readonly Edit[],
    dryRun = false,
  ): Promise<{ path: string; diff: string; applied: boolean; edits: number }> {
    if (edits.length === 0) throw new FsError('INVALID_INPUT', 'edits must not be empty');
    const resolved = await this.io.resolve(input);
    this.guard.assertWritable(resolved);
    const { handle, stats } = await this.io.openRead(resolved);
    let original: string;
    try {
      this.checkSize(input, stats.size);
      const bytes = await handle.readFile();
      if (looksBinary(bytes)) throw new FsError('INVALID_INPUT', `${quote(input)} looks like a binary file`);
      original = bytes.toString('utf8');
      if (!Buffer.from(original, 'utf8').equals(bytes)) {
        throw new FsError('INVALID_INPUT', `${quote(input)} is not valid UTF-8; editing it would corrupt it`);
      }
    } finally {
      await handle.close();
    }
    const updated = applyEdits(original, edits, quote(input));
    this.checkSize(input, Buffer.byteLength(updated, 'utf8'));
    const diff = createTwoFilesPatch(resolved.display, resolved.display, original, updated, 'original', 'modified');
    const apply = !dryRun && updated !== original;
    if (apply) await this.io.writeAtomic(resolved, updated, { expect: stats });
    return { path: resolved.display, diff, applied: apply, edits: edits.length };
  }

  async createDirectory(input: string): Promise<{ path: string; created: boolean }> {
    const resolved = await this.io.resolve(input);
    const created = await this.io.makeDirectory(resolved);
    return { path: resolved.display, created };
  }

  async moveFile(sourceInput: string, destinationInput: string): Promise<{ source: string; destination: string }> {
    const source = await this.io.resolve(sourceInput, false);
    const destination = await this.io.resolve(destinationInput, false);
    if (!source.exists) throw new FsError('NOT_FOUND', `Not found: ${quote(sourceInput)}`);
    const outcome = await this.io.move(source, destination);
    if (outcome === 'cross-device') {
      const info = await this.io.lstatEntry(source);
      if (!info.isFile()) {
        throw new FsError(
          'INVALID_INPUT',
          `Cannot move ${quote(sourceInput)} to another file system: only regular files can be (copy its contents instead)`,
        );
      }
      await this.copyInto(source, destination);
      await this.io.remove(source, false);
    }
    return { source: source.display, destination: destination.display };
  }

  async copyFile(
    sourceInput: string,
    destinationInput: string,
  ): Promise<{ source: string; destination: string; bytes: number }> {
    const source = await this.io.resolve(sourceInput);
    const destination = await this.io.resolve(destinationInput, false);
    this.guard.assertWritable(destination);
    if (source.exists && (await this.io.lstatEntry(source)).isDirectory()) {
      throw new FsError('INVALID_INPUT', `${quote(sourceInput)} is a directory; copy_file copies files`);
    }
    const bytes = await this.copyInto(source, destination);
    return { source: source.display, destination: destination.display, bytes };
  }

  private async copyInto(source: ResolvedPath, destination: ResolvedPath): Promise<number> {
    const { handle, stats } = await this.io.openRead(source);
    let data: Buffer;
    try {
      this.checkSize(source.input, stats.size);
      data = await handle.readFile();
      this.checkSize(source.input, data.length);
    } finally {
      await handle.close();
    }
    await this.io.writeAtomic(destination, data, { exclusive: true, mode: stats.mode & 0o777 });
    return data.length;
  }

  async deletePath(
    input: string,
    recursive = false,
    signal?: AbortSignal,
  ): Promise<{ path: string; type: EntryType; removed: number }> {
    const resolved = await this.io.resolve(input, false);
    if (!resolved.exists) throw new FsError('NOT_FOUND', `Not found: ${quote(input)}`);
    const { type, removed } = await this.io.remove(resolved, recursive, signal);
    return { path: resolved.display, type, removed };
  }

  private checkSize(input: string, size: number): void {
    if (size > this.limits.maxFileBytes) {
      throw new FsError(
        'PAYLOAD_TOO_LARGE',
        `${quote(input)} is ${size} bytes, over the ${this.limits.maxFileBytes}-byte limit (FS_MAX_FILE_BYTES)`,
      );
    }
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Turns read_file's options into one selection, refusing combinations that contradict each other. */
export function selectionOf(options: { offset?: number; limit?: number; head?: number; tail?: number }): LineSelection {
  const { offset, limit, head, tail } = options;
  if (head !== undefined && tail !== undefined) throw new FsError('INVALID_INPUT', 'Use head or tail, not both');
  if ((head !== undefined || tail !== undefined) && (offset !== undefined || limit !== undefined)) {
    throw new FsError('INVALID_INPUT', 'head and tail cannot be combined with offset or limit');
  }
  if (tail !== undefined) return { tail };
  if (head !== undefined) return { from: 1, limit: head };
  return limit === undefined ? { from: offset ?? 1 } : { from: offset ?? 1, limit };
}

/**
 * Applies edits in order; each old_text must match exactly once in the text as it stands. A file
 * with CRLF line ends also accepts edits written with LF. Throws FsError naming the failing edit.
 */
export function applyEdits(original: string, edits: readonly Edit[], label: string): string {
  let text = original;
  edits.forEach((edit, index) => {
    const name = `edits[${index}]`;
    if (edit.old_text.length === 0) throw new FsError('INVALID_INPUT', `${name}.old_text must not be empty`);
    let oldText = edit.old_text;
    let newText = edit.new_text;
    let found = occurrences(text, oldText);
    if (found.length === 0 && text.includes('\r\n') && !oldText.includes('\r\n') && oldText.includes('\n')) {
      oldText = oldText.replaceAll('\n', '\r\n');
      newText = newText.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n');
      found = occurrences(text, oldText);
    }
    if (found.length === 0) {
      throw new FsError(
        'INVALID_INPUT',
        `${name}.old_text was not found in ${label} (it must match exactly, whitespace included); nothing was written`,
      );
    }
    if (found.length > 1) {
      throw new FsError(
        'INVALID_INPUT',
        `${name}.old_text matches more than one place in ${label}; include more surrounding text so that it matches exactly once; nothing was written`,
      );
    }
    const at = found[0] as number;
    text = text.slice(0, at) + newText + text.slice(at + oldText.length);
  });
  return text;
}
