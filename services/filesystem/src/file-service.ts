/**
 * What each tool does, on top of the guard and the pinned I/O. No MCP imports: the tools are thin
 * wrappers that translate FsError into ServiceError.
 */
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

import { createTimeSlice, type TimeSlice } from '@mcp-sse/core';
import { formatPatch, type StructuredPatch, structuredPatch } from 'diff';
import mime from 'mime-types';

import { GlobSet } from './glob.js';
import { checkRegex, GREP_MAX_LINE_CHARS, type GrepHit, RegexWorker } from './grep.js';
import { type AllowedRoot, FsError, PathGuard, type ResolvedPath, type RootSpec } from './path-guard.js';
import {
  ByteBudget,
  bytesReason,
  cutToJsonBytes,
  ENVELOPE_BYTES,
  jsonBytes,
  jsonStringBytes,
} from './result-budget.js';
import { type EntryType, entryType, hardLinkRefusal, type PinnedDir, SafeIo, type SafeIoHooks } from './safe-io.js';
import { chunksOf, type LineSelection, looksBinary, readLines, type TextSlice } from './text-read.js';

export interface Limits {
  /** Largest file read whole or written (write, edit, copy, media, grep). */
  maxFileBytes: number;
  /** Most text one read returns (read_file; the whole batch for read_multiple_files). */
  maxReadBytes: number;
  /** Most bytes of JSON one answer may weigh (MCP_MAX_RESULT_BYTES). Default 4 MiB. */
  maxResultBytes?: number;
  /** Longest a recursive walk (tree, search, grep) may run before it stops with truncated. Default 20 s. */
  walkTimeMs?: number;
}

export const MAX_LIST_ENTRIES = 10_000;
export const MAX_TREE_ENTRIES = 10_000;
export const MAX_SEARCH_RESULTS = 1_000;
/** Directory entries a call may read (a listing, or a whole walk) before it stops with `truncated`. */
export const MAX_WALK_ENTRIES = 200_000;
/** Walks do not enter directories deeper than this (each level holds one open descriptor). */
export const MAX_WALK_DEPTH = 64;
export const GREP_LINE_CHARS = 500;
export const GREP_FILE_BUDGET_MS = 2_000;
/** Most file bytes one grep_files call reads, all files together. */
export const GREP_MAX_BYTES = 512 * 1024 * 1024;
/** Files are read (and sent to the regex worker) in pieces of this size. */
const GREP_CHUNK_BYTES = 256 * 1024;
const DEFAULT_RESULT_BYTES = 4 * 1024 * 1024;
const DEFAULT_WALK_MS = 20_000;

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
  /** Clock for the walk time limit (tests). */
  now?: () => number;
  /** Directory entries a call may read (tests lower it; default MAX_WALK_ENTRIES). */
  maxWalkEntries?: number;
}

/** Why an answer is partial, in words the model can act on. */
export interface Truncation {
  truncated: boolean;
  truncated_reason?: string;
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

/** A directory entry as a walk keeps it: small, unlike a Dirent. */
interface Listed {
  name: string;
  type: EntryType;
}

/**
 * The cost of one walk: entries read, time, and the reason it stopped (the first one wins). Work
 * happens in slices of a few milliseconds, with the event loop served in between.
 */
class WalkBudget {
  entries = 0;
  reason: string | undefined;
  /** Set when the walk must end (a limit that leaves nothing more to do); depth only notes. */
  stopped = false;
  readonly slice: TimeSlice;
  private readonly deadline: number;

