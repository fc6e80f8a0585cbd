import { describe, expect, it } from 'vitest';

import { FsError } from '../src/path-guard.js';
import { chunksOf, cutToBytes, type LineSelection, looksBinary, readLines } from '../src/text-read.js';

/** Feeds the text in chunks of `size` bytes, so line and character boundaries fall anywhere. */
async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const read = (text: string, selection: LineSelection, max = 1_000_000, size = 3) =>
  readLines(chunked(text, size), selection, max, '"f"');

const ten = Array.from({ length: 10 }, (_, index) => `line ${index + 1}\n`).join('');

describe('readLines', () => {
  it('reads a whole file exactly, terminators included', async () => {
    for (const size of [1, 2, 7, 64 * 1024]) {
      const slice = await read('a\r\nb\n\nlast', { from: 1 }, 1_000_000, size);
      expect(slice).toEqual({
        content: 'a\r\nb\n\nlast',
        start_line: 1,
        end_line: 4,
        total_lines: 4,
        truncated: false,
      });
    }
  });

  it('handles the empty file and a file of one newline', async () => {
    expect(await read('', { from: 1 })).toEqual({
      content: '',
      start_line: 1,
      end_line: 0,
      total_lines: 0,
      truncated: false,
    });
    expect(await read('\n', { from: 1 })).toMatchObject({ content: '\n', end_line: 1, total_lines: 1 });
    expect(await read('', { tail: 3 })).toMatchObject({ content: '', start_line: 1, end_line: 0, total_lines: 0 });
  });

  it('reads a range and says where to continue', async () => {
    const slice = await read(ten, { from: 3, limit: 2 });
    expect(slice).toEqual({
      content: 'line 3\nline 4\n',
      start_line: 3,
      end_line: 4,
      truncated: false,
      next_offset: 5,
    });
  });

  it('reports total_lines and no next_offset when the range reaches the end', async () => {
    expect(await read(ten, { from: 9, limit: 5 })).toEqual({
      content: 'line 9\nline 10\n',
      start_line: 9,
      end_line: 10,
      total_lines: 10,
      truncated: false,
    });
    expect(await read(ten, { from: 8, limit: 3 })).toMatchObject({ end_line: 10, total_lines: 10 });
    expect((await read(ten, { from: 8, limit: 3 })).next_offset).toBeUndefined();
  });

  it('head is a range from line 1; a last line without newline counts', async () => {
    expect(await read('x\ny', { from: 1, limit: 1 })).toMatchObject({ content: 'x\n', next_offset: 2 });
    expect(await read('x\ny', { from: 2, limit: 1 })).toMatchObject({ content: 'y', end_line: 2, total_lines: 2 });
  });

  it('refuses an offset past the end, naming the file', async () => {
    await expect(read(ten, { from: 11 })).rejects.toThrow('offset 11 is past the end of "f" (10 lines)');
    await expect(read('', { from: 2 })).rejects.toBeInstanceOf(FsError);
  });

  it('tails the last lines, with line numbers', async () => {
    expect(await read(ten, { tail: 2 })).toEqual({
      content: 'line 9\nline 10\n',
      start_line: 9,
      end_line: 10,
      total_lines: 10,
      truncated: false,
    });
    expect(await read('a\nb', { tail: 5 })).toMatchObject({ content: 'a\nb', start_line: 1, end_line: 2 });
  });

  it('caps the bytes of a range at whole lines and says where to go on', async () => {
    // Each line is 7 bytes ("line 1\n"); 20 bytes hold two.
    const slice = await read(ten, { from: 1 }, 20);
    expect(slice).toEqual({ content: 'line 1\nline 2\n', start_line: 1, end_line: 2, truncated: true, next_offset: 3 });
  });

  it('cuts a single line longer than the cap on a character boundary', async () => {
    const long = `${'é'.repeat(50)}\nnext\n`;
    const slice = await read(long, { from: 1 }, 11, 4);
    expect(slice.content).toBe('ééééé');
    expect(slice).toMatchObject({ start_line: 1, end_line: 1, truncated: true, next_offset: 2 });
    const only = await read('é'.repeat(50), { from: 1 }, 11);
    expect(only).toMatchObject({ content: 'ééééé', truncated: true, total_lines: 1 });
    expect(only.next_offset).toBeUndefined();
  });

  it('caps a tail by dropping its first lines', async () => {
    const slice = await read(ten, { tail: 5 }, 16);
    expect(slice).toEqual({
      content: 'line 9\nline 10\n',
      start_line: 9,
      end_line: 10,
      total_lines: 10,
      truncated: true,
    });
    const huge = await read(`a\n${'z'.repeat(100)}`, { tail: 1 }, 10);
    expect(huge).toMatchObject({ content: 'z'.repeat(10), truncated: true, start_line: 2 });
  });

  it('keeps multi-byte characters split across chunks intact', async () => {
    const text = '日本語\n😀 emoji\n';
    for (const size of [1, 2, 5]) expect((await read(text, { from: 2 }, 1000, size)).content).toBe('😀 emoji\n');
  });

  it('refuses binary content (a NUL in the first 8 KiB)', async () => {
    await expect(readLines(chunked(Buffer.from([0x50, 0, 0x51]), 8192), { from: 1 }, 100, '"bin"')).rejects.toThrow(
      '"bin" looks like a binary file',
    );
  });

  it('stops reading once the range is served (does not drain a huge stream)', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled += 1;
        yield Buffer.from('row\n'.repeat(100));
      }
    }
    const slice = await readLines(endless(), { from: 1, limit: 3 }, 1000, '"f"');
    expect(slice).toMatchObject({ content: 'row\nrow\nrow\n', next_offset: 4 });
    expect(pulled).toBe(1);
  });
});

describe('helpers', () => {
  it('looksBinary only looks at the first 8 KiB', () => {
    expect(looksBinary(Buffer.from('text'))).toBe(false);
    expect(looksBinary(Buffer.from([1, 0]))).toBe(true);
    const late = Buffer.alloc(10_000, 0x41);
    late[9000] = 0;
    expect(looksBinary(late)).toBe(false);
  });

  it('cutToBytes never splits a character', () => {
    expect(cutToBytes('aé', 2)).toBe('a');
    expect(cutToBytes('aé', 3)).toBe('aé');
    expect(cutToBytes('😀', 3)).toBe('');
  });

  it('chunksOf reads until EOF and honours the abort signal', async () => {
    const data = Buffer.from('abcdefghij');
    const readAt = (buffer: Buffer, position: number) => Promise.resolve(data.copy(buffer, 0, position, position + 4));
    const parts: string[] = [];
    for await (const chunk of chunksOf(readAt, undefined, 4)) parts.push(Buffer.from(chunk).toString());
    expect(parts).toEqual(['abcd', 'efgh', 'ij']);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(chunksOf(readAt, controller.signal, 4).next()).rejects.toThrow('stop');
  });
});
