/**
 * RFC 9309 matching, class by class: every unreserved character percent-encoded (lower and upper
 * hex) on either side, double encoding, reserved characters that must stay encoded, non-ASCII
 * paths, wildcards and `$`, query strings, specificity, groups, and hostile robots.txt files whose
 * matching must stay linear.
 */
import { describe, expect, it } from 'vitest';

import { decideRobots, normalizeRobotsPath, parseRobotsTxt, productToken } from '../src/robots-rules.js';

const TOKEN = 'modelcontextprotocol';
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const RESERVED = ":/?[]@!$&'()*+,;=";

const hex = (char: string, lower = false) => {
  const code = `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  return lower ? code.toLowerCase() : code;
};

/** Whether `robots` (rules for every agent) lets us fetch the path+query of `url`. */
async function allowed(robots: string, url: string): Promise<boolean> {
  const parsed = new URL(url, 'http://site.test');
  return (await decideRobots(parseRobotsTxt(robots, TOKEN), `${parsed.pathname}${parsed.search}`)).allowed;
}

const disallow = (pattern: string) => `User-agent: *\nDisallow: ${pattern}\n`;

describe('percent-encoding (RFC 9309 2.2.2)', () => {
  it('the issue case: /%70rivate/x is /private/x', async () => {
    expect(await allowed(disallow('/private'), '/%70rivate/x')).toBe(false);
    expect(await allowed(disallow('/private'), '/%50rivate/x')).toBe(true); // %50 is P: another path
  });

  it('every unreserved character, encoded in the URL with upper or lower hex, matches its rule', async () => {
    for (const char of UNRESERVED) {
      const robots = disallow(`/x${char}y`);
      for (const lower of [false, true]) {
        expect(await allowed(robots, `/x${hex(char, lower)}y/page`), `${char} as ${hex(char, lower)}`).toBe(false);
      }
      expect(await allowed(robots, `/x${char}y`)).toBe(false);
    }
  });

  it('every unreserved character encoded in the rule matches it written plainly in the URL', async () => {
    for (const char of UNRESERVED) {
      for (const lower of [false, true]) {
        expect(await allowed(disallow(`/x${hex(char, lower)}y`), `/x${char}y`), char).toBe(false);
      }
    }
  });

  it('a whole path encoded, character by character', async () => {
    const encoded = [...'private'].map((char) => hex(char)).join('');
    expect(await allowed(disallow('/private/'), `/${encoded}/secret`)).toBe(false);
    expect(await allowed(disallow(`/${encoded.toLowerCase()}/`), '/private/secret')).toBe(false);
  });

  it('double encoding is not decoded twice: %2570 is "%70", not "p"', async () => {
    expect(await allowed(disallow('/private'), '/%2570rivate')).toBe(true);
    expect(await allowed(disallow('/p'), '/%2570')).toBe(true);
    expect(await allowed(disallow('/%2570rivate'), '/private')).toBe(true);
    expect(await allowed(disallow('/%2570rivate'), '/%2570rivate')).toBe(false);
    expect(await allowed(disallow('/%25'), '/%25anything')).toBe(false);
  });

  it('reserved characters stay encoded: %2F is not a path separator', async () => {
    expect(await allowed(disallow('/a/b'), '/a%2Fb')).toBe(true);
    expect(await allowed(disallow('/a/b'), '/a%2fb')).toBe(true);
    expect(await allowed(disallow('/a%2Fb'), '/a/b')).toBe(true);
    expect(await allowed(disallow('/a%2fb'), '/a%2Fb')).toBe(false); // hex case does not matter
    for (const char of RESERVED) {
      if (char === '*' || char === '$') continue; // wildcard and anchor in rules: see below
      expect(await decideRobots(parseRobotsTxt(disallow(`/a${char}b`), TOKEN), `/a${hex(char)}b`), char).toEqual({
        allowed: true,
      });
      const rule = parseRobotsTxt(disallow(`/a${hex(char, true)}b`), TOKEN);
      expect((await decideRobots(rule, `/a${hex(char)}b`)).allowed, char).toBe(false);
    }
  });

  it('a % that starts no escape is a literal %', async () => {
    expect(normalizeRobotsPath('/100%')).toBe('/100%25');
    expect(normalizeRobotsPath('/%zz')).toBe('/%25zz');
    expect(await allowed(disallow('/100%'), '/100%25')).toBe(false);
  });

  it('characters a URI cannot carry literally are compared in their encoded form', async () => {
    expect(normalizeRobotsPath('/a b|c"d<e>f^g`h{i}j\\k')).toBe('/a%20b%7Cc%22d%3Ce%3Ef%5Eg%60h%7Bi%7Dj%5Ck');
    expect(await allowed(disallow('/a|b'), '/a%7Cb')).toBe(false);
    expect(await allowed(disallow('/a%7cb'), '/a|b')).toBe(false);
    expect(await allowed(disallow('/a b'), '/a%20b')).toBe(false);
  });
});

