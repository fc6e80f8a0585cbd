import { describe, expect, it } from 'vitest';

import {
  contentHash,
  normaliseContent,
  normaliseMetadata,
  normaliseTag,
  normaliseTags,
  parseHash,
  parseInstant,
} from '../src/normalise.js';

const limits = { maxContentBytes: 100, maxMetadataBytes: 64, maxTags: 3, maxTagLength: 10 };

describe('content and its hash', () => {
  it('trims surrounding whitespace of every kind and keeps the inside byte for byte', () => {
    for (const padded of ['  note  ', '\nnote\t', '\u00a0note\u2003', '\r\nnote\u3000', '\ufeffnote']) {
      expect(normaliseContent(padded, limits)).toBe('note');
    }
    expect(normaliseContent('a  b', limits)).toBe('a  b');
    expect(normaliseContent('Note', limits)).not.toBe(normaliseContent('note', limits));
    // Composed and decomposed é are different bytes, so different memories.
    expect(contentHash(normaliseContent('caf\u00e9', limits))).not.toBe(
      contentHash(normaliseContent('cafe\u0301', limits)),
    );
  });

  it('hashes the UTF-8 bytes with SHA-256', () => {
    expect(contentHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses empty, oversized, NUL and lone-surrogate content', () => {
    expect(() => normaliseContent(' \n\t ', limits)).toThrow('content is empty');
    expect(() => normaliseContent('x'.repeat(101), limits)).toThrow(
      'content is 101 bytes; the limit is 100 (MEMORY_MAX_CONTENT_BYTES)',
    );
    // Counted in UTF-8 bytes, not characters: 34 × 3 bytes.
    expect(() => normaliseContent('€'.repeat(34), limits)).toThrow('content is 102 bytes');
    expect(() => normaliseContent('a\u0000b', limits)).toThrow('NUL');
    expect(() => normaliseContent('a\ud800b', limits)).toThrow('lone surrogate');
    expect(() => normaliseContent('a\udc00', limits)).toThrow('lone surrogate');
    expect(normaliseContent('😀', limits)).toBe('😀');
  });
});

describe('hashes', () => {
  const hash = 'a'.repeat(64);
  it('accepts 64 hex digits in either case, answered in lowercase', () => {
    expect(parseHash(hash)).toBe(hash);
    expect(parseHash('A'.repeat(64))).toBe(hash);
  });

  it.each([
    ['short', 'a'.repeat(63)],
    ['long', 'a'.repeat(65)],
    ['not hex', 'g'.repeat(64)],
    ['sql', `${'a'.repeat(60)}' OR 1=1 --`],
    ['wildcard', `${'a'.repeat(63)}%`],
    ['empty', ''],
    ['fullwidth digits', '１'.repeat(64)],
  ])('refuses a %s hash', (_label, bad) => {
    expect(() => parseHash(bad)).toThrow('is not a content hash (64 hexadecimal digits)');
  });
});

describe('tags', () => {
  it('has one spelling per tag', () => {
    expect(normaliseTag('Project X', 20)).toBe('project-x');
    expect(normaliseTag('  PROJECT\t x ', 20)).toBe('project-x');
    expect(normaliseTag('ＰＲＯＪＥＣＴ', 20)).toBe('project');
    expect(normaliseTag('Straße', 20)).toBe('straße');
    expect(normaliseTag('v1.2:beta/x_y', 20)).toBe('v1.2:beta/x_y');
    expect(normaliseTags(['B', 'a', 'b ', 'A'], limits)).toEqual(['a', 'b']);
  });

  it.each([
    ['empty', '  '],
    ['comma', 'a,b'],
    ['quote', 'a"b'],
    ['control character', 'a\u0007b'],
    ['leading dash', '-a'],
    ['trailing dot', 'a.'],
    ['percent', '100%'],
    ['emoji', '😀'],
    ['newline inside', 'a\nb'.replace('\n', '\u0000')],
  ])('refuses a tag with %s', (_label, bad) => {
    expect(() => normaliseTag(bad, 20)).toThrow(/tag|empty/);
  });

  it('bounds the length and the count', () => {
    expect(() => normaliseTag('x'.repeat(11), 10)).toThrow('longer than 10 characters (MEMORY_MAX_TAG_LENGTH)');
    expect(() => normaliseTags(['a', 'b', 'c', 'd'], limits)).toThrow('4 tags; at most 3 (MEMORY_MAX_TAGS)');
    // Duplicates collapse before counting.
    expect(normaliseTags(['a', 'A', 'a ', 'b', 'c'], limits)).toEqual(['a', 'b', 'c']);
    expect(() =>
      normaliseTags(
        Array.from({ length: 13 }, () => 'a'),
        limits,
      ),
    ).toThrow('13 tags');
  });
});

describe('metadata', () => {
  it('is compact JSON within the limit', () => {
    expect(normaliseMetadata({ a: 1, b: [true, null] }, limits)).toBe('{"a":1,"b":[true,null]}');
    expect(() => normaliseMetadata({ a: 'x'.repeat(64) }, limits)).toThrow(
      'metadata is 72 bytes of JSON; the limit is 64',
    );
  });

  it('refuses deep nesting', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(() => normaliseMetadata(deep, { maxMetadataBytes: 10_000 })).toThrow('nested more than 16 levels');
  });
});

describe('instants', () => {
  it('reads ISO dates and date-times (UTC unless zoned)', () => {
    expect(parseInstant('2026-03-01', 'after')).toBe(Date.UTC(2026, 2, 1));
    expect(parseInstant('2026-03-01T12:30:00Z', 'after')).toBe(Date.UTC(2026, 2, 1, 12, 30));
    expect(parseInstant('2026-03-01T12:30', 'after')).toBe(Date.UTC(2026, 2, 1, 12, 30));
    expect(parseInstant('2026-03-01T12:30:00+02:00', 'after')).toBe(Date.UTC(2026, 2, 1, 10, 30));
  });

  it.each(['yesterday', '2026-02-30', '2026-13-01', '1 March', '2026-03-01; DROP', ''])('refuses %j', (bad) => {
    expect(() => parseInstant(bad, 'before')).toThrow(/^before /);
  });
});
