import { describe, expect, it } from 'vitest';

import { capText, cutText, fitList, fitText, jsonLength, largestFitting } from '../src/text.js';

describe('cutText and capText', () => {
  it('cuts at the limit without splitting a surrogate pair', () => {
    expect(cutText('abcdef', 3)).toBe('abc');
    expect(cutText('ab🎉cd', 3)).toBe('ab');
    expect(cutText('ab🎉cd', 4)).toBe('ab🎉');
    expect(cutText('short', 10)).toBe('short');
  });

  it('says whether it cut, and keeps null', () => {
    expect(capText('abcdef', 3)).toEqual({ text: 'abc', truncated: true });
    expect(capText('abc', 3)).toEqual({ text: 'abc', truncated: false });
    expect(capText(null, 3)).toEqual({ text: null, truncated: false });
    expect(capText(undefined, 3)).toEqual({ text: null, truncated: false });
  });
});

describe('largestFitting', () => {
  it('finds the edge of a monotone predicate', () => {
    for (const edge of [0, 1, 7, 99, 100]) expect(largestFitting(100, (n) => n <= edge)).toBe(edge);
    expect(largestFitting(0, () => true)).toBe(0);
  });
});

describe('fitList and fitText', () => {
  const items = Array.from({ length: 50 }, (_, i) => ({ n: i, text: 'x'.repeat(100) }));

  it('leaves an answer that fits alone', () => {
    const answer = { items, truncated: false };
    expect(fitList(answer, 'items', 1_000_000)).toBe(answer);
  });

  it('keeps the leading items that fit and says how many were left out', () => {
    const output = fitList({ items, truncated: false, total: 50 }, 'items', 2000);
    expect(jsonLength(output)).toBeLessThanOrEqual(2000);
    expect(output.items.length + (output.omitted ?? 0)).toBe(50);
    expect(output.omitted).toBeGreaterThan(0);
    expect(output.truncated).toBe(true);
    expect(output.items[0]).toEqual(items[0]);
    // One more item would not have fitted.
    expect(jsonLength({ ...output, items: items.slice(0, output.items.length + 1) })).toBeGreaterThan(2000);
  });

  it('cuts text so that the JSON, escapes included, fits', () => {
    const answer = { content: '"\u0001'.repeat(10_000), truncated: false };
    const fitted = fitText(answer, 'content', 5000);
    expect(jsonLength(fitted)).toBeLessThanOrEqual(5000);
    expect(jsonLength({ ...fitted, content: answer.content.slice(0, fitted.content.length + 1) })).toBeGreaterThan(
      5000,
    );
    expect(fitted.truncated).toBe(true);
  });
});
