import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { afterAll, describe, expect, it } from 'vitest';

import { configSchema } from '../src/config.js';
import { resolveConnectionString } from '../src/connection-string.js';

const examplePath = new URL('../../../config/postgres.env.example', import.meta.url);
const URL_ONLY = { DATABASE_URL: 'postgresql://app@db:5432/app' };

describe('config/postgres.env.example', () => {
  const text = readFileSync(examplePath, 'utf8');
  const env = parseEnvFile(text);

  it('parses with the service schema and matches the defaults', () => {
    const fromExample = loadConfig(configSchema, env);
    const defaults = loadConfig(configSchema, { DATABASE_URL: env['DATABASE_URL'] });
    expect(fromExample).toEqual(defaults);
    expect(fromExample.PORT).toBe(8001);
    expect(fromExample.POSTGRES_ACCESS_MODE).toBe('read_only');
  });

  it('lists every variable of the schema, and nothing else', () => {
    expect(Object.keys(env).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('holds no password', () => {
    expect(new URL(env['DATABASE_URL'] ?? '').password).toBe('');
  });

  it('has a comment before every variable', () => {
    expect(variablesWithoutComment(text)).toEqual([]);
  });
});

describe('configSchema', () => {
  it('has the documented defaults', () => {
    expect(loadConfig(configSchema, URL_ONLY)).toMatchObject({
      PORT: 8001,
      POSTGRES_ACCESS_MODE: 'read_only',
      POSTGRES_STATEMENT_TIMEOUT_MS: 30_000,
      POSTGRES_MAX_ROWS: 1000,
      POSTGRES_POOL_MAX: 10,
      POSTGRES_POOL_IDLE_TIMEOUT_MS: 30_000,
      POSTGRES_CONNECT_TIMEOUT_MS: 5000,
      POSTGRES_HEALTH_TIMEOUT_MS: 2000,
      POSTGRES_APPLICATION_NAME: 'mcp-postgres',
    });
  });

  it('needs exactly one of DATABASE_URL and DATABASE_URL_FILE', () => {
    expect(() => loadConfig(configSchema, {})).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, {})).toThrow(/^DATABASE_URL: set DATABASE_URL \(a postgres:\/\/ connection/);
    expect(() =>
      loadConfig(configSchema, { DATABASE_URL: 'postgresql://app:pw@db/app', DATABASE_URL_FILE: '/run/secrets/url' }),
    ).toThrow(/^DATABASE_URL_FILE: set DATABASE_URL or DATABASE_URL_FILE, not both \(got "\/run\/secrets\/url"\)$/);
    expect(loadConfig(configSchema, { DATABASE_URL_FILE: '/run/secrets/url' }).DATABASE_URL_FILE).toBe(
      '/run/secrets/url',
    );
  });

  it('rejects bad values with one line naming the variable', () => {
    expect(() => loadConfig(configSchema, { ...URL_ONLY, POSTGRES_ACCESS_MODE: 'rw' })).toThrow(
      /^POSTGRES_ACCESS_MODE: /,
    );
    expect(() => loadConfig(configSchema, { ...URL_ONLY, POSTGRES_MAX_ROWS: '0' })).toThrow(/^POSTGRES_MAX_ROWS: /);
    expect(() => loadConfig(configSchema, { ...URL_ONLY, POSTGRES_POOL_MAX: '0' })).toThrow(/^POSTGRES_POOL_MAX: /);
    expect(() => loadConfig(configSchema, { ...URL_ONLY, POSTGRES_STATEMENT_TIMEOUT_MS: 'soon' })).toThrow(
      /^POSTGRES_STATEMENT_TIMEOUT_MS: /,
    );
  });

  it('reads POSTGRES_ALLOWED_FUNCTIONS as names or schema.names, and refuses anything else', () => {
    expect(loadConfig(configSchema, URL_ONLY).POSTGRES_ALLOWED_FUNCTIONS).toEqual([]);
    expect(
      loadConfig(configSchema, { ...URL_ONLY, POSTGRES_ALLOWED_FUNCTIONS: ' similarity, public.digest ,' })
        .POSTGRES_ALLOWED_FUNCTIONS,
    ).toEqual(['similarity', 'public.digest']);
    for (const bad of ['lower()', 'a.b.c', 'x; DROP TABLE t', '"quoted"']) {
      expect(() => loadConfig(configSchema, { ...URL_ONLY, POSTGRES_ALLOWED_FUNCTIONS: bad }), bad).toThrow(
        /^POSTGRES_ALLOWED_FUNCTIONS: ".*" is not a function name \(name or schema\.name, as stored in the catalog\)/,
      );
    }
  });
});

describe('resolveConnectionString', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-postgres-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads DATABASE_URL_FILE and drops the trailing newline', () => {
    const file = join(dir, 'url');
    writeFileSync(file, 'postgresql://app:s3cret@db:5432/app\n');
    expect(resolveConnectionString({ DATABASE_URL_FILE: file })).toBe('postgresql://app:s3cret@db:5432/app');
  });

  it('names the problem without echoing the value', () => {
    const missing = join(dir, 'missing');
    expect(() => resolveConnectionString({ DATABASE_URL_FILE: missing })).toThrow(
      `DATABASE_URL_FILE: cannot read ${missing}: ENOENT`,
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => resolveConnectionString({ DATABASE_URL_FILE: empty })).toThrow(`DATABASE_URL_FILE: ${empty} is empty`);
    const bad = 'mysql://app:s3cret@db/app';
    expect(() => resolveConnectionString({ DATABASE_URL: bad })).toThrow(
      'DATABASE_URL: the connection string must start with postgres:// or postgresql://',
    );
    const broken = 'postgresql://app:p@ss:w0rd#@db/app';
    let message = '';
    try {
      resolveConnectionString({ DATABASE_URL: broken });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'DATABASE_URL: the connection string is not a valid URL (percent-encode special characters in the password)',
    );
    expect(message).not.toContain('w0rd');
  });
});