  constructor(
    readonly timeMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {
    this.deadline = now() + timeMs;
    this.slice = createTimeSlice(4, now);
  }

  stop(reason: string): void {
    this.reason ??= reason;
    this.stopped = true;
  }

  note(reason: string): void {
    this.reason ??= reason;
  }

  /** Counts one entry read; false (and stopped) once over the limits. */
  count(): boolean {
    if (this.stopped) return false;
    if (this.entries >= this.maxEntries) {
      this.stop(
        `stopped after reading ${this.maxEntries} directory entries (the walk limit); narrow the path or the pattern`,
      );
      return false;
    }
    if (this.now() > this.deadline) {
      this.stop(`stopped after ${this.timeMs} ms (the walk time limit); narrow the path or the pattern`);
      return false;
    }
    this.entries += 1;
    return true;
  }

  truncation(extra?: string): Truncation {
    const reason = this.reason ?? extra;
    return reason === undefined ? { truncated: false } : { truncated: true, truncated_reason: reason };
  }
}

export interface GrepMatch extends GrepHit {
  path: string;
}

export interface Edit {
  old_text: string;
  new_text: string;
}

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
    private readonly now: () => number,
    private readonly maxWalkEntries: number,
  ) {}

  static async create(specs: readonly RootSpec[], options: FileServiceOptions): Promise<FileService> {
    const guard = await PathGuard.create(specs, { createMissing: options.createMissing ?? false });
    const io = await SafeIo.open(guard, {
      procFd: options.procFd,
      hooks: options.hooks,
      allowHardlinks: options.allowHardlinks,
    });
    return new FileService(
      guard,
      io,
      options.limits,
      options.grepBudgetMs ?? GREP_FILE_BUDGET_MS,
      options.now ?? (() => performance.now()),
      options.maxWalkEntries ?? MAX_WALK_ENTRIES,
    );
  }

  async close(): Promise<void> {
    await this.io.close();
  }

  /** Bytes an answer may weigh (MCP_MAX_RESULT_BYTES). */
  private get resultBytes(): number {
    return this.limits.maxResultBytes ?? DEFAULT_RESULT_BYTES;
  }

  /** A budget for the variable part of an answer whose fixed part is `envelope`. */
  private answerBudget(envelope: unknown): ByteBudget {
    return new ByteBudget(this.resultBytes - jsonBytes(envelope) - ENVELOPE_BYTES);
  }

  private walkBudget(): WalkBudget {
    return new WalkBudget(this.limits.walkTimeMs ?? DEFAULT_WALK_MS, this.maxWalkEntries, this.now);
  }

  listAllowedDirectories(): { directories: { path: string; mode: AllowedRoot['mode'] }[] } {
    return { directories: this.guard.roots.map((root) => ({ path: root.path, mode: root.mode })) };
  }

