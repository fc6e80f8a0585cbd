/**
 * Glob matching with a bounded cost, for every pattern a caller sends (search_files, exclude,
 * grep_files' glob). minimatch turns each path segment into a backtracking regular expression, and
 * no option of it bounds the time one match takes: `*a*a*a*a*a*ab` against a 60-character name took
 * 350 ms, `+(a|aa)` six times against 30 characters 68 s, and a 220-character brace pattern blocked
 * the event loop for over a minute. So the patterns are checked against explicit limits first, and
 * matched here by an algorithm whose cost is linear in the pattern times the path, with a step
 * budget per match; minimatch still does the brace expansion (brace-expansion's own budgets, and
 * ours on top) and is the reference the tests compare these semantics with.
 *
 * Semantics (minimatch with `dot: true`, `nocomment: true`): `*` any run of characters but `/`
 * (leading dots included), `?` one character, `[...]` a class (`!`/`^` negation, ranges, POSIX
 * classes such as `[:alpha:]`), `\` escapes, `**` alone in a segment any number of segments (at
 * the end of a pattern at least one), `{a,b}` and `{1..3}` braces, a leading `!` negates. A pattern
 * without `/` matches the base name at any depth. Extended globs (`+(a|b)`, `@(…)`, …) are refused.
 * Characters are code points (minimatch counts UTF-16 units, so it needs `??` for one emoji).
 */
import { braceExpand } from 'minimatch';

import { FsError } from './path-guard.js';

export const GLOB_LIMITS = {
  /** Characters in one pattern. */
  length: 1000,
  /** `{` groups in one pattern. */
  braceGroups: 32,
  /** How deep braces may nest. */
  braceDepth: 8,
  /** Patterns one pattern may expand to. */
  expansions: 256,
  /** Patterns all the globs of one call may expand to together. */
  totalExpansions: 1024,
  /** `**` segments in one expanded pattern. */
  globstars: 16,
  /** Items in one character class. */
  classItems: 64,
  /** Steps one path may cost against all the patterns of a call (a few milliseconds at most). */
  matchSteps: 200_000,
} as const;

const quote = (input: string): string => JSON.stringify(input);

/** POSIX classes, as minimatch translates them to Unicode properties. */
const POSIX: Record<string, RegExp> = {
  alnum: /[\p{L}\p{Nl}\p{Nd}]/u,
  alpha: /[\p{L}\p{Nl}]/u,
  // eslint-disable-next-line no-control-regex -- the ASCII range is the point
  ascii: /[\x00-\x7f]/u,
  blank: /[\p{Zs}\t]/u,
  cntrl: /\p{Cc}/u,
  digit: /\p{Nd}/u,
  graph: /[^\p{Z}\p{C}]/u,
  lower: /\p{Ll}/u,
  print: /\p{C}/u, // as minimatch has it
  punct: /\p{P}/u,
  space: /[\p{Z}\t\r\n\v\f]/u,
  upper: /\p{Lu}/u,
  word: /[\p{L}\p{Nl}\p{Nd}\p{Pc}]/u,
  xdigit: /[A-Fa-f0-9]/u,
};

interface CharClass {
  negate: boolean;
  ranges: [number, number][];
  posix: RegExp[];
  /** Answers for ASCII, computed once. */
  ascii: Uint8Array;
}

type Token = { kind: 'char'; code: number } | { kind: 'any' } | { kind: 'star' } | { kind: 'class'; cls: CharClass };

type Segment =
  | { kind: 'globstar' }
  /** Any one segment: what a trailing `**` must match at least. */
  | { kind: 'one' }
  | { kind: 'literal'; text: string }
  | { kind: 'tokens'; tokens: Token[] }
  /** A class that can match nothing (`[z-a]`): the whole pattern never matches, as in minimatch. */
  | { kind: 'never' };

interface Compiled {
  segments: Segment[];
  /** Match the base name only (a pattern without `/`). */
  base: boolean;
}

class Budget {
  steps = 0;
  constructor(
    private readonly limit: number,
    private readonly label: string,
  ) {}
  spend(n = 1): void {
    this.steps += n;
    if (this.steps > this.limit) {
      throw new FsError(
        'INVALID_INPUT',
        `The pattern ${this.label} costs too much to match (over ${this.limit} steps for one path); ` +
          'use fewer wildcards, braces and ** segments',
      );
    }
  }
}

