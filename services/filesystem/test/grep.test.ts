import { runInThisContext } from 'node:vm';

import { describe, expect, it } from 'vitest';

import { checkRegex, createLineMatcher, MAX_REGEX_LENGTH, RegexWorker } from '../src/grep.js';

/** The whole text in one piece, as a small file is sent. */
const matchText = (text: string, source: string, contextLines: number, maxHits: number, maxLineChars: number) => {
  const matcher = createLineMatcher({ source, contextLines, maxHits, maxLineChars });
  matcher.push(text, true);
  return matcher.hits;
};

describe('createLineMatcher', () => {
  const text = 'one\ntwo\r\nthree\nfour two\nfive\n';

  it('returns matching lines with 1-based numbers, CRLF or LF', () => {
    expect(matchText(text, 'two', 0, 10, 100)).toEqual([
      { line: 2, text: 'two' },
      { line: 4, text: 'four two' },
    ]);
  });

  it('adds context lines, clipped at the file edges', () => {
    expect(matchText(text, '^one$', 2, 10, 100)).toEqual([
      { line: 1, text: 'one', before: [], after: ['two', 'three'] },
    ]);
    expect(matchText(text, 'five', 1, 10, 100)).toEqual([{ line: 5, text: 'five', before: ['four two'], after: [] }]);
  });

  it('stops at maxHits and clips long lines', () => {
    expect(matchText('a\na\na\n', 'a', 0, 2, 100)).toHaveLength(2);
    expect(matchText(`${'x'.repeat(30)}\n`, 'x', 0, 5, 10)).toEqual([{ line: 1, text: `${'x'.repeat(10)}…` }]);
  });

  it('is self-contained, so its source can run in the worker', () => {
    // Evaluated from its source text alone, as the worker does: no closure over this module.
    const rebuilt = runInThisContext(`(${createLineMatcher.toString()})`) as typeof createLineMatcher;
    const matcher = rebuilt({ source: 'th', contextLines: 0, maxHits: 10, maxLineChars: 100 });
    matcher.push(text, true);
    expect(matcher.hits).toEqual([{ line: 3, text: 'three' }]);
  });

  it('gives the same answer whatever the chunks, context carried across them', () => {
    const file = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? `hit ${i}\r\n` : `line ${i}\n`)).join('');
    const whole = matchText(file, '^hit', 2, 1000, 100);
    for (const size of [1, 3, 17, 64, 1000]) {
      const matcher = createLineMatcher({ source: '^hit', contextLines: 2, maxHits: 1000, maxLineChars: 100 });
      for (let at = 0; at < file.length; at += size) matcher.push(file.slice(at, at + size), false);
      matcher.push('', true);
      expect(matcher.hits, `chunks of ${size}`).toEqual(whole);
    }
    expect(whole).toHaveLength(29);
  });

  it('searches a line longer than the search window in its start only, and stops when enough was found', () => {
    const matcher = createLineMatcher({
      source: 'x',
      contextLines: 0,
      maxHits: 1,
      maxLineChars: 5,
      maxSearchChars: 10,
    });
    expect(matcher.push(`${'a'.repeat(20)}x\n`, false)).toBe(false); // x is past the window
    expect(matcher.push('yx\nx\n', false)).toBe(true); // line 2 matches: done, the rest is not needed
    expect(matcher.hits).toEqual([{ line: 2, text: 'yx' }]);
  });
});

describe('checkRegex', () => {
  it('accepts valid patterns and refuses empty, overlong and invalid ones clearly', () => {
    expect(() => checkRegex('fo+\\b')).not.toThrow();
    expect(() => checkRegex('')).toThrow('must not be empty');
    expect(() => checkRegex('a'.repeat(MAX_REGEX_LENGTH + 1))).toThrow(`longer than ${MAX_REGEX_LENGTH}`);
    expect(() => checkRegex('(unclosed')).toThrow(/^Invalid regex: /);
  });
});

describe('RegexWorker', () => {
  it('matches in a worker thread, several files in turn', async () => {
    const worker = new RegexWorker(5_000);
    try {
      const request = { source: 'b+', contextLines: 0, maxHits: 10, maxLineChars: 100 };
      expect(await worker.match({ ...request, text: 'a\nbb\n' }, 'f1')).toEqual([{ line: 2, text: 'bb' }]);
      expect(await worker.match({ ...request, text: 'b\nc\nb\n' }, 'f2')).toEqual([
        { line: 1, text: 'b' },
        { line: 3, text: 'b' },
      ]);
    } finally {
      await worker.close();
    }
  });

  it('stops a catastrophically backtracking regex at the budget, and stays usable', async () => {
    const worker = new RegexWorker(300);
    try {
      const started = Date.now();
      const evil = { text: `${'a'.repeat(40)}!\n`, source: '^(a+)+$', contextLines: 0, maxHits: 1, maxLineChars: 100 };
      await expect(worker.match(evil, '"evil.txt"')).rejects.toMatchObject({
        code: 'TIMEOUT',
        message: expect.stringContaining('catastrophic backtracking') as string,
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      // The main thread was never blocked, and a fresh worker serves the next file.
      const next = await worker.match({ ...evil, text: 'aaa\n', source: 'a' }, 'ok');
      expect(next).toEqual([{ line: 1, text: 'aaa' }]);
    } finally {
      await worker.close();
    }
  });

  it('stops when the call is aborted', async () => {
    const worker = new RegexWorker(60_000);
    const controller = new AbortController();
    try {
      await worker.begin({ source: '^(a+)+$', contextLines: 0, maxHits: 1, maxLineChars: 10 }, 'f', controller.signal);
      const pending = worker.push(`${'a'.repeat(40)}!`, true, controller.signal);
      // Aborted once the text is on its way to a regex that never finishes (no sleep needed).
      controller.abort(new Error('client went away'));
      await expect(pending).rejects.toThrow('client went away');
    } finally {
      await worker.close();
    }
  });
});
