/**
 * Line-ranged text reading over a stream of chunks, with a byte cap. Streams, so a range near the
 * start of a huge file stops early and memory stays near the cap whatever the file's size.
 */
import { StringDecoder } from 'node:string_decoder';

import { FsError } from './path-guard.js';
import { cutToJsonBytes, jsonStringBytes } from './result-budget.js';

/** `from`: 1-based first line; `limit`: at most that many lines. Or the last `tail` lines. */
export type LineSelection = { from: number; limit?: number } | { tail: number };

export interface TextSlice {
  content: string;
  /** First line returned (1-based). */
  start_line: number;
  /** Last line returned; start_line - 1 when nothing was returned (empty file). */
  end_line: number;
  /** Known when the whole file was read. */
  total_lines?: number;
  /** True when the byte cap cut the selection short. */
  truncated: boolean;
  /** The offset to continue from when more lines follow what was returned. */
  next_offset?: number;
}

/** A NUL byte in the first 8 KiB: the same test git and grep use to call a file binary. */
export function looksBinary(chunk: Uint8Array): boolean {
  return chunk.subarray(0, 8192).includes(0);
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return new StringDecoder('utf8').write(bytes.subarray(0, maxBytes));
}

interface Line {
  text: string;
  bytes: number;
  /** Bytes it adds to the answer's JSON (escapes included, quotes not). */
  json: number;
  /** The stored text was cut because the line is longer than the cap. */
  cut: boolean;
}

/** Cuts a line to both caps, whole characters only. */
function cutLine(text: string, maxBytes: number, maxJson: number): string {
  return cutToJsonBytes(cutToBytes(text, maxBytes), maxJson + 2);
}

/**
 * Reads the selected lines. Lines keep their terminators, so the content is an exact slice of the
 * file. Two caps: `maxBytes` of the file's text, and `maxJson` bytes of the content once written as
 * a JSON string (escapes count: a control character is six). Throws FsError for a binary file or an
 * offset past the end (`label` names the file).
 */
export async function readLines(
  chunks: AsyncIterable<Uint8Array>,
  selection: LineSelection,
  maxBytes: number,
  label: string,
  maxJson: number = Infinity,
): Promise<TextSlice> {
  const decoder = new StringDecoder('utf8');
  const tail = 'tail' in selection ? selection.tail : undefined;
  const from = 'from' in selection ? selection.from : 1;
  const last = 'from' in selection && selection.limit !== undefined ? from + selection.limit - 1 : Infinity;
  // Each line is stored up to this many characters; more cannot fit the caps anyway.
  const keepChars = Math.min(maxBytes, maxJson) + 4;

  let completed = 0; // lines fully read so far
  let current = '';
  let currentCut = false;
  let currentHasData = false;
  const taken: Line[] = [];
  let takenBytes = 0;
  let takenJson = 0;
  const fits = (line: Line) => takenBytes + line.bytes <= maxBytes && takenJson + line.json <= maxJson;
  let truncated = false;
  let stopAt: number | undefined; // line number where the cap stopped a range read
  let done = false; // range satisfied: read on only to learn whether more follows
  let more = false;
  let first = true;

  const wanted = (line: number) => tail !== undefined || (line >= from && line <= last);

  const finish = () => {
    completed += 1;
    const line: Line = {
      text: current,
      bytes: Buffer.byteLength(current),
      json: jsonStringBytes(current) - 2,
      cut: currentCut,
    };
    current = '';
    currentCut = false;
    currentHasData = false;
    if (tail !== undefined) {
      taken.push(line);
      takenBytes += line.bytes;
      takenJson += line.json;
      const drop = () => {
        const dropped = taken.shift() as Line;
        takenBytes -= dropped.bytes;
        takenJson -= dropped.json;
      };
      while (taken.length > tail) drop();
      // Keep memory near the caps; whether this cut the selection is decided at the end.
      while (taken.length > 1 && (takenBytes > maxBytes || takenJson > maxJson)) drop();
      return;
    }
    if (!wanted(completed)) {
      if (completed >= last) done = true;
      return;
    }
    if (!line.cut && fits(line)) {
      taken.push(line);
      takenBytes += line.bytes;
      takenJson += line.json;
    } else if (taken.length === 0) {
      // A single line longer than a cap: return its start rather than nothing.
      taken.push({ text: cutLine(line.text, maxBytes, maxJson), bytes: maxBytes, json: maxJson, cut: true });
      takenBytes = maxBytes;
      takenJson = maxJson;
      truncated = true;
      done = true;
    } else {
      truncated = true;
      stopAt = completed;
      more = true;
      done = true;
    }
    if (completed >= last) done = true;
  };

  const consume = (text: string) => {
    let pos = 0;
    while (pos < text.length) {
      if (done) {
        more = true;
        return;
      }
      const newline = text.indexOf('\n', pos);
      const end = newline === -1 ? text.length : newline + 1;
      currentHasData = true;
      if (wanted(completed + 1) && !currentCut) {
        current += text.slice(pos, end);
        if (current.length > keepChars) {
          current = current.slice(0, keepChars);
          currentCut = true;
        }
      }
      pos = end;
      if (newline !== -1) finish();
    }
  };

  for await (const chunk of chunks) {
    if (first) {
      first = false;
      if (looksBinary(chunk)) {
        throw new FsError(
          'INVALID_INPUT',
          `${label} looks like a binary file; use read_media_file for images and audio`,
        );
      }
    }
    consume(decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    if (done && more) break;
  }
  if (!(done && more)) {
    consume(decoder.end());
    if (currentHasData) finish();
  }
  const atEof = !(done && more);

  if (tail !== undefined) {
    const start = Math.max(1, completed - tail + 1);
    const startLine = completed - taken.length + 1;
    const only = taken.length === 1 ? taken[0] : undefined;
    const cutLast = only !== undefined && (only.bytes > maxBytes || only.json > maxJson || only.cut);
    return {
      content: cutLast ? cutLine(only.text, maxBytes, maxJson) : taken.map((line) => line.text).join(''),
      start_line: startLine,
      end_line: completed,
      total_lines: completed,
      truncated: startLine > start || cutLast,
    };
  }

  if (from > Math.max(completed, 1)) {
    throw new FsError('INVALID_INPUT', `offset ${from} is past the end of ${label} (${completed} lines)`);
  }
  const endLine = from + taken.length - 1;
  const slice: TextSlice = {
    content: taken.map((line) => line.text).join(''),
    start_line: from,
    end_line: endLine,
    truncated,
  };
  if (atEof) slice.total_lines = completed;
  const next = stopAt ?? endLine + 1;
  if (more && !atEof) slice.next_offset = next;
  else if (stopAt !== undefined) slice.next_offset = stopAt;
  return slice;
}

/** Reads a file handle in chunks, checking the abort signal between them. */
export async function* chunksOf(
  read: (buffer: Buffer, position: number) => Promise<number>,
  signal?: AbortSignal,
  chunkSize = 64 * 1024,
): AsyncGenerator<Uint8Array> {
  let position = 0;
  for (;;) {
    signal?.throwIfAborted();
    const buffer = Buffer.allocUnsafe(chunkSize);
    const bytesRead = await read(buffer, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}
