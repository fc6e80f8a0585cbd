/**
 * The glob matcher: the same answers as minimatch (the reference, with the options this service
 * used before) on ordinary patterns and paths, clear refusals past each limit, and bounded cost on
 * hostile patterns of every class (brace bombs, nesting, many stars, many globstars, classes,
 * extglobs), which is what minimatch could not give.
 */
import { Minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';

import { Glob, GLOB_LIMITS, GlobSet } from '../src/glob.js';
import { FsError } from '../src/path-guard.js';

const reference = (pattern: string) =>
  new Minimatch(pattern, { dot: true, matchBase: !pattern.includes('/'), nocomment: true });

const PATTERNS = [
  '*',
  '*.md',
  '*.{md,txt}',
  '**',
  '**/*',
  '**/*.ts',
  'src/**/*.ts',
  'src/*',
  'src/**',
  'a/**/b',
  '**/b/**',
  'a/*/c',
  '?',
  'a?c',
  '??.txt',
  '[abc]*',
  '[!a]*',
  '[^a]*',
  '[a-c]?',
  '[[:digit:]]*',
  '[[:alpha:]][[:alnum:]]*',
  '*[[:upper:]]*',
  '[]]',
  '[a-]*',
  'a[',
  '\\*',
  'a\\*b',
  '\\[x]',
  '.*',
  '.git',
  '**/.git/**',
  'node_modules',
  '**/node_modules/**',
  '{a,b}',
  '{a,b}/{c,d}',
  'x{1..3}',
  'x{01..03}',
  '{a..c}{1..2}',
  '{,x}a',
  'a{b}c',
  'a/../b',
  'a//b',
  '/a',
  'a/',
  '!*.md',
  '!!*.md',
  '#notes',
  '*a*a*a*',
  'deep/**/deeper/**/*.log',
  'é*',
  '*ü',
  'a b',
  'a,b',
];

const PATHS = [
  'a',
  'b',
  'c',
  'x1',
  'x2',
  'x01',
  'x4',
  'a1',
  'b2',
  'ab',
  'abc',
  'axc',
  'a.c',
  'a*b',
  'a-b',
  'a[',
  ']',
  '*',
  '[x]',
  'x',
  '.git',
  '.gitignore',
  '.hidden/x',
  'README.md',
  'notes.txt',
  'n.md',
  'ab.txt',
  'src',
  'src/a.ts',
  'src/deep/b.ts',
  'src/deep/c.js',
  'a/b',
  'a/x/b',
  'a/x/y/b',
  'a/b/c',
  'a/c',
  'b/c',
  'b/d',
  'x/a/b',
  'a/.git/config',
  'node_modules',
  'pkg/node_modules/x',
  'deep/1/deeper/2/app.log',
  'deep/deeper/app.log',
  '1abc',
  'Abc',
  'aaaa',
  'éa',
  'xü',
  'a b',
  'a,b',
  '#notes',
  'xa',
];

describe('Glob agrees with minimatch', () => {
  it.each(PATTERNS)('%s', (pattern) => {
    const mine = Glob.compile(pattern);
    const theirs = reference(pattern);
    const disagreements = PATHS.filter((candidate) => mine.match(candidate) !== theirs.match(candidate));
    expect(disagreements).toEqual([]);
  });

  it('counts characters as code points (minimatch counts UTF-16 units)', () => {
    expect(Glob.compile('?').match('😀')).toBe(true);
    expect(Glob.compile('??').match('😀')).toBe(false);
    expect(Glob.compile('[😀]x').match('😀x')).toBe(true);
  });
});

const refusal = (pattern: string): FsError => {
  try {
    Glob.compile(pattern);
  } catch (error) {
    expect(error).toBeInstanceOf(FsError);
    return error as FsError;
  }
  throw new Error(`${pattern} was accepted`);
};

describe('limits', () => {
  it('refuses the issue pattern and every brace bomb before expanding it', () => {
    const issue = '{a,b}{c,d}{e,f}'.repeat(15);
    expect(issue.length).toBeGreaterThanOrEqual(220);
    for (const bomb of [
      issue,
      '{a,b}'.repeat(9),
      '{1..100000000}',
      'x{a..z}{a..z}',
      '{a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q}{a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p}',
      '{0..9}{0..9}{0..9}',
    ]) {
      const error = refusal(bomb);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message, bomb).toMatch(/expands to more than 256 patterns|more than 32 brace groups/);
    }
    expect(Glob.compile('{a,b}'.repeat(8)).size).toBe(256); // right at the limit
  });

  it('refuses deep brace nesting, too many groups, long patterns, many globstars and big classes', () => {
    expect(refusal(`${'{'.repeat(9)}a,b${'}'.repeat(9)}`).message).toMatch(/nest more than 8 deep/);
    expect(refusal('{a}'.repeat(33)).message).toMatch(/more than 32 brace groups/);
    expect(refusal('a'.repeat(1001)).message).toBe('Glob patterns must be 1 to 1000 characters');
    expect(refusal('').message).toBe('Glob patterns must be 1 to 1000 characters');
    expect(refusal('**/a/'.repeat(17)).message).toMatch(/more than 16 \*\* segments/);
    expect(refusal(`[${'a'.repeat(65)}]`).message).toMatch(/more than 64 items/);
    expect(refusal('[[:bogus:]]').message).toMatch(/Unknown character class \[:bogus:\]/);
  });

  it('refuses extended globs in every form, and says how to write a parenthesis', () => {
    for (const extglob of ['+(a|b)', '*(a)', '?(a)', '@(a|b)', 'x!(a)', 'src/**/+(a|aa)', '{+,@}(a)']) {
      expect(refusal(extglob).message, extglob).toMatch(/Extended globs .* are not supported/);
    }
    expect(Glob.compile('a\\(1\\).txt').match('a(1).txt')).toBe(true);
    expect(Glob.compile('a(1).txt').match('a(1).txt')).toBe(true);
  });

  it('bounds the expansions of all the patterns of one call together', () => {
    const many = Array.from({ length: 5 }, () => '{a,b}'.repeat(8));
    expect(() => GlobSet.compile(many)).toThrow(/expand to 1280 patterns, over the limit of 1024/);
  });
});

