import { readFileSync } from 'node:fs';

import { ConfigError, loadConfig } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { configSchema, DEFAULT_USER_AGENT } from '../src/config.js';

const examplePath = new URL('../../../config/fetch.env.example', import.meta.url);

describe('config/fetch.env.example', () => {
  const text = readFileSync(examplePath, 'utf8');
  const env = parseEnvFile(text);

  it('parses with the service schema and matches the defaults', () => {
    const fromExample = loadConfig(configSchema, env);
    expect(fromExample).toEqual({ ...loadConfig(configSchema, {}), MCP_CONFIG_FILE: undefined });
    expect(fromExample.PORT).toBe(8002);
    expect(fromExample.FETCH_USER_AGENT).toBe(DEFAULT_USER_AGENT);
  });

  it('lists every variable of the schema, and nothing else', () => {
    expect(Object.keys(env).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('has a comment before every variable', () => {
    expect(variablesWithoutComment(text)).toEqual([]);
  });
});

describe('configSchema', () => {
  it('has safe defaults', () => {
    expect(loadConfig(configSchema, {})).toMatchObject({
      PORT: 8002,
      FETCH_USER_AGENT: 'ModelContextProtocol/1.0 (mcp-sse-fetch; autonomous)',
      FETCH_TIMEOUT_MS: 30_000,
      FETCH_MAX_BODY_BYTES: 5 * 1024 * 1024,
      FETCH_MAX_REDIRECTS: 5,
      FETCH_DEFAULT_MAX_LENGTH: 20_000,
      FETCH_CONCURRENCY: 4,
      FETCH_MAX_URLS: 20,
      FETCH_IGNORE_ROBOTS: false,
      FETCH_ROBOTS_CACHE_TTL_MS: 3_600_000,
      FETCH_ALLOW_PRIVATE: false,
      FETCH_ALLOWED_HOSTS: [],
      FETCH_DENIED_HOSTS: [],
    });
  });

  it('reads lists and booleans', () => {
    const config = loadConfig(configSchema, {
      FETCH_ALLOWED_HOSTS: 'intranet.corp, *.svc.local,10.0.0.0/8',
      FETCH_DENIED_HOSTS: 'ads.example',
      FETCH_ALLOW_PRIVATE: 'yes',
      FETCH_IGNORE_ROBOTS: '1',
    });
    expect(config.FETCH_ALLOWED_HOSTS).toEqual(['intranet.corp', '*.svc.local', '10.0.0.0/8']);
    expect(config.FETCH_DENIED_HOSTS).toEqual(['ads.example']);
    expect([config.FETCH_ALLOW_PRIVATE, config.FETCH_IGNORE_ROBOTS]).toEqual([true, true]);
  });

  it.each([
    [{ FETCH_ALLOWED_HOSTS: 'http://intranet' }, /^FETCH_ALLOWED_HOSTS: "http:\/\/intranet" is not a host name/],
    [{ FETCH_DENIED_HOSTS: '10.0.0.0/40' }, /^FETCH_DENIED_HOSTS: "10\.0\.0\.0\/40" is not a valid CIDR range/],
    [{ FETCH_ALLOW_PRIVATE: 'maybe' }, /^FETCH_ALLOW_PRIVATE: /],
    [{ FETCH_USER_AGENT: 'bad\r\nX-Injected: 1' }, /^FETCH_USER_AGENT: must be printable ASCII on one line/],
    [{ FETCH_MAX_REDIRECTS: '50' }, /^FETCH_MAX_REDIRECTS: /],
    [{ FETCH_TIMEOUT_MS: '10' }, /^FETCH_TIMEOUT_MS: /],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(configSchema, env)).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, env)).toThrow(message);
  });
});