function classMatches(cls: CharClass, code: number, budget: Budget): boolean {
  if (code < 128) return cls.ascii[code] === 1;
  budget.spend(cls.ranges.length + cls.posix.length);
  let hit = cls.ranges.some(([lo, hi]) => code >= lo && code <= hi);
  if (!hit) {
    const char = String.fromCodePoint(code);
    hit = cls.posix.some((re) => re.test(char));
  }
  return hit !== cls.negate;
}

/** Parses `[...]` at `start` of `text` (minimatch's rules). Undefined: not a class, `[` is literal. */
function parseClass(text: string, start: number, label: string): { cls: CharClass | 'never'; end: number } | undefined {
  const ranges: [number, number][] = [];
  const posix: RegExp[] = [];
  let index = start + 1;
  let negate = false;
  let sawStart = false;
  let rangeStart: number | undefined;
  let items = 0;
  const at = (i: number) => text.codePointAt(i) ?? 0;
  const width = (code: number) => (code > 0xffff ? 2 : 1);
  if (text[index] === '!' || text[index] === '^') {
    negate = true;
    index += 1;
  }
  for (;;) {
    if (index >= text.length) return undefined;
    let code = at(index);
    if (code === 0x5d && sawStart) break; // ]
    sawStart = true;
    if (code === 0x5b) {
      const posixName = /^\[:([a-z]+):\]/.exec(text.slice(index, index + 12))?.[1];
      if (posixName !== undefined) {
        const re = POSIX[posixName];
        if (re === undefined)
          throw new FsError('INVALID_INPUT', `Unknown character class [:${posixName}:] in ${label}`);
        if (rangeStart !== undefined) return { cls: 'never', end: text.indexOf(']', index) + 1 };
        posix.push(re);
        index += posixName.length + 4;
        items += 1;
        continue;
      }
    }
    if (code === 0x5c && index + 1 < text.length) {
      index += 1; // an escaped character is itself
      code = at(index);
    }
    index += width(code);
    items += 1;
    if (items > GLOB_LIMITS.classItems) {
      throw new FsError('INVALID_INPUT', `A character class in ${label} has more than ${GLOB_LIMITS.classItems} items`);
    }
    if (rangeStart !== undefined) {
      if (code >= rangeStart) ranges.push([rangeStart, code]);
      rangeStart = undefined;
      continue;
    }
    if (text[index] === '-' && text[index + 1] !== ']' && index + 1 < text.length) {
      rangeStart = code;
      index += 1;
      continue;
    }
    if (text[index] === '-' && text[index + 1] === ']') {
      ranges.push([code, code], [0x2d, 0x2d]);
      index += 1;
      continue;
    }
    ranges.push([code, code]);
  }
  const end = index + 1;
  if (ranges.length === 0 && posix.length === 0) return { cls: 'never', end };
  const ascii = new Uint8Array(128);
  for (let code = 0; code < 128; code += 1) {
    const char = String.fromCharCode(code);
    const hit = ranges.some(([lo, hi]) => code >= lo && code <= hi) || posix.some((re) => re.test(char));
    ascii[code] = hit !== negate ? 1 : 0;
  }
  return { cls: { negate, ranges, posix, ascii }, end };
}

function parseSegment(text: string, label: string): Segment {
  if (text === '**') return { kind: 'globstar' };
  const tokens: Token[] = [];
  let magic = false;
  for (let index = 0; index < text.length;) {
    const code = text.codePointAt(index) ?? 0;
    const char = String.fromCodePoint(code);
    const next = text[index + char.length];
    if ('?*+@!'.includes(char) && next === '(') {
      throw new FsError(
        'INVALID_INPUT',
        `Extended globs such as ${char}(…) are not supported (in ${label}); use braces {a,b}, or write \\( for a parenthesis`,
      );
    }
    if (char === '\\' && next !== undefined) {
      const escaped = text.codePointAt(index + 1) ?? 0;
      tokens.push({ kind: 'char', code: escaped });
      index += 1 + String.fromCodePoint(escaped).length;
      continue;
    }
    if (char === '*') {
      magic = true;
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      index += 1;
      continue;
    }
    if (char === '?') {
      magic = true;
      tokens.push({ kind: 'any' });
      index += 1;
      continue;
    }
    if (char === '[') {
      const parsed = parseClass(text, index, label);
      if (parsed !== undefined) {
        if (parsed.cls === 'never') return { kind: 'never' };
        magic = true;
        tokens.push({ kind: 'class', cls: parsed.cls });
        index = parsed.end;
        continue;
      }
    }
    tokens.push({ kind: 'char', code });
    index += char.length;
  }
  if (!magic)
    return { kind: 'literal', text: String.fromCodePoint(...tokens.map((t) => (t as { code: number }).code)) };
  return { kind: 'tokens', tokens };
}

