/**
 * Reading a container's logs from the engine: GET /containers/{id}/logs, always with timestamps (to
 * filter, report the window and offer `next_since`), streamed and split into lines as they arrive,
 * filtered by an optional pattern, and stopped, by destroying the connection, as soon as a budget is
 * spent: the read budget (bytes taken from the engine) or the answer budget (bytes of JSON
 * entries). So the engine is never read for more than the read budget plus one chunk.
 */
import type { Engine } from './engine.js';
import type { LineMatcher } from './line-matcher.js';
import { LogStreamSplitter, type RawLine, type StreamName } from './log-stream.js';
import {
  compareInstants,
  formatInstant,
  type Instant,
  parseEngineTimestamp,
  type TimeWindow,
  toEngineTime,
} from './time-window.js';

export type StreamChoice = StreamName | 'both';

export interface LogEntry {
  stream: StreamName;
  /** RFC 3339 with nanoseconds, when timestamps were asked for. */
  time?: string;
  line: string;
  /** Present (true) when the line was longer than the line limit and was cut. */
  cut?: true;
}

export interface LogReadOptions {
  stream: StreamChoice;
  /** Last N lines (the engine applies it before since/until filtering, as `docker logs --tail`). */
  tail?: number | undefined;
  window: TimeWindow;
  timestamps: boolean;
  matcher?: LineMatcher | undefined;
  /** Most bytes read from the engine; reading stops (connection closed) once past it. */
  readLimitBytes: number;
  /** Most bytes of entries (their JSON); the entry that would pass it is not returned. */
  outputLimitBytes: number;
  maxLineBytes: number;
  /** Keep only the newest N matching entries (search): no answer-budget stop, a ring instead. */
  keepNewest?: number | undefined;
  signal?: AbortSignal | undefined;
}

export type TruncatedReason = 'max_bytes' | 'read_limit';

export interface LogReadResult {
  entries: LogEntry[];
  /** Instants of `entries`, in the same order (for merging and sorting). */
  instants: (Instant | undefined)[];
  truncated: boolean;
  truncated_reason?: TruncatedReason;
  /** Where to continue: the time of the first line not returned (use as `since`). */
  next_since?: string;
  /** Matching lines seen in all (may exceed what keepNewest kept). */
  matched: number;
  lines_read: number;
  bytes_read: number;
  first_time?: string;
  last_time?: string;
}

const BATCH_LINES = 2000;
const TIMESTAMP_ALLOWANCE = 40;
const BATCH_BYTES = 512 * 1024;

interface Pending {
  raw: RawLine;
  instant: Instant | undefined;
  text: string;
}

/** Splits the engine's timestamp prefix ("2026-11-29T03:00:00.123456789Z ") from a line. */
export function splitTimestamp(text: string): { instant: Instant | undefined; text: string } {
  const space = text.indexOf(' ');
  const stamp = space < 0 ? text : text.slice(0, space);
  const instant = stamp.length >= 20 && stamp.length <= 40 ? parseEngineTimestamp(stamp) : undefined;
  if (instant === undefined) return { instant: undefined, text };
  return { instant, text: space < 0 ? '' : text.slice(space + 1) };
}

