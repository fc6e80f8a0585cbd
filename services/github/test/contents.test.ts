import { describe, expect, it } from 'vitest';

import { decodeBase64Prefix, textOf } from '../src/contents.js';
import { GitHubError } from '../src/github-error.js';

/** GitHub's base64: lines of 60 characters. */
const githubBase64 = (bytes: Buffer) => (bytes.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n';

describe('decodeBase64Prefix', () => {
  it("decodes GitHub's line-wrapped base64 and reports the full size", () => {
    for (const size of [0, 1, 2, 3, 44, 45, 46, 1000]) {
      const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 256));
      expect(decodeBase64Prefix(githubBase64(bytes), 10_000)).toEqual({ bytes, size });
    }
  });

  it('decodes only the prefix asked for', () => {
    const bytes = Buffer.from('0123456789'.repeat(100));
    for (const max of [1, 2, 3, 4, 5, 100, 999]) {
      const decoded = decodeBase64Prefix(githubBase64(bytes), max);
      expect(decoded).toEqual({ bytes: bytes.subarray(0, max), size: 1000 });
    }
  });

  it('refuses what Buffer would silently skip', () => {
    for (const bad of ['abc', 'ab!d', 'ab=d', 'YWJj\u0000', 'YWJj====', 'Y W J j']) {
      expect(() => decodeBase64Prefix(bad, 100), JSON.stringify(bad)).toThrow(GitHubError);
    }
    expect(() => decodeBase64Prefix('%%%%', 100)).toThrow("GitHub's answer holds malformed base64 content");
  });
});

describe('textOf', () => {
  it('UTF-8 text comes back as text', () => {
    expect(textOf(Buffer.from('héllo ✓ 🎉'), true)).toBe('héllo ✓ 🎉');
    expect(textOf(Buffer.alloc(0), true)).toBe('');
  });

  it('NUL bytes or invalid UTF-8 mean binary', () => {
    expect(textOf(Buffer.from([0x68, 0x00, 0x69]), true)).toBeUndefined();
    expect(textOf(Buffer.from([0x63, 0x61, 0x66, 0xe9]), true)).toBeUndefined();
    expect(textOf(Buffer.from([0x89, 0x50, 0x4e, 0x47]), true)).toBeUndefined();
  });

  it('a character cut at the end of a prefix is dropped, not taken for binary', () => {
    const bytes = Buffer.from('ab🎉');
    expect(textOf(bytes.subarray(0, 4), false)).toBe('ab');
    expect(textOf(bytes.subarray(0, 4), true)).toBeUndefined();
  });
});
