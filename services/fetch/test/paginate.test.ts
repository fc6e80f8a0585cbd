import { FetchError } from '@mcp-sse/net-guard';
import { describe, expect, it } from 'vitest';

import { paginate } from '../src/paginate.js';

describe('paginate', () => {
  const text = 'abcdefghij';

  it('returns the whole content when it fits, without next_start_index', () => {
    expect(paginate(text, 0, 100)).toEqual({ content: text, start_index: 0, total_length: 10 });
  });

  it('walks the content page by page and the pages add up to the whole', () => {
    const pages: string[] = [];
    let start: number | undefined = 0;
    while (start !== undefined) {
      const page = paginate(text, start, 3);
      expect(page.total_length).toBe(10);
      pages.push(page.content);
      start = page.next_start_index;
    }
    expect(pages).toEqual(['abc', 'def', 'ghi', 'j']);
  });

  it('handles empty content', () => {
    expect(paginate('', 0, 5)).toEqual({ content: '', start_index: 0, total_length: 0 });
  });

  it('never splits a surrogate pair', () => {
    const emoji = 'ab😀cd'; // 😀 is two UTF-16 code units at indices 2..3
    const first = paginate(emoji, 0, 3);
    expect(first).toEqual({ content: 'ab', start_index: 0, total_length: 6, next_start_index: 2 });
    const second = paginate(emoji, 2, 3);
    expect(second.content).toBe('😀c');
    expect(paginate(emoji, 3, 2).content).toBe('😀'); // a start inside the pair moves back
    expect(paginate('😀😀', 0, 1)).toMatchObject({ content: '😀', next_start_index: 2 });
  });

  it.each([
    [10, 5, 'start_index 10 is past the end of the content (total_length 10)'],
    [-1, 5, 'start_index must be a non-negative integer (got -1)'],
    [1.5, 5, 'start_index must be a non-negative integer (got 1.5)'],
    [0, 0, 'max_length must be a positive integer (got 0)'],
  ])('rejects start %d / length %d', (start, length, message) => {
    expect(() => paginate(text, start, length)).toThrow(new FetchError('INVALID_INPUT', message));
  });
});
