import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { afterAll, describe, expect, it } from 'vitest';

import { checkApiUrl, normalizeApiUrl } from '../src/api-url.js';
import { configObjectSchema, configSchema } from '../src/config.js';
import { resolveToken } from '../src/token.js';

const examplePath = new URL('../../../config/github.env.example', import.meta.url);
const FILE_ONLY = { GITHUB_TOKEN_FILE: '/run/secrets/github_token' };

describe('config/github.env.example', () => {
  const text = readFileSync(examplePath, 'utf8');
  const env = parseEnvFile(text);

  it('parses with the service schema and matches the defaults', () => {
    const fromExample = loadConfig(configSchema, env);
    expect(fromExample).toEqual(loadConfig(configSchema, FILE_ONLY));
    expect(fromExample.PORT).toBe(8004);
    expect(fromExample.GITHUB_API_URL).toBe('https://api.github.com');
  });

  it('lists every variable of the schema, and nothing else', () => {
    expect(Object.keys(env).sort()).toEqual(Object.keys(configObjectSchema.shape).sort());
  });

  it('holds no token', () => {
    expect(env['GITHUB_TOKEN']).toBe('');
  });

  it('has a comment before every variable', () => {
    expect(variablesWithoutComment(text)).toEqual([]);
  });
});

describe('configSchema', () => {
  it('has the documented defaults', () => {
    expect(loadConfig(configSchema, FILE_ONLY)).toMatchObject({
      PORT: 8004,
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_LOCKDOWN: false,
      GITHUB_LOCKDOWN_CACHE_MS: 600_000,
      GITHUB_RATE_LIMIT_MAX_WAIT_MS: 10_000,
      GITHUB_MAX_BODY_CHARS: 8000,
      GITHUB_MAX_PATCH_CHARS: 20_000,
      GITHUB_MAX_FILE_BYTES: 1024 * 1024,
      GITHUB_MAX_RESPONSE_BYTES: 32 * 1024 * 1024,
      MCP_READ_ONLY: false,
      MCP_TOOLSETS: [],
    });
  });

  it('needs exactly one of GITHUB_TOKEN and GITHUB_TOKEN_FILE, and never shows the token', () => {
    expect(() => loadConfig(configSchema, {})).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, {})).toThrow(
      /^GITHUB_TOKEN: set GITHUB_TOKEN \(a GitHub token\) or GITHUB_TOKEN_FILE/,
    );
    let message = '';
    try {
      loadConfig(configSchema, { GITHUB_TOKEN: 'ghp_secretvalue', GITHUB_TOKEN_FILE: '/run/secrets/t' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('GITHUB_TOKEN_FILE: set GITHUB_TOKEN or GITHUB_TOKEN_FILE, not both (got "/run/secrets/t")');
    expect(message).not.toContain('secretvalue');
  });

  it('rejects a bad GITHUB_API_URL, naming the variable', () => {
    for (const bad of [
      'api.github.com',
      'ftp://ghe.example/api/v3',
      'https://user:pw@ghe.example/api/v3',
      'https://ghe.example/api/v3?x=1',
    ]) {
      expect(() => loadConfig(configSchema, { ...FILE_ONLY, GITHUB_API_URL: bad })).toThrow(/^GITHUB_API_URL: /);
    }
    expect(
      loadConfig(configSchema, { ...FILE_ONLY, GITHUB_API_URL: 'https://ghe.example/api/v3/' }).GITHUB_API_URL,
    ).toBe('https://ghe.example/api/v3/');
  });

  it('rejects bad numbers with one line naming the variable', () => {
    expect(() => loadConfig(configSchema, { ...FILE_ONLY, GITHUB_MAX_BODY_CHARS: '10' })).toThrow(
      /^GITHUB_MAX_BODY_CHARS: /,
    );
    expect(() => loadConfig(configSchema, { ...FILE_ONLY, GITHUB_MAX_RESPONSE_BYTES: 'lots' })).toThrow(
      /^GITHUB_MAX_RESPONSE_BYTES: /,
    );
    expect(() => loadConfig(configSchema, { ...FILE_ONLY, GITHUB_LOCKDOWN: 'maybe' })).toThrow(/^GITHUB_LOCKDOWN: /);
  });
});

describe('api-url', () => {
  it('accepts github.com and Enterprise Server roots, without a trailing slash', () => {
    expect(checkApiUrl('https://api.github.com')).toBeUndefined();
    expect(checkApiUrl('http://github-stand-in:9000')).toBeUndefined();
    expect(normalizeApiUrl('https://ghe.example/api/v3//')).toBe('https://ghe.example/api/v3');
  });
});

describe('resolveToken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-github-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads GITHUB_TOKEN_FILE and drops surrounding whitespace', () => {
    const file = join(dir, 'token');
    writeFileSync(file, '  ghp_fromfile123\n');
    expect(resolveToken({ GITHUB_TOKEN_FILE: file })).toBe('ghp_fromfile123');
    expect(resolveToken({ GITHUB_TOKEN: ' github_pat_11AAA_bbb ' })).toBe('github_pat_11AAA_bbb');
  });

  it('names the problem without echoing the value', () => {
    const missing = join(dir, 'missing');
    expect(() => resolveToken({ GITHUB_TOKEN_FILE: missing })).toThrow(
      `GITHUB_TOKEN_FILE: cannot read ${missing}: ENOENT`,
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n\n');
    expect(() => resolveToken({ GITHUB_TOKEN_FILE: empty })).toThrow(`GITHUB_TOKEN_FILE: ${empty} is empty`);
    // A token must be one header value: a line break or a space would make it two things.
    for (const bad of ['ghp_one\nX-Injected: 1', 'ghp_a b', 'ghp_é', 'x'.repeat(1025)]) {
      let message = '';
      try {
        resolveToken({ GITHUB_TOKEN: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toBe(
        'GITHUB_TOKEN: the token must be one line of visible ASCII characters without spaces, at most 1024 long',
      );
    }
    const twoLines = join(dir, 'two-lines');
    writeFileSync(twoLines, 'ghp_first\nghp_second\n');
    expect(() => resolveToken({ GITHUB_TOKEN_FILE: twoLines })).toThrow(
      /^GITHUB_TOKEN_FILE: the token must be one line/,
    );
  });
});
