import { describe, expect, it } from 'vitest';

import { logFrame, LogStreamSplitter, type RawLine } from '../src/log-stream.js';
import { splitTimestamp } from '../src/logs.js';

function feed(splitter: LogStreamSplitter, chunks: Buffer[]): RawLine[] {
  const out: RawLine[] = [];
  for (const chunk of chunks) out.push(...splitter.push(chunk));
  out.push(...splitter.end());
  return out;
}

/** Every way of cutting `bytes` into two or three pieces. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) {
    out.push([bytes.subarray(0, i), bytes.subarray(i)]);
    for (let j = i + 1; j < bytes.length; j += 3)
      out.push([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
  }
  return out;
}

describe('LogStreamSplitter (multiplexed)', () => {
  const body = Buffer.concat([
    logFrame('stdout', 'out 1\nout '),
    logFrame('stderr', 'err 1\n'),
    logFrame('stdout', '2\n'),
    logFrame('stderr', 'é😀 ünï\r\n'),
    logFrame('stdout', ''),
    logFrame('stdout', 'no newline at end'),
  ]);
  const expected: RawLine[] = [
    { stream: 'stdout', text: 'out 1', cut: false },
    { stream: 'stderr', text: 'err 1', cut: false },
    { stream: 'stdout', text: 'out 2', cut: false },
    { stream: 'stderr', text: 'é😀 ünï', cut: false },
    { stream: 'stdout', text: 'no newline at end', cut: false },
  ];

  it('demultiplexes frames into lines per stream, however the bytes are chunked (headers, lines and characters split)', () => {
    for (const chunks of splits(body)) {
      expect(feed(new LogStreamSplitter(true, 1024), chunks)).toEqual(expected);
    }
  });

  it('cuts a line at the byte limit, marks it, skips its rest, and stays bounded', () => {
    const long = logFrame('stdout', `${'x'.repeat(100)}\nshort\n`);
    expect(feed(new LogStreamSplitter(true, 10), [long])).toEqual([
      { stream: 'stdout', text: 'xxxxxxxxxx', cut: true },
      { stream: 'stdout', text: 'short', cut: false },
    ]);
    // A cut through a multi-byte character drops the broken character.
    expect(feed(new LogStreamSplitter(true, 4), [logFrame('stdout', 'abcé\n')])).toEqual([
      { stream: 'stdout', text: 'abc', cut: true },
    ]);
  });

  it('refuses a body that is not in the multiplexed format, and reports an engine error frame', () => {
    expect(() => feed(new LogStreamSplitter(true, 1024), [Buffer.from('plain text, no frames\n')])).toThrow(
      'The Docker engine sent a log stream that is not in its multiplexed format',
    );
    expect(() => feed(new LogStreamSplitter(true, 1024), [logFrame('system', 'log driver failed')])).toThrow(
      'The Docker engine reported an error while reading logs: log driver failed',
    );
  });
});

describe('LogStreamSplitter (TTY)', () => {
  it('reads raw output as stdout lines', () => {
    const raw = Buffer.from('one\r\ntwo\nthree');
    for (const chunks of splits(raw)) {
      expect(feed(new LogStreamSplitter(false, 1024), chunks)).toEqual([
        { stream: 'stdout', text: 'one', cut: false },
        { stream: 'stdout', text: 'two', cut: false },
        { stream: 'stdout', text: 'three', cut: false },
      ]);
    }
  });
});

describe('splitTimestamp', () => {
  it("splits the engine's RFC 3339 prefix and keeps lines without one whole", () => {
    expect(splitTimestamp('2026-11-29T03:00:00.123456789Z hello world')).toEqual({
      instant: { ms: Date.UTC(2026, 10, 29, 3, 0, 0, 123), subMsNanos: 456789 },
      text: 'hello world',
    });
    expect(splitTimestamp('2026-11-29T03:00:00.123456789Z ')).toMatchObject({ text: '' });
    expect(splitTimestamp('not a time stamp')).toEqual({ instant: undefined, text: 'not a time stamp' });
  });
});