describe('cost on hostile patterns', () => {
  const name = 'a'.repeat(255);
  const deepPath = Array.from({ length: 64 }, () => name).join('/');

  it('stars that force backtracking cost at most pattern × name steps', () => {
    // minimatch: 350 ms for this against 60 characters; here one pass per star.
    const glob = Glob.compile(`${'*a'.repeat(200)}b`);
    expect(glob.match(name)).toBe(false);
    expect(Glob.compile('*a*a*a*a*a*ab').match(`${'a'.repeat(60)}b`)).toBe(true);
  });

  it('globstars over a deep path', () => {
    expect(Glob.compile(`${'**/a*/'.repeat(15)}**/b`).match(deepPath)).toBe(false);
  });

  it('a pattern too costly for one path is stopped by the step budget, with a clear message', () => {
    // The matcher's worst case: a long literal after a star is re-tried at every position.
    const segment = `*${'a'.repeat(120)}b`;
    const costly = GlobSet.compile([`**/${segment}/**/${segment}/**`]);
    let error: unknown;
    try {
      costly.matchesAny(deepPath);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FsError);
    expect((error as FsError).message).toMatch(
      new RegExp(`costs too much to match \\(over ${GLOB_LIMITS.matchSteps} steps for one path\\)`),
    );
  });

  it('the largest allowed brace expansion of stars still matches within the budget', () => {
    const glob = GlobSet.compile([`${'{*a,*b}'.repeat(8)}c`]);
    expect(glob.matchesAny(name)).toBe(false);
  });
});
