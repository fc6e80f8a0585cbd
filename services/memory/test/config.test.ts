import { readFileSync } from 'node:fs';

import { ConfigError, loadConfig } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { configObjectSchema, configSchema } from '../src/config.js';

const examplePath = new URL('../../../config/memory.env.example', import.meta.url);

describe('config/memory.env.example', () => {
  const env = parseEnvFile(readFileSync(examplePath, 'utf8'));

  it('parses with the service schema and matches the defaults', () => {
    const fromExample = loadConfig(configSchema, env);
    const defaults = loadConfig(configSchema, {});
    expect(fromExample).toEqual({ ...defaults, MCP_CONFIG_FILE: undefined });
    expect(fromExample.PORT).toBe(8007);
    expect(fromExample.MEMORY_DB_PATH).toBe('./data/memory/memory.db');
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
      PORT: 8007,
      MEMORY_DB_PATH: './data/memory/memory.db',
      MEMORY_MAX_CONTENT_BYTES: 65_536,
      MEMORY_MAX_TAGS: 32,
      EMBEDDINGS: 'builtin',
      EMBEDDINGS_DIMENSIONS: 384,
      MEMORY_SEARCH_CANDIDATES: 1000,
    });
  });

  it('needs a URL and a model for EMBEDDINGS=openai, and one key source at most', () => {
    expect(() => loadConfig(configSchema, { EMBEDDINGS: 'openai' })).toThrow(
      /^EMBEDDINGS_URL: EMBEDDINGS=openai needs/,
    );
    expect(() =>
      loadConfig(configSchema, { EMBEDDINGS: 'openai', EMBEDDINGS_URL: 'http://127.0.0.1:1/v1/embeddings' }),
    ).toThrow(/^EMBEDDINGS_MODEL: /);
    const both = {
      EMBEDDINGS: 'openai',
      EMBEDDINGS_URL: 'http://127.0.0.1:1/v1/embeddings',
      EMBEDDINGS_MODEL: 'm',
      EMBEDDINGS_API_KEY: 'k',
      EMBEDDINGS_API_KEY_FILE: '/run/secrets/k',
    };
    expect(() => loadConfig(configSchema, both)).toThrow(/^EMBEDDINGS_API_KEY_FILE: set EMBEDDINGS_API_KEY or/);
  });

  it('rejects bad values with one line naming the variable', () => {
    expect(() => loadConfig(configSchema, { EMBEDDINGS_DIMENSIONS: '100' })).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, { EMBEDDINGS_DIMENSIONS: '100' })).toThrow(
      /^EMBEDDINGS_DIMENSIONS: must be a multiple of 8/,
    );
    expect(() => loadConfig(configSchema, { EMBEDDINGS: 'word2vec' })).toThrow(/^EMBEDDINGS: /);
    expect(() => loadConfig(configSchema, { EVENTS_TOKEN_SECRET: 'short' })).toThrow(/^EVENTS_TOKEN_SECRET: /);
    expect(() => loadConfig(configSchema, { MEMORY_MAX_CONTENT_BYTES: '0' })).toThrow(/^MEMORY_MAX_CONTENT_BYTES: /);
    expect(() =>
      loadConfig(configSchema, { MEMORY_MAX_CONTENT_BYTES: '1000000', MCP_MAX_RESULT_BYTES: '4194304' }),
    ).toThrow(/^MEMORY_MAX_CONTENT_BYTES: must be at most \(MCP_MAX_RESULT_BYTES - 8192\) \/ 6/);
  });
});