export async function readContainerLogs(
  engine: Engine,
  container: { id: string; tty: boolean },
  options: LogReadOptions,
): Promise<LogReadResult> {
  const { window } = options;
  const query: Record<string, string | number | boolean | undefined> = {
    stdout: options.stream !== 'stderr',
    stderr: options.stream !== 'stdout',
    timestamps: true,
    follow: false,
    tail: options.tail ?? 'all',
    since: window.since === undefined ? undefined : toEngineTime(window.since),
    until: toEngineTime(window.until),
  };
  const result: LogReadResult = {
    entries: [],
    instants: [],
    truncated: false,
    matched: 0,
    lines_read: 0,
    bytes_read: 0,
  };
  const stream = await engine.getStream(`/containers/${container.id}/logs`, { query, signal: options.signal });
  // The engine's timestamp prefix (up to 36 bytes with its space) does not count against the line limit.
  const splitter = new LogStreamSplitter(!container.tty, options.maxLineBytes + TIMESTAMP_ALLOWANCE);
  let outputBytes = 0;
  let pending: Pending[] = [];
  let pendingBytes = 0;
  let stopped = false;
  let lastInstant: Instant | undefined;

  const stop = (reason: TruncatedReason, nextSince: Instant | undefined) => {
    stopped = true;
    result.truncated = true;
    result.truncated_reason = reason;
    if (nextSince !== undefined) result.next_since = formatInstant(nextSince);
  };

  const emit = (item: Pending): boolean => {
    const entry: LogEntry = { stream: item.raw.stream, line: item.text };
    if (options.timestamps && item.instant !== undefined) entry.time = formatInstant(item.instant);
    if (item.raw.cut) entry.cut = true;
    result.matched += 1;
    if (options.keepNewest !== undefined) {
      result.entries.push(entry);
      result.instants.push(item.instant);
      if (result.entries.length > options.keepNewest) {
        result.entries.shift();
        result.instants.shift();
      }
      return true;
    }
    const size = JSON.stringify(entry).length + 1;
    if (outputBytes + size > options.outputLimitBytes) {
      stop('max_bytes', item.instant);
      return false;
    }
    outputBytes += size;
    result.entries.push(entry);
    result.instants.push(item.instant);
    return true;
  };

  const drain = async () => {
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    if (batch.length === 0) return;
    if (options.matcher === undefined) {
      for (const item of batch) if (!emit(item)) return;
      return;
    }
    const hits = await options.matcher.match(
      batch.map((item) => item.text),
      options.signal,
    );
    for (const index of hits) if (!emit(batch[index] as Pending)) return;
  };

  const accept = async (lines: RawLine[]) => {
    for (const raw of lines) {
      if (stopped) return;
      const split = splitTimestamp(raw.text);
      const { instant } = split;
      let { text } = split;
      if (text.length > options.maxLineBytes / 4 && Buffer.byteLength(text) > options.maxLineBytes) {
        text = Buffer.from(text)
          .subarray(0, options.maxLineBytes)
          .toString('utf8')
          .replace(/\uFFFD$/, '');
        raw.cut = true;
      }
      // The engine filters by since/until already; this guards against engines that round them.
      if (instant !== undefined) {
        if (window.since !== undefined && compareInstants(instant, window.since) < 0) continue;
        if (compareInstants(instant, window.until) > 0) continue;
        result.first_time ??= formatInstant(instant);
        result.last_time = formatInstant(instant);
        lastInstant = instant;
      }
      result.lines_read += 1;
      pending.push({ raw, instant, text });
      pendingBytes += text.length;
      if (pending.length >= BATCH_LINES || pendingBytes >= BATCH_BYTES || options.matcher === undefined) await drain();
    }
  };

  const onAbort = () => stream.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      result.bytes_read += chunk.length;
      await accept(splitter.push(chunk));
      if (stopped) break;
      if (result.bytes_read > options.readLimitBytes) {
        await drain();
        if (!stopped) stop(options.matcher === undefined ? 'max_bytes' : 'read_limit', nextAfter(lastInstant));
        break;
      }
    }
    if (!stopped) {
      options.signal?.throwIfAborted();
      await accept(splitter.end());
      await drain();
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // Closing the connection is how reading stops: the engine sees the socket close and ends the stream.
    stream.destroy();
  }
  return result;
}

/** One nanosecond after `instant` (to continue after the last line read, not repeat it). */
function nextAfter(instant: Instant | undefined): Instant | undefined {
  if (instant === undefined) return undefined;
  return instant.subMsNanos === 999_999
    ? { ms: instant.ms + 1, subMsNanos: 0 }
    : { ms: instant.ms, subMsNanos: instant.subMsNanos + 1 };
}
