import { describe, expect, it } from 'vitest';

import {
  checkAssigneeFilter,
  checkHead,
  checkLabel,
  checkLoginOrEmail,
  checkOwner,
  checkPath,
  checkRef,
  checkRepo,
  checkText,
} from '../src/names.js';

/** Values that try to leave their place in a URL, in several spellings. */
const ESCAPES = [
  'a/../../orgs/x',
  '../x',
  '..',
  '.',
  'a/b',
  'a%2Fb',
  'a%2fb',
  'a%252Fb',
  'a\\b',
  'a?x=1',
  'a#frag',
  'a&b=c',
  'a b',
  'a\nb',
  'a\r\nX-Injected: 1',
  'a\u0000b',
  'a\tb',
  'a\u0085b',
  '',
  '-a',
  'ａ',
  'a'.repeat(101),
];

describe('checkOwner', () => {
  it('accepts logins, organization names and managed-user shortcodes', () => {
    for (const ok of ['octocat', 'octo-org', 'a', 'A1', 'x'.repeat(39), 'octocat_acme', '0day']) {
      expect(checkOwner(ok), ok).toBeUndefined();
    }
  });

  it('refuses every value that is not one name', () => {
    for (const bad of ESCAPES) expect(checkOwner(bad), JSON.stringify(bad)).toBeTypeOf('string');
  });
});

describe('checkRepo', () => {
  it('accepts repository names with dots, hyphens and underscores', () => {
    for (const ok of ['hello', 'hello.js', '.github', 'my_repo-2', 'a..b', 'x'.repeat(100)]) {
      expect(checkRepo(ok), ok).toBeUndefined();
    }
  });

  it('refuses "." and "..", slashes, encodings and control characters', () => {
    for (const bad of ESCAPES.filter((value) => value !== '-a' && value !== 'ａ' && value !== 'a')) {
      expect(checkRepo(bad), JSON.stringify(bad)).toBeTypeOf('string');
    }
  });
});

describe('checkPath', () => {
  it('accepts paths, odd but legal file names, and "" for the root', () => {
    for (const ok of [
      '',
      'README.md',
      'src/index.ts',
      'docs/a?b#c%2e.md',
      '.github/workflows/ci.yml',
      'a..b/c',
      'ü/日本.md',
    ]) {
      expect(checkPath(ok), ok).toBeUndefined();
    }
  });

  it('refuses traversal, empty components, backslashes and control characters', () => {
    for (const bad of [
      '..',
      '../x',
      'a/../b',
      'a/./b',
      './a',
      'a/..',
      '/a',
      'a/',
      'a//b',
      'a\\b',
      'a\nb',
      'a\u0000b',
      'a\u007fb',
      'x'.repeat(4097),
    ]) {
      expect(checkPath(bad), JSON.stringify(bad)).toBeTypeOf('string');
    }
  });
});

describe('checkRef', () => {
  it('accepts branches, tags and SHAs', () => {
    for (const ok of ['main', 'feature/x', 'v1.2.3', 'release-2025.01', 'a'.repeat(40), 'fix/#123', 'user@host']) {
      expect(checkRef(ok), ok).toBeUndefined();
    }
  });

  it("refuses what git's ref rules refuse", () => {
    for (const bad of [
      '',
      '..',
      'a..b',
      '../main',
      'a//b',
      '/main',
      'main/',
      'main.',
      'main.lock',
      '-main',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[',
      'a\\b',
      'a@{1}',
      '@',
      'a/.hidden',
      '.hidden',
      'a\nb',
      'a\u0000',
      'x'.repeat(256),
    ]) {
      expect(checkRef(bad), JSON.stringify(bad)).toBeTypeOf('string');
    }
  });
});

describe('checkHead, checkLoginOrEmail, checkAssigneeFilter, checkLabel, checkText', () => {
  it('head: a branch, or owner:branch', () => {
    expect(checkHead('feature/x')).toBeUndefined();
    expect(checkHead('mallory:feature/x')).toBeUndefined();
    for (const bad of ['a/../b:main', 'mallory:', ':main', 'a:b:c', 'mallory:../x'])
      expect(checkHead(bad), bad).toBeTypeOf('string');
  });

  it('author: a login or an e-mail address', () => {
    for (const ok of ['alice', 'alice@example.com', 'a.b+c@sub.example'])
      expect(checkLoginOrEmail(ok), ok).toBeUndefined();
    for (const bad of ['a b', 'a@b c', '<a@b>', 'a/b', '@', 'a\n@b', `${'x'.repeat(251)}@b.c`]) {
      expect(checkLoginOrEmail(bad), bad).toBeTypeOf('string');
    }
  });

  it('assignee filter: a login, none or *', () => {
    for (const ok of ['alice', 'none', '*']) expect(checkAssigneeFilter(ok)).toBeUndefined();
    for (const bad of ['**', 'a b', 'a/b', '']) expect(checkAssigneeFilter(bad)).toBeTypeOf('string');
  });

  it('label: no commas or control characters', () => {
    for (const ok of ['bug', 'needs triage', 'kind/bug', 'ü']) expect(checkLabel(ok)).toBeUndefined();
    for (const bad of ['a,b', '', 'a\nb', 'x'.repeat(101)]) expect(checkLabel(bad)).toBeTypeOf('string');
  });

  it('text: newlines and tabs yes, other control characters no', () => {
    expect(checkText('line 1\nline 2\r\n\tindented')).toBeUndefined();
    for (const bad of ['a\u0000', 'a\u0007', 'a\u001b[31m', 'a\u007f', 'a\u0085'])
      expect(checkText(bad), JSON.stringify(bad)).toBeTypeOf('string');
  });
});
