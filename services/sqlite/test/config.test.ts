import { readFileSync } from 'node:fs';

import { ConfigError, loadConfig } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { configObjectSchema, configSchema } from '../src/config.js';

const examplePath = new URL('../../../config/sqlite.env.example', import.meta.url);

describe('config/sqlite.env.example', () => {
  const env = parseEnvFile(readFileSync(examplePath, 'utf8'));

  it('parses with the service schema and matches the defaults', () => {
    const fromExample = loadConfig(configSchema, env);
    const defaults = loadConfig(configSchema, {});
    expect(fromExample).toEqual({ ...defaults, MCP_CONFIG_FILE: undefined });
    expect(fromExample.PORT).toBe(8006);
    expect(fromExample.DATABASE_PATH).toBe('./data/sqlite/database.db');
  });

  it('lists every variable of the schema, and nothing else', () => {
    expect(Object.keys(env).sort()).toEqual(Object.keys(configObjectSchema.shape).sort());
  });

  it('has a comment before every variable', () => {
    expect(variablesWithoutComment(readFileSync(examplePath, 'utf8'))).toEqual([]);
  });
});

describe('configSchema', () => {
  it('has the documented defaults', () => {
    expect(loadConfig(configSchema, {})).toMatchObject({
      PORT: 8006,
      DATABASE_PATH: './data/sqlite/database.db',
      MAX_QUERY_RESULTS: 1000,
      ALLOW_RAW_QUERIES: true,
      READ_ONLY_MODE: false,
      SQLITE_BUSY_TIMEOUT_MS: 5000,
      MCP_TOOLSETS: [],
    });
  });

  it('turns READ_ONLY_MODE into the read toolsets unless MCP_TOOLSETS is set', () => {
    expect(loadConfig(configSchema, { READ_ONLY_MODE: 'true' }).MCP_TOOLSETS).toEqual(['read', 'raw']);
    expect(loadConfig(configSchema, { READ_ONLY_MODE: 'true', MCP_TOOLSETS: 'read' }).MCP_TOOLSETS).toEqual(['read']);
    expect(loadConfig(configSchema, { READ_ONLY_MODE: 'false' }).MCP_TOOLSETS).toEqual([]);
  });

  it('rejects bad values with one line naming the variable', () => {
    expect(() => loadConfig(configSchema, { MAX_QUERY_RESULTS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, { MAX_QUERY_RESULTS: '0' })).toThrow(/^MAX_QUERY_RESULTS: /);
    expect(() => loadConfig(configSchema, { ALLOW_RAW_QUERIES: 'maybe' })).toThrow(/^ALLOW_RAW_QUERIES: /);
    expect(() => loadConfig(configSchema, { SQLITE_BUSY_TIMEOUT_MS: '-1' })).toThrow(/^SQLITE_BUSY_TIMEOUT_MS: /);
  });
});