  /**
   * Reads a pinned directory incrementally (never the whole of a huge one at once), counting each
   * entry against the walk budget, yielding to the event loop between slices. Stops when the budget
   * does; `keep` decides what is kept (a listing keeps only the first names in order).
   */
  private async readEntries(
    dir: PinnedDir,
    input: string,
    budget: WalkBudget,
    signal: AbortSignal | undefined,
    keep: (entry: Listed) => void,
  ): Promise<void> {
    let handle;
    try {
      handle = await this.io.openListing(dir, input);
    } catch (error) {
      throw error instanceof FsError ? error : new FsError('NOT_FOUND', `Not found: ${quote(input)}`);
    }
    try {
      for (;;) {
        signal?.throwIfAborted();
        const dirent = await handle.read();
        if (dirent === null) return;
        if (!budget.count()) return;
        keep({ name: dirent.name, type: entryType(dirent) });
        await budget.slice.maybeYield();
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /** Every entry of a directory (up to the walk budget), sorted by name. */
  private async listSorted(dir: PinnedDir, input: string, budget: WalkBudget, signal?: AbortSignal) {
    const entries: Listed[] = [];
    await this.readEntries(dir, input, budget, signal, (entry) => entries.push(entry));
    return entries.sort((a, b) => compareNames(a.name, b.name));
  }

  async listDirectory(
    input: string,
    options: { sizes?: boolean; sortBy?: 'name' | 'size' } = {},
    signal?: AbortSignal,
  ): Promise<{ path: string; entries: ListEntry[]; total_size?: number } & Truncation> {
    const resolved = await this.io.resolve(input);
    const dir = await this.io.openDirectory(resolved);
    try {
      const budget = this.walkBudget();
      // Only the first MAX_LIST_ENTRIES names are kept, so memory stays small whatever the size of
      // the directory: the kept set is trimmed whenever it doubles.
      let kept: Listed[] = [];
      let more = false;
      await this.readEntries(dir, input, budget, signal, (entry) => {
        kept.push(entry);
        if (kept.length >= 2 * MAX_LIST_ENTRIES) {
          kept = kept.sort((a, b) => compareNames(a.name, b.name)).slice(0, MAX_LIST_ENTRIES);
          more = true;
        }
      });
      kept.sort((a, b) => compareNames(a.name, b.name));
      if (kept.length > MAX_LIST_ENTRIES) {
        kept = kept.slice(0, MAX_LIST_ENTRIES);
        more = true;
      }
      const withSizes = options.sizes === true || options.sortBy === 'size';
      const entries: ListEntry[] = [];
      let total = 0;
      for (const listed of kept) {
        const entry: ListEntry = { name: listed.name, type: listed.type };
        if (withSizes && entry.type === 'file') {
          const info = await this.io.lstatIn(dir, listed.name, input).catch(() => undefined);
          // The size of a multiply-linked file is the size of a file that may be outside: not shown.
          const hidden = info !== undefined && !this.io.allowHardlinks && hardLinkRefusal(listed.name, info);
          if (!hidden) {
            entry.size = info?.size ?? 0;
            total += entry.size;
          }
          await budget.slice.maybeYield();
        }
        entries.push(entry);
      }
      if (options.sortBy === 'size') entries.sort((a, b) => (b.size ?? -1) - (a.size ?? -1));
      // Cut to the answer's byte budget after sorting, so what is returned is the head of the order.
      const bytes = this.answerBudget({ path: resolved.display, entries: [], total_size: total });
      let fit = entries.length;
      for (let index = 0; index < entries.length; index += 1) {
        if (!bytes.take(jsonBytes(entries[index]) + 1)) {
          fit = index;
          break;
        }
      }
      const cut = fit < entries.length;
      const reason = cut
        ? bytesReason(this.resultBytes)
        : more
          ? `the directory has more than ${MAX_LIST_ENTRIES} entries; these are the first ${MAX_LIST_ENTRIES} by name`
          : undefined;
      const result: { path: string; entries: ListEntry[]; total_size?: number } & Truncation = {
        path: resolved.display,
        entries: cut ? entries.slice(0, fit) : entries,
        ...budget.truncation(reason),
      };
      if (withSizes) result.total_size = total;
      return result;
    } finally {
      await dir.close();
    }
  }

  /**
   * Depth-first, names sorted, symlinks listed but never followed; each directory is opened through
   * its pinned parent. Excluded entries are neither yielded nor descended into. Iterative (one frame
   * per open directory, at most MAX_WALK_DEPTH), bounded by the walk budget, and it yields to the
   * event loop every few milliseconds.
   */
  private async *walk(
    start: PinnedDir,
    input: string,
    options: { maxDepth: number; exclude: GlobSet; signal?: AbortSignal; budget: WalkBudget },
  ): AsyncGenerator<WalkEntry> {
    const { budget, signal, exclude } = options;
    interface Frame {
      dir: PinnedDir;
      entries: Listed[];
      index: number;
      prefix: string;
      depth: number;
    }
    const stack: Frame[] = [
      { dir: start, entries: await this.listSorted(start, input, budget, signal), index: 0, prefix: '', depth: 1 },
    ];
    try {
      while (stack.length > 0) {
        const frame = stack[stack.length - 1] as Frame;
        const listed = frame.entries[frame.index];
        if (listed === undefined) {
          stack.pop();
          if (frame.dir !== start) await frame.dir.close();
          continue;
        }
        frame.index += 1;
        signal?.throwIfAborted();
        await budget.slice.maybeYield();
        const relative = frame.prefix === '' ? listed.name : `${frame.prefix}/${listed.name}`;
        if (!exclude.empty && exclude.matchesAny(relative)) continue;
        yield { relative, name: listed.name, type: listed.type, parent: frame.dir, depth: frame.depth };
        if (listed.type !== 'directory' || frame.depth >= options.maxDepth || budget.stopped) continue;
        if (frame.depth >= MAX_WALK_DEPTH) {
          budget.note(`directories deeper than ${MAX_WALK_DEPTH} levels were not entered`);
          continue;
        }
        let child: PinnedDir;
        try {
          child = await this.io.openSubdir(frame.dir, listed.name, input);
        } catch (error) {
          // Gone or unreadable since the listing: skip it, as find(1) would.
          if (error instanceof FsError && error.code !== 'CONFLICT') continue;
          throw error;
        }
        let entries: Listed[];
        try {
          entries = await this.listSorted(child, input, budget, signal);
        } catch (error) {
          await child.close();
          if (error instanceof FsError && error.code !== 'CONFLICT') continue;
          throw error;
        }
        stack.push({ dir: child, entries, index: 0, prefix: relative, depth: frame.depth + 1 });
      }
    } finally {
      for (const frame of stack) if (frame.dir !== start) await frame.dir.close();
    }
  }

  async directoryTree(
    input: string,
    maxDepth: number,
    exclude?: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ path: string; tree: TreeNode } & Truncation> {
    const excluded = GlobSet.compile(exclude);
    const resolved = await this.io.resolve(input);
    const dir = await this.io.openDirectory(resolved);
    const tree: TreeNode = {
      name: path.basename(resolved.display) || resolved.display,
      type: 'directory',
      children: [],
    };
    const nodes = new Map<string, TreeNode>([['', tree]]);
    const budget = this.walkBudget();
    const bytes = this.answerBudget({ path: resolved.display, tree });
    let count = 0;
    let stop: string | undefined;
    try {
      for await (const entry of this.walk(dir, input, { maxDepth, exclude: excluded, signal, budget })) {
        if (count >= MAX_TREE_ENTRIES) {
          stop = `stopped at ${MAX_TREE_ENTRIES} entries (the tree limit); lower max_depth or exclude more`;
          break;
        }
        const node: TreeNode = { name: entry.name, type: entry.type };
        if (entry.type === 'directory') node.children = [];
        if (!bytes.take(jsonBytes(node) + 1)) {
          stop = bytesReason(this.resultBytes);
          break;
        }
        count += 1;
        const parentKey = entry.relative.includes('/') ? entry.relative.slice(0, entry.relative.lastIndexOf('/')) : '';
        nodes.get(parentKey)?.children?.push(node);
        if (entry.type === 'directory') nodes.set(entry.relative, node);
      }
    } finally {
      await dir.close();
    }
    return { path: resolved.display, tree, ...budget.truncation(stop) };
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
    const room = this.answerBudget({ path: resolved.display }).left;
    const slice = await this.readText(resolved, selection, this.limits.maxReadBytes, room, signal);
    return { path: resolved.display, ...slice };
  }

  private async readText(
    resolved: ResolvedPath,
    selection: LineSelection,
    maxBytes: number,
    maxJson: number,
    signal?: AbortSignal,
  ): Promise<TextSlice> {
    const { handle, stats } = await this.io.openRead(resolved);
    try {
      const read = async (buffer: Buffer, position: number) =>
        (await handle.read(buffer, 0, buffer.length, position)).bytesRead;
      // Sized to the file (one read for small ones), at most 64 KiB a chunk.
      const chunkSize = Math.min(Math.max(stats.size + 1, 512), 64 * 1024);
      const slice = createTimeSlice();
      const chunks = async function* () {
        for await (const chunk of chunksOf(read, signal, chunkSize)) {
          yield chunk;
          await slice.maybeYield();
        }
      };
      // Both caps bound what is kept: the text itself, and the JSON it becomes in the answer.
      const cap = Math.min(maxBytes, maxJson);
      return await readLines(chunks(), selection, cap, quote(resolved.input), maxJson);
    } finally {
      await handle.close();
    }
  }

  /** Reads several files; each succeeds or fails on its own. The byte caps are shared by the batch. */
  async readMultipleFiles(
    inputs: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ files: { path: string; content?: string; truncated?: boolean; error?: string }[] }> {
    let left = this.limits.maxReadBytes;
    // Every path gets its entry whatever happens to the others: room for each entry (and an error
    // message, which quotes the path) is set aside first, and the contents share the rest.
    const reserve = (input: string) => 2 * jsonBytes(input) + 320;
    const bytes = this.answerBudget({ files: [] });
    bytes.take(inputs.reduce((sum, input) => sum + reserve(input), 0));
    const files: { path: string; content?: string; truncated?: boolean; error?: string }[] = [];
    for (const input of inputs) {
      signal?.throwIfAborted();
      try {
        if (left <= 0 || bytes.left <= 0) {
          files.push({ path: input, content: '', truncated: true });
          continue;
        }
        const resolved = await this.io.resolve(input);
        const slice = await this.readText(resolved, { from: 1 }, left, bytes.left, signal);
        left -= Buffer.byteLength(slice.content);
        bytes.take(jsonStringBytes(slice.content) - 2);
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
      // The answer carries the file as base64 (4 bytes per 3) beside a small JSON block.
      const room = this.answerBudget({ path: resolved.display, mime_type: type, size: stats.size }).left;
      const maxBytes = Math.floor(room / 4) * 3;
      const tooLarge = (size: number) =>
        new FsError(
          'PAYLOAD_TOO_LARGE',
          `${quote(input)} is ${size} bytes; as base64 (${4 * Math.ceil(size / 3)} bytes) it would not fit in an ` +
            `answer (MCP_MAX_RESULT_BYTES, ${this.resultBytes} bytes), so it is not sent`,
        );
      if (stats.size > maxBytes) throw tooLarge(stats.size);
      const data = await readBounded(handle, Math.min(maxBytes, this.limits.maxFileBytes));
      if (data === undefined) throw tooLarge(stats.size + 1);
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
  ): Promise<{ path: string; matches: { path: string; type: EntryType }[] } & Truncation> {
    const matcher = GlobSet.compile([pattern]);
    const excluded = GlobSet.compile(exclude);
    const resolved = await this.io.resolve(input);
    const dir = await this.io.openDirectory(resolved);
    const budget = this.walkBudget();
    const bytes = this.answerBudget({ path: resolved.display, matches: [] });
    const matches: { path: string; type: EntryType }[] = [];
    let stop: string | undefined;
    try {
      const walk = this.walk(dir, input, { maxDepth: Infinity, exclude: excluded, signal, budget });
      for await (const entry of walk) {
        if (!matcher.matchesAny(entry.relative)) continue;
        if (matches.length >= MAX_SEARCH_RESULTS) {
          stop = `stopped at ${MAX_SEARCH_RESULTS} results; narrow the pattern`;
          break;
        }
        const match = { path: path.join(resolved.display, entry.relative), type: entry.type };
        if (!bytes.take(jsonBytes(match) + 1)) {
          stop = bytesReason(this.resultBytes);
          break;
        }
        matches.push(match);
      }
    } finally {
      await dir.close();
    }
    return { path: resolved.display, matches, ...budget.truncation(stop) };
  }

  async grepFiles(
    input: string,
    regex: string,
    options: { glob?: string; contextLines?: number; maxMatches?: number } = {},
    signal?: AbortSignal,
  ): Promise<
    {
      path: string;
      matches: GrepMatch[];
      files_searched: number;
      files_skipped: number;
    } & Truncation
  > {
    checkRegex(regex);
    const filter = options.glob === undefined ? undefined : GlobSet.compile([options.glob]);
    const maxMatches = options.maxMatches ?? 100;
    const contextLines = options.contextLines ?? 0;
    const resolved = await this.io.resolve(input);
    const bytes = this.answerBudget({ path: resolved.display, matches: [], files_searched: 0, files_skipped: 0 });
    const budget = this.walkBudget();
    const matches: GrepMatch[] = [];
    let searched = 0;
    let skipped = 0;
    let readTotal = 0;
    let stop: string | undefined;
    const worker = new RegexWorker(this.grepBudgetMs);
    const searchOne = async ({ handle, stats }: { handle: FileHandle; stats: { size: number } }, display: string) => {
      try {
        if (stats.size > this.limits.maxFileBytes) {
          skipped += 1;
          return;
        }
        if (readTotal + stats.size > GREP_MAX_BYTES) {
          stop = `stopped after reading ${GREP_MAX_BYTES} bytes of files (the grep limit); narrow the path or the glob`;
          return;
        }
        const decoder = new StringDecoder('utf8');
        const buffer = Buffer.allocUnsafe(Math.min(GREP_CHUNK_BYTES, Math.max(stats.size + 1, 512)));
        let position = 0;
        let started = false;
        for (;;) {
          signal?.throwIfAborted();
          const room = this.limits.maxFileBytes - position;
          const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, room + 1), position);
          const chunk = buffer.subarray(0, Math.min(bytesRead, Math.max(room, 0)));
          position += chunk.length;
          readTotal += chunk.length;
          const final = bytesRead === 0 || bytesRead > room;
          if (!started) {
            if (looksBinary(chunk)) {
              skipped += 1;
              return;
            }
            searched += 1;
            started = true;
            await worker.begin(
              {
                source: regex,
                contextLines,
                maxHits: maxMatches - matches.length + 1,
                maxLineChars: GREP_LINE_CHARS,
                maxSearchChars: GREP_MAX_LINE_CHARS,
                // Hits beyond what the answer can still carry would only be dropped here.
                maxHitChars: bytes.left,
              },
              quote(display),
              signal,
            );
          }
          const text = final ? decoder.write(chunk) + decoder.end() : decoder.write(chunk);
          const { done, hits } = await worker.push(text, final, signal);
          if (done || final) {
            for (const hit of hits ?? []) {
              const match = { path: display, ...hit };
              if (matches.length >= maxMatches) {
                stop = `stopped at max_matches (${maxMatches})`;
                break;
              }
              if (!bytes.take(jsonBytes(match) + 1)) {
                stop = bytesReason(this.resultBytes);
                break;
              }
              matches.push(match);
            }
            return;
          }
          await budget.slice.maybeYield();
        }
      } finally {
        await handle.close();
      }
    };
    try {
      const info = resolved.exists ? await this.io.lstatEntry(resolved) : undefined;
      if (info?.isFile()) {
        await searchOne(await this.io.openRead(resolved), resolved.display);
      } else {
        const dir = await this.io.openDirectory(resolved);
        try {
          const walk = this.walk(dir, input, { maxDepth: Infinity, exclude: GlobSet.compile([]), signal, budget });
          for await (const entry of walk) {
            if (entry.type !== 'file' || (filter && !filter.matchesAny(entry.relative))) continue;
            if (stop !== undefined) break;
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
        } finally {
          await dir.close();
        }
      }
    } finally {
      await worker.close();
    }
    return {
      path: resolved.display,
      matches,
      files_searched: searched,
      files_skipped: skipped,
      ...budget.truncation(stop),
    };
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
    signal?: AbortSignal,
  ): Promise<{ path: string; diff: string; applied: boolean; edits: number } & Truncation> {
    if (edits.length === 0) throw new FsError('INVALID_INPUT', 'edits must not be empty');
    const resolved = await this.io.resolve(input);
    this.guard.assertWritable(resolved);
    const { handle, stats } = await this.io.openRead(resolved);
    let original: string;
    try {
      this.checkSize(input, stats.size);
      const bytes = await readBounded(handle, this.limits.maxFileBytes);
      if (bytes === undefined) this.checkSize(input, this.limits.maxFileBytes + 1);
      const data = bytes as Buffer;
      if (looksBinary(data)) throw new FsError('INVALID_INPUT', `${quote(input)} looks like a binary file`);
      original = data.toString('utf8');
      if (!Buffer.from(original, 'utf8').equals(data)) {
        throw new FsError('INVALID_INPUT', `${quote(input)} is not valid UTF-8; editing it would corrupt it`);
      }
    } finally {
      await handle.close();
    }
    const updated = await applyEditsAsync(original, edits, quote(input), signal);
    this.checkSize(input, Buffer.byteLength(updated, 'utf8'));
    const apply = !dryRun && updated !== original;
    if (apply) await this.io.writeAtomic(resolved, updated, { expect: stats });
    const envelope = { path: resolved.display, diff: '', applied: apply, edits: edits.length };
    const { diff, truncation } = await boundedDiff(
      resolved.display,
      original,
      updated,
      this.answerBudget(envelope).left,
      this.resultBytes,
    );
    return { ...envelope, diff, ...truncation };
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

  /** Streams the source into the destination's temp file (never more than a chunk in memory). */
  private async copyInto(source: ResolvedPath, destination: ResolvedPath): Promise<number> {
    const { handle, stats } = await this.io.openRead(source);
    let copied = 0;
    try {
      this.checkSize(source.input, stats.size);
      const buffer = Buffer.allocUnsafe(Math.min(GREP_CHUNK_BYTES, Math.max(stats.size + 1, 512)));
      await this.io.writeAtomic(
        destination,
        async (target) => {
          for (;;) {
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, copied);
            if (bytesRead === 0) return;
            copied += bytesRead;
            this.checkSize(source.input, copied);
            await target.write(buffer, 0, bytesRead);
          }
        },
        { exclusive: true, mode: stats.mode & 0o777 },
      );
    } finally {
      await handle.close();
    }
    return copied;
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

/** Reads a whole file, but never more than `limit` bytes: undefined when it holds more (it may grow). */
async function readBounded(handle: FileHandle, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  const buffer = Buffer.allocUnsafe(Math.min(GREP_CHUNK_BYTES, limit + 1));
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, limit + 1 - total), total);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    total += bytesRead;
    if (total > limit) return undefined;
    chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
  }
}

/** Context lines around each change, as `diff -u`. */
const DIFF_CONTEXT = 4;
/** The diff shows at most this much of the file around the changes (it is informative only). */
const DIFF_MAX_WINDOW_CHARS = 1024 * 1024;
const DIFF_MAX_EDIT_LENGTH = 500;
/** jsdiff's async mode yields to the event loop between its steps; this bounds their total. */
const DIFF_TIMEOUT_MS = 3_000;
const COMPARE_BLOCK = 64 * 1024;

/** Length of the common prefix of two strings, compared a block at a time (native compares). */
function commonPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i + COMPARE_BLOCK <= max && b.startsWith(a.slice(i, i + COMPARE_BLOCK), i)) i += COMPARE_BLOCK;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
  return i;
}

/** Length of the common suffix, not reaching into the first `floor` characters of either. */
function commonSuffix(a: string, b: string, floor: number): number {
  const max = Math.min(a.length, b.length) - floor;
  let n = 0;
  while (n + COMPARE_BLOCK <= max && b.endsWith(a.slice(a.length - n - COMPARE_BLOCK, a.length - n), b.length - n)) {
    n += COMPARE_BLOCK;
  }
  while (n < max && a.charCodeAt(a.length - 1 - n) === b.charCodeAt(b.length - 1 - n)) n += 1;
  return n;
}

function countLines(text: string, end: number): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < end; at = text.indexOf('\n', at + 1)) lines += 1;
  return lines;
}