/** A path as matched: its segments, and each segment's code points (computed once, on demand). */
class Subject {
  readonly parts: string[];
  private readonly codes: (number[] | undefined)[] = [];
  constructor(relative: string) {
    this.parts = relative.split('/');
  }
  get last(): number {
    return this.parts.length - 1;
  }
  codesOf(index: number): number[] {
    let codes = this.codes[index];
    if (codes === undefined) {
      codes = Array.from(this.parts[index] as string, (char) => char.codePointAt(0) ?? 0);
      this.codes[index] = codes;
    }
    return codes;
  }
}

/** Classic wildcard matching: on a mismatch, go back to the last `*` only; O(pattern × text). */
function matchTokens(tokens: readonly Token[], codes: readonly number[], budget: Budget): boolean {
  let t = 0;
  let s = 0;
  let starT = -1;
  let starS = 0;
  while (s < codes.length) {
    budget.spend();
    const token = tokens[t];
    if (token !== undefined && token.kind === 'star') {
      starT = t;
      starS = s;
      t += 1;
      continue;
    }
    const code = codes[s] as number;
    if (
      token !== undefined &&
      (token.kind === 'any' ||
        (token.kind === 'char' && token.code === code) ||
        (token.kind === 'class' && classMatches(token.cls, code, budget)))
    ) {
      t += 1;
      s += 1;
      continue;
    }
    if (starT === -1) return false;
    t = starT + 1;
    starS += 1;
    s = starS;
  }
  while (tokens[t]?.kind === 'star') t += 1;
  return t === tokens.length;
}

function matchSegment(segment: Segment, subject: Subject, index: number, budget: Budget): boolean {
  switch (segment.kind) {
    case 'one':
      return true;
    case 'literal':
      budget.spend(1 + (segment.text.length >> 3));
      return segment.text === subject.parts[index];
    case 'tokens':
      return matchTokens(segment.tokens, subject.codesOf(index), budget);
    default:
      return false;
  }
}

/**
 * The same algorithm one level up: `**` is the star, each other segment matches one path segment.
 * `only`: match the last segment alone (the base name).
 */
function matchSegments(segments: readonly Segment[], subject: Subject, only: boolean, budget: Budget): boolean {
  const first = only ? subject.last : 0;
  const length = subject.parts.length;
  let p = 0;
  let s = first;
  let starP = -1;
  let starS = 0;
  while (s < length) {
    budget.spend();
    const segment = segments[p];
    if (segment?.kind === 'globstar') {
      starP = p;
      starS = s;
      p += 1;
      continue;
    }
    if (segment !== undefined && matchSegment(segment, subject, s, budget)) {
      p += 1;
      s += 1;
      continue;
    }
    if (starP === -1) return false;
    p = starP + 1;
    starS += 1;
    s = starS;
  }
  while (segments[p]?.kind === 'globstar') p += 1;
  return p === segments.length;
}

/** Brace groups and their nesting, counted without expanding anything. */
function checkBraces(pattern: string, label: string): void {
  let depth = 0;
  let groups = 0;
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '\\') index += 1;
    else if (char === '{') {
      groups += 1;
      depth += 1;
      if (depth > GLOB_LIMITS.braceDepth) {
        throw new FsError('INVALID_INPUT', `Braces nest more than ${GLOB_LIMITS.braceDepth} deep in ${label}`);
      }
    } else if (char === '}' && depth > 0) depth -= 1;
  }
  if (groups > GLOB_LIMITS.braceGroups) {
    throw new FsError('INVALID_INPUT', `${label} has more than ${GLOB_LIMITS.braceGroups} brace groups`);
  }
}

