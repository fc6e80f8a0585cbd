import { readFileSync } from 'node:fs';

import { loadConfig } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { configSchema } from '../src/config.js';

const examplePath = new URL('../../../config/databases.env.example', import.meta.url);

describe('config/databases.env.example', () => {
  const text = readFileSync(examplePath, 'utf8');
  const env = parseEnvFile(text);

  it('parses with the service schema and matches the defaults', () => {
    expect(loadConfig(configSchema, env)).toEqual(loadConfig(configSchema, {}));
    expect(loadConfig(configSchema, env)).toMatchObject({
      PORT: 8008,
      DATABASES_SERVERS_FILE: './config/servers.yml',
      DATABASES_SECRETS_FILE: '/run/secrets/databases',
      DATABASES_ALLOW_WRITE: false,
      DATABASES_RESULT_CACHE_TTL: 0,
      MCP_TOOLSETS: [],
    });
  });

  it('lists every variable of the schema, and nothing else', () => {
    expect(Object.keys(env).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('has a comment before every variable, and no secret', () => {
    expect(variablesWithoutComment(text)).toEqual([]);
    expect(env['DATABASES_REGISTRY_URL']).toBe('');
    expect(text).not.toMatch(/ENCRYPTION_KEY=\S/);
  });
});

describe('configSchema', () => {
  it('rejects bad values with one line naming the variable', () => {
    expect(() => loadConfig(configSchema, { DATABASES_REGISTRY_SCHEMA: 'Bad-Schema' })).toThrow(
      /^DATABASES_REGISTRY_SCHEMA: a lower-case SQL identifier/,
    );
    expect(() => loadConfig(configSchema, { DATABASES_MAX_ROWS: '0' })).toThrow(/^DATABASES_MAX_ROWS: /);
    expect(() => loadConfig(configSchema, { DATABASES_ALLOW_WRITE: 'maybe' })).toThrow(/^DATABASES_ALLOW_WRITE: /);
    expect(() => loadConfig(configSchema, { DATABASES_CACHE_PREFIX: 'a b' })).toThrow(/^DATABASES_CACHE_PREFIX: /);
  });
});