describe('non-ASCII paths', () => {
  const cases = ['/café', '/foo/bar/ツ', '/Ünïcödé', '/emoji/😀', '/ελληνικά'];

  it('a rule written in UTF-8 matches the URL (which the URL parser percent-encodes), in any hex case', async () => {
    for (const text of cases) {
      const encoded = new URL(text, 'http://site.test').pathname;
      expect(encoded).not.toBe(text);
      expect(await allowed(disallow(text), text), text).toBe(false);
      expect(await allowed(disallow(text), encoded.toLowerCase()), text).toBe(false);
      expect(await allowed(disallow(encoded.toLowerCase()), text), text).toBe(false);
      expect(await allowed(disallow(text), text.replace(/.$/u, 'x')), text).toBe(true);
    }
  });

  it('follows the RFC 9309 table', () => {
    expect(normalizeRobotsPath('/foo/bar?baz=quz')).toBe('/foo/bar?baz=quz');
    expect(normalizeRobotsPath('/foo/bar?baz=https%3A%2F%2Ffoo.bar')).toBe('/foo/bar?baz=https%3A%2F%2Ffoo.bar');
    expect(normalizeRobotsPath('/foo/bar/\u30c4')).toBe('/foo/bar/%E3%83%84');
    expect(normalizeRobotsPath('/foo/bar/%E3%83%84')).toBe('/foo/bar/%E3%83%84');
    expect(normalizeRobotsPath('/foo/bar/%62%61%7A')).toBe('/foo/bar/baz');
  });
});

describe('wildcards, $ and queries', () => {
  it('* matches any run, $ anchors the end', async () => {
    const robots = disallow('/*.pdf$');
    expect(await allowed(robots, '/docs/a.pdf')).toBe(false);
    expect(await allowed(robots, '/docs/a.pdf?download=1')).toBe(true);
    expect(await allowed(robots, '/docs/a%2Epdf')).toBe(false); // %2E is an unreserved "."
    expect(await allowed(robots, '/docs/a.PDF')).toBe(true);
    expect(await allowed(disallow('/a*b*c'), '/a-x-b-y-c-z')).toBe(false);
    expect(await allowed(disallow('/a*b*c'), '/a-x-c-y-b')).toBe(true);
    expect(await allowed(disallow('/*$'), '/anything')).toBe(false);
    expect(await allowed(disallow('/fish$'), '/fish')).toBe(false);
    expect(await allowed(disallow('/fish$'), '/fish/')).toBe(true);
    expect(await allowed(disallow('/a$b'), '/a$b')).toBe(false); // $ inside a rule is literal
  });

  it('encoded unreserved characters match around wildcards', async () => {
    expect(await allowed(disallow('/*%70rivate'), '/x/private')).toBe(false);
    expect(await allowed(disallow('/*private'), '/x/%70%72ivate')).toBe(false);
  });

  it('a literal asterisk is %2A in a rule and never a wildcard', async () => {
    expect(await allowed(disallow('/a%2Ab'), '/a-anything-b')).toBe(true);
    expect(await allowed(disallow('/a%2ab'), '/a%2Ab')).toBe(false);
  });

  it('queries take part, with the same normalisation', async () => {
    const robots = disallow('/search?q=');
    expect(await allowed(robots, '/search?q=cats')).toBe(false);
    expect(await allowed(robots, '/search?%71=cats')).toBe(false); // %71 is q
    expect(await allowed(robots, '/search?Q=cats')).toBe(true);
    expect(await allowed(robots, '/search')).toBe(true);
    expect(await allowed(disallow('/*?*sessionid='), '/page?a=1&sessionid=2')).toBe(false);
  });
});

