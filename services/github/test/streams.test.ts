import { describe, expect, it } from 'vitest';

import { diffFilename, readDiffPage, readPrefix, readTail } from '../src/streams.js';

/** A stream of `chunks` that records how far it was read and whether it was cancelled. */
function source(chunks: (string | Uint8Array)[]) {
  const state = { pulled: 0, cancelled: false };
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[state.pulled++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

function diffOf(files: number, linesEach = 2): string[] {
  return Array.from(
    { length: files },
    (_, i) =>
      `diff --git a/f${i + 1}.txt b/f${i + 1}.txt\n--- a/f${i + 1}.txt\n+++ b/f${i + 1}.txt\n@@ -1 +1,${linesEach} @@\n` +
      `${Array.from({ length: linesEach }, (_, l) => `+line ${l + 1}`).join('\n')}\n`,
  );
}

describe('readDiffPage', () => {
  it('returns the files of the page, each from its diff --git line', async () => {
    const { stream } = source(diffOf(5));
    const page = await readDiffPage(stream, { page: 2, perPage: 2, maxFileChars: 10_000, maxBytes: 1_000_000 });
    expect(page.files.map((f) => f.filename)).toEqual(['f3.txt', 'f4.txt']);
    expect(page.files[0]?.diff).toBe(
      'diff --git a/f3.txt b/f3.txt\n--- a/f3.txt\n+++ b/f3.txt\n@@ -1 +1,2 @@\n+line 1\n+line 2',
    );
    expect(page).toMatchObject({ has_more: true, complete: true });
  });

  it('stops reading at the first file after the page and cancels the rest', async () => {
    const { stream, state } = source([...diffOf(3), ...Array.from({ length: 1000 }, () => 'never read\n')]);
    const page = await readDiffPage(stream, { page: 1, perPage: 2, maxFileChars: 10_000, maxBytes: 1_000_000 });
    expect(page.has_more).toBe(true);
    expect(state.pulled).toBeLessThanOrEqual(4);
    expect(state.cancelled).toBe(true);
  });

  it('the last page has no more; an empty page past the end is empty', async () => {
    const last = await readDiffPage(source(diffOf(5)).stream, {
      page: 3,
      perPage: 2,
      maxFileChars: 10_000,
      maxBytes: 1_000_000,
    });
    expect(last).toMatchObject({ has_more: false, complete: true });
    expect(last.files.map((f) => f.filename)).toEqual(['f5.txt']);
    const past = await readDiffPage(source(diffOf(5)).stream, {
      page: 9,
      perPage: 2,
      maxFileChars: 10_000,
      maxBytes: 1_000_000,
    });
    expect(past).toEqual({ files: [], has_more: false, complete: true });
  });

  it("cuts one file's section at maxFileChars, even a single endless line, without holding it", async () => {
    const endless = Array.from({ length: 200 }, () => 'x'.repeat(10_000));
    const { stream } = source(['diff --git a/big b/big\n+', ...endless, '\n', ...diffOf(1)]);
    const page = await readDiffPage(stream, { page: 1, perPage: 2, maxFileChars: 5000, maxBytes: 10_000_000 });
    expect(page.files.map((f) => [f.filename, f.diff.length, f.truncated])).toEqual([
      ['big', 5000, true],
      ['f1.txt', diffOf(1)[0]!.trimEnd().length, false],
    ]);
  });

  it('stops at maxBytes and says the diff was not read to its end', async () => {
    const page = await readDiffPage(source(diffOf(100)).stream, {
      page: 1,
      perPage: 100,
      maxFileChars: 10_000,
      maxBytes: 500,
    });
    expect(page.complete).toBe(false);
    expect(page.has_more).toBe(false);
    expect(page.files.length).toBeLessThan(100);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = new TextEncoder().encode('diff --git a/ü b/ü\n+日本語\n');
    const { stream } = source([bytes.subarray(0, 14), bytes.subarray(14, 25), bytes.subarray(25)]);
    const page = await readDiffPage(stream, { page: 1, perPage: 10, maxFileChars: 1000, maxBytes: 1000 });
    expect(page.files).toEqual([{ filename: 'ü', diff: 'diff --git a/ü b/ü\n+日本語', truncated: false }]);
  });
});

describe('diffFilename', () => {
  it('names the file after the change, whatever its name holds', () => {
    expect(diffFilename('diff --git a/src/x.ts b/src/x.ts')).toBe('src/x.ts');
    expect(diffFilename('diff --git a/old name.md b/new name.md')).toBe('new name.md');
    expect(diffFilename('diff --git a/a b/c b/a b/c')).toBe('a b/c');
    expect(diffFilename('diff --git "a/tab\\there" "b/tab\\there"')).toBe('tab\\there');
  });
});

describe('readTail', () => {
  it('keeps only the last lines while reading', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i + 1}`);
    const chunks: string[] = [];
    for (let i = 0; i < lines.length; i += 333) chunks.push(`${lines.slice(i, i + 333).join('\n')}\n`);
    const tail = await readTail(source(chunks).stream, { lines: 3, maxLineChars: 100, maxBytes: 10_000_000 });
    expect(tail).toMatchObject({
      lines: ['line 9998', 'line 9999', 'line 10000'],
      total_lines: 10_000,
      complete: true,
      lines_cut: false,
    });
  });

  it('handles CRLF, a last line without newline, and long lines', async () => {
    const tail = await readTail(source(['a\r\nb\r\n', 'x'.repeat(50), 'y'.repeat(50), '\nlast']).stream, {
      lines: 10,
      maxLineChars: 20,
      maxBytes: 1000,
    });
    expect(tail).toMatchObject({ lines: ['a', 'b', 'x'.repeat(20), 'last'], total_lines: 4, lines_cut: true });
  });

  it('stops at maxBytes (the tail is that of the part read)', async () => {
    const { stream, state } = source(Array.from({ length: 100 }, (_, i) => `chunk ${i}\n`));
    const tail = await readTail(stream, { lines: 2, maxLineChars: 100, maxBytes: 40 });
    expect(tail.complete).toBe(false);
    expect(tail.bytes).toBe(40);
    expect(state.cancelled).toBe(true);
  });
});

describe('readPrefix', () => {
  it('reads up to maxBytes and says whether that was all', async () => {
    expect(await readPrefix(source(['abc', 'def']).stream, 10)).toEqual({
      bytes: Buffer.from('abcdef'),
      complete: true,
    });
    const cut = source(['abc', 'def', 'ghi']);
    expect(await readPrefix(cut.stream, 4)).toEqual({ bytes: Buffer.from('abcd'), complete: false });
    expect(cut.state.cancelled).toBe(true);
    expect(await readPrefix(source(['abc']).stream, 3)).toEqual({ bytes: Buffer.from('abc'), complete: true });
  });
});