function compileOne(pattern: string, base: boolean, label: string): Compiled {
  // As minimatch: runs of `/` are one, a leading `/` leaves an empty first segment, `x/..` folds away.
  const raw = pattern.split(/\/+/);
  const parts: string[] = [];
  for (const part of raw) {
    const previous = parts.at(-1);
    if (part === '**' && previous === '**') continue;
    if (part === '..' && previous !== undefined && !['..', '.', '**'].includes(previous)) {
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  if (parts.length === 0) parts.push('');
  const segments = parts.map((part) => parseSegment(part, label));
  const globstars = segments.filter((segment) => segment.kind === 'globstar').length;
  if (globstars > GLOB_LIMITS.globstars) {
    throw new FsError('INVALID_INPUT', `${label} has more than ${GLOB_LIMITS.globstars} ** segments`);
  }
  // A trailing `**` must match at least one segment (minimatch: `a/**` does not match `a`).
  if (segments.at(-1)?.kind === 'globstar') segments.splice(segments.length - 1, 0, { kind: 'one' });
  return { segments, base };
}

/** One caller pattern: its expansions, and whether a leading `!` negates it. */
export class Glob {
  private constructor(
    readonly pattern: string,
    private readonly expansions: readonly Compiled[],
    private readonly negate: boolean,
  ) {}

  /** Checks and compiles a pattern; throws FsError('INVALID_INPUT') naming what is over a limit. */
  static compile(pattern: string): Glob {
    const label = quote(pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern);
    if (pattern.length === 0 || pattern.length > GLOB_LIMITS.length) {
      throw new FsError('INVALID_INPUT', `Glob patterns must be 1 to ${GLOB_LIMITS.length} characters`);
    }
    let body = pattern;
    let negate = false;
    while (body.startsWith('!')) {
      negate = !negate;
      body = body.slice(1);
    }
    checkBraces(body, label);
    const expanded = body === '' ? [''] : braceExpand(body, { braceExpandMax: GLOB_LIMITS.expansions + 1 });
    if (expanded.length > GLOB_LIMITS.expansions) {
      throw new FsError(
        'INVALID_INPUT',
        `${label} expands to more than ${GLOB_LIMITS.expansions} patterns; use fewer brace alternatives`,
      );
    }
    // No slash anywhere: match the base name at any depth (`*.md`), as the tools document.
    const base = !pattern.includes('/');
    return new Glob(
      pattern,
      expanded.map((one) => compileOne(one, base, label)),
      negate,
    );
  }

  get size(): number {
    return this.expansions.length;
  }

  /** `relative` is '/'-separated, without a leading `./` (what the walks produce). */
  match(relative: string | Subject, budget = new Budget(GLOB_LIMITS.matchSteps, quote(this.pattern))): boolean {
    const subject = typeof relative === 'string' ? new Subject(relative) : relative;
    const hit = this.expansions.some((compiled) => matchSegments(compiled.segments, subject, compiled.base, budget));
    return hit !== this.negate;
  }
}

/** The patterns of one call (a search pattern, an exclude list): compiled once, with a shared budget. */
export class GlobSet {
  private constructor(private readonly globs: readonly Glob[]) {}

  static compile(patterns: readonly string[] | undefined): GlobSet {
    const globs = (patterns ?? []).map((pattern) => Glob.compile(pattern));
    const total = globs.reduce((sum, glob) => sum + glob.size, 0);
    if (total > GLOB_LIMITS.totalExpansions) {
      throw new FsError(
        'INVALID_INPUT',
        `The patterns of this call expand to ${total} patterns, over the limit of ${GLOB_LIMITS.totalExpansions}`,
      );
    }
    return new GlobSet(globs);
  }

  get empty(): boolean {
    return this.globs.length === 0;
  }

  /** True when any pattern matches; the step budget covers all of them for this one path. */
  matchesAny(relative: string): boolean {
    const label = this.globs.length === 1 ? quote(this.globs[0]?.pattern ?? '') : 'of this call';
    const budget = new Budget(GLOB_LIMITS.matchSteps, label);
    const subject = new Subject(relative);
    return this.globs.some((glob) => glob.match(subject, budget));
  }
}