describe('specificity and groups', () => {
  it('the longest match wins, and allow wins a tie, whatever the spelling', async () => {
    const robots = 'User-agent: *\nDisallow: /%70\nAllow: /p\nDisallow: /pr\n';
    expect(await allowed(robots, '/p')).toBe(true);
    expect(await allowed(robots, '/private')).toBe(false);
    const decision = await decideRobots(parseRobotsTxt(robots, TOKEN), '/private');
    expect(decision).toEqual({ allowed: false, rule: { allow: false, pattern: '/pr', line: 4 } });
    expect(await allowed('User-agent: *\nDisallow: /\nAllow: /%70ublic/\n', '/public/x')).toBe(true);
  });

  it('picks our product token, case-insensitively, merging its groups; else *', async () => {
    const robots = [
      'Disallow: /before-any-group',
      'User-agent: *',
      'Disallow: /star',
      'User-agent: OtherBot',
      'User-agent: modelContextProtocol/2.0',
      'Sitemap: https://site.test/sitemap.xml',
      'Disallow: /first',
      'User-agent: MODELCONTEXTPROTOCOL',
      'Crawl-delay: 3',
      'Disalow: /second',
    ].join('\r\n');
    const rules = parseRobotsTxt(robots, productToken('ModelContextProtocol/1.0 (mcp-sse-fetch; autonomous)'));
    expect(rules.rules.map((rule) => rule.pattern).sort()).toEqual(['/first', '/second']);
    expect(parseRobotsTxt(robots, 'somebot').rules.map((rule) => rule.pattern)).toEqual(['/star']);
    expect(parseRobotsTxt('User-agent: x\nDisallow: /\n', 'y').rules).toEqual([]);
  });

  it('reads comments, a BOM, bare CR line ends and an empty Disallow', async () => {
    const robots = '\uFEFFUser-agent: * # everyone\rDisallow: /a # not /b\rDisallow:\r';
    expect(await allowed(robots, '/a')).toBe(false);
    expect(await allowed(robots, '/b')).toBe(true);
    expect(await allowed(disallow('/'), '/robots.txt')).toBe(true);
  });
});

describe('hostile robots.txt files', () => {
  it('one very long wildcard rule is matched in one pass', async () => {
    const robots = disallow(`/${'*a'.repeat(100_000)}b`);
    const rules = parseRobotsTxt(robots, TOKEN);
    expect(await decideRobots(rules, `/${'a'.repeat(8000)}`)).toEqual({ allowed: true });
    expect((await decideRobots(rules, `/${'a'.repeat(100_000)}b`)).allowed).toBe(false);
  });

  it('tens of thousands of wildcard rules against a long path finish, yielding to the event loop', async () => {
    const robots = `User-agent: *\n${Array.from({ length: 40_000 }, (_, i) => `Disallow: /*a*a*${i}*z$`).join('\n')}\n`;
    const rules = parseRobotsTxt(robots, TOKEN);
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 1);
    try {
      expect(await decideRobots(rules, `/${'a'.repeat(8000)}`)).toEqual({ allowed: true });
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(0);
  });
});
