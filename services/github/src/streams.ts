import { cutText } from './text.js';

/**
 * Bounded readers for the answers that are not JSON (a pull request's diff, a job's log, a raw
 * file): each reads only as far as its answer needs and never holds more than its limits, then
 * cancels the rest of the stream.
 */
export type ByteStream = ReadableStream<Uint8Array>;

/** Lines of a stream (UTF-8, `\n` or `\r\n`), read until `onLine` returns false or `maxBytes` are read. */
async function eachLine(
  stream: ByteStream,
  maxBytes: number,
  maxLineChars: number,
  onLine: (line: string, cut: boolean) => boolean,
): Promise<{ bytes: number; complete: boolean; stopped: boolean }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  let pending = '';
  let pendingCut = false;
  const emit = (line: string, cut: boolean) => onLine(line.endsWith('\r') ? line.slice(0, -1) : line, cut);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        pending += decoder.decode();
        if (pending.length > 0 || pendingCut) emit(pending, pendingCut);
        return { bytes, complete: true, stopped: false };
      }
      let chunk = value;
      let over = false;
      if (bytes + chunk.byteLength > maxBytes) {
        chunk = chunk.subarray(0, maxBytes - bytes);
        over = true;
      }
      bytes += chunk.byteLength;
      const text = decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
        const line = pending + text.slice(start, newline);
        start = newline + 1;
        const cut = pendingCut || line.length > maxLineChars;
        pending = '';
        pendingCut = false;
        if (!emit(cut ? cutText(line, maxLineChars) : line, cut)) return { bytes, complete: false, stopped: true };
      }
      // A line longer than the limit keeps only its head while the rest streams past.
      pending += text.slice(start);
      if (pending.length > maxLineChars) {
        pending = cutText(pending, maxLineChars);
        pendingCut = true;
      }
      if (over) {
        if (pending.length > 0) emit(pending, pendingCut);
        return { bytes, complete: false, stopped: false };
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** One file's section of a unified diff. */
export interface DiffFile {
  filename: string;
  diff: string;
  truncated: boolean;
}

/** `diff --git a/src/x.ts b/src/x.ts` → `src/x.ts` (the new name; renames differ from the old). */
export function diffFilename(header: string): string {
  const rest = header.slice('diff --git '.length);
  const quoted = /^"a\/(?:[^"\\]|\\.)*" "b\/((?:[^"\\]|\\.)*)"$/.exec(rest);
  if (quoted) return quoted[1] ?? rest;
  // Unquoted, the two names are equal unless renamed; split in the middle when they are equal.
  if (rest.startsWith('a/') && rest.length % 2 === 1) {
    const half = (rest.length - 1) / 2;
    const left = rest.slice(2, half);
    if (rest.slice(half) === ` b/${left}`) return left;
  }
  const b = rest.lastIndexOf(' b/');
  return b === -1 ? rest : rest.slice(b + 3);
}

/**
 * Page `page` (1-based) of a unified diff, `perPage` files to a page: the sections of those files,
 * each cut at `maxFileChars`. Reading stops at the first section after the page (so there are more)
 * or at `maxBytes`.
 */
export async function readDiffPage(
  stream: ByteStream,
  options: { page: number; perPage: number; maxFileChars: number; maxBytes: number },
): Promise<{ files: DiffFile[]; has_more: boolean; complete: boolean }> {
  const first = (options.page - 1) * options.perPage;
  const end = first + options.perPage;
  const files: DiffFile[] = [];
  let index = -1;
  let current: DiffFile | undefined;
  let hasMore = false;
  const { complete } = await eachLine(stream, options.maxBytes, options.maxFileChars, (line, cut) => {
    if (line.startsWith('diff --git ')) {
      index += 1;
      if (index >= end) {
        hasMore = true;
        return false;
      }
      current = index >= first ? { filename: diffFilename(line), diff: '', truncated: false } : undefined;
      if (current) files.push(current);
    }
    if (current && !current.truncated) {
      const next = current.diff.length === 0 ? line : `${current.diff}\n${line}`;
      if (next.length > options.maxFileChars || cut) {
        current.diff = cutText(next, options.maxFileChars);
        current.truncated = true;
      } else {
        current.diff = next;
      }
    }
    return true;
  });
  return { files, has_more: hasMore, complete: complete || hasMore };
}

/**
 * The last `lines` lines of a stream (a job log), each cut at `maxLineChars`. Only those lines are
 * kept while reading; reading stops at `maxBytes` (then the tail is that of the part read).
 */
export async function readTail(
  stream: ByteStream,
  options: { lines: number; maxLineChars: number; maxBytes: number },
): Promise<{ lines: string[]; total_lines: number; bytes: number; complete: boolean; lines_cut: boolean }> {
  const ring: string[] = new Array<string>(options.lines);
  const cutFlags: boolean[] = new Array<boolean>(options.lines);
  let total = 0;
  const { bytes, complete } = await eachLine(stream, options.maxBytes, options.maxLineChars, (line, cut) => {
    ring[total % options.lines] = line;
    cutFlags[total % options.lines] = cut;
    total += 1;
    return true;
  });
  const kept = Math.min(total, options.lines);
  const lines: string[] = [];
  let linesCut = false;
  for (let i = total - kept; i < total; i++) {
    lines.push(ring[i % options.lines] ?? '');
    linesCut ||= cutFlags[i % options.lines] === true;
  }
  return { lines, total_lines: total, bytes, complete, lines_cut: linesCut };
}

/** The first `maxBytes` bytes of a stream, and whether that was all of it. */
export async function readPrefix(stream: ByteStream, maxBytes: number): Promise<{ bytes: Buffer; complete: boolean }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks), complete: true };
      if (total + value.byteLength > maxBytes) {
        chunks.push(value.subarray(0, maxBytes - total));
        return { bytes: Buffer.concat(chunks), complete: false };
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