/**
 * The unified diff of an edit, bounded: only the window around the changes (common lines at both
 * ends left out, as jsdiff would leave them out of its hunks) is diffed, at most
 * DIFF_MAX_WINDOW_CHARS of it, in jsdiff's async mode (one step of the edit search per turn of the
 * event loop) with its limits on edit length and time; the text is cut to the answer's budget. The
 * edit itself never depends on it.
 */
async function boundedDiff(
  name: string,
  original: string,
  updated: string,
  room: number,
  limit: number,
): Promise<{ diff: string; truncation: Truncation }> {
  if (original === updated) return { diff: '', truncation: { truncated: false } };
  const prefix = commonPrefix(original, updated);
  const suffix = commonSuffix(original, updated, prefix);
  let start = original.lastIndexOf('\n', prefix - 1) + 1;
  for (let context = 0; context < DIFF_CONTEXT && start > 0; context += 1) {
    start = original.lastIndexOf('\n', start - 2) + 1;
  }
  // From the end of the change to the end of its line, then DIFF_CONTEXT more lines.
  const lineEnd = (from: number) => {
    const newline = original.indexOf('\n', from);
    return newline === -1 ? original.length : newline + 1;
  };
  let end = original.length - suffix;
  if (end > 0 && original[end - 1] !== '\n') end = lineEnd(end);
  for (let context = 0; context < DIFF_CONTEXT && end < original.length; context += 1) end = lineEnd(end);
  const updatedEnd = updated.length - (original.length - end);
  const omitted = (why: string) => ({ diff: '', truncation: { truncated: true, truncated_reason: why } });
  if (end - start > DIFF_MAX_WINDOW_CHARS || updatedEnd - start > DIFF_MAX_WINDOW_CHARS) {
    return omitted(`the change spans more than ${DIFF_MAX_WINDOW_CHARS} characters; the diff is not shown`);
  }
  const patch = await new Promise<StructuredPatch | undefined>((resolve) => {
    structuredPatch(name, name, original.slice(start, end), updated.slice(start, updatedEnd), 'original', 'modified', {
      context: DIFF_CONTEXT,
      maxEditLength: DIFF_MAX_EDIT_LENGTH,
      timeout: DIFF_TIMEOUT_MS,
      callback: resolve,
    });
  });
  if (patch === undefined) {
    return omitted(
      `the change is too large to show as a diff (over ${DIFF_MAX_EDIT_LENGTH} changed lines, or over ${DIFF_TIMEOUT_MS} ms to compute)`,
    );
  }
  const offset = countLines(original, start);
  for (const hunk of patch.hunks) {
    hunk.oldStart += offset;
    hunk.newStart += offset;
  }
  const diff = formatPatch(patch);
  if (jsonStringBytes(diff) <= room) return { diff, truncation: { truncated: false } };
  return { diff: cutToJsonBytes(diff, room), truncation: { truncated: true, truncated_reason: bytesReason(limit) } };
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

/** Applies one edit (`index` names it in errors) to the text as it stands. */
function applyEdit(text: string, edit: Edit, index: number, label: string): string {
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
  return text.slice(0, at) + newText + text.slice(at + oldText.length);
}

/**
 * Applies edits in order; each old_text must match exactly once in the text as it stands. A file
 * with CRLF line ends also accepts edits written with LF. Throws FsError naming the failing edit.
 */
export function applyEdits(original: string, edits: readonly Edit[], label: string): string {
  return edits.reduce((text, edit, index) => applyEdit(text, edit, index, label), original);
}

/** The same, yielding to the event loop between edits (each is a few passes over a file of up to FS_MAX_FILE_BYTES). */
async function applyEditsAsync(
  original: string,
  edits: readonly Edit[],
  label: string,
  signal?: AbortSignal,
): Promise<string> {
  const slice = createTimeSlice();
  let text = original;
  for (const [index, edit] of edits.entries()) {
    signal?.throwIfAborted();
    text = applyEdit(text, edit, index, label);
    await slice.maybeYield();
  }
  return text;
}
