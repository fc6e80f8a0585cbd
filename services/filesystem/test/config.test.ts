import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ConfigError, loadConfig, selectTools } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { configObjectSchema, configSchema } from '../src/config.js';
import { service } from '../src/service.js';

const examplePath = new URL('../../../config/filesystem.env.example', import.meta.url);

describe('config/filesystem.env.example', () => {
  const env = parseEnvFile(readFileSync(examplePath, 'utf8'));

  it('parses with the service schema and matches the defaults', () => {
    const fromExample = loadConfig(configSchema, env);
    const defaults = loadConfig(configSchema, {});
    expect(fromExample).toEqual({ ...defaults, MCP_CONFIG_FILE: undefined });
    expect(fromExample.PORT).toBe(8003);
    expect(fromExample.ALLOWED_PATHS).toEqual([{ path: path.resolve('./data/workspace'), mode: 'rw' }]);
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
      PORT: 8003,
      FS_MAX_FILE_BYTES: 10 * 1024 * 1024,
      FS_MAX_READ_BYTES: 256 * 1024,
      MCP_READ_ONLY: false,
    });
  });

  it('parses modes per root; a root without a mode is read-only', () => {
    const config = loadConfig(configSchema, { ALLOWED_PATHS: '/workspace:ro,/shared:rw,/plain' });
    expect(config.ALLOWED_PATHS).toEqual([
      { path: '/workspace', mode: 'ro' },
      { path: '/shared', mode: 'rw' },
      { path: '/plain', mode: 'ro' },
    ]);
    expect(config.MCP_READ_ONLY).toBe(false);
  });

  it('leaves the write tools out when no root is read-write', () => {
    for (const value of ['/workspace:ro,/shared:ro', '/workspace', '/a,/b:ro']) {
      const config = loadConfig(configSchema, { ALLOWED_PATHS: value });
      expect(config.MCP_READ_ONLY).toBe(true);
      const names = selectTools(service.tools, service.toolsets, config).map((tool) => tool.name);
      expect(names).not.toContain('write_file');
      expect(names).toContain('read_file');
      expect(names).toHaveLength(9);
    }
    const writable = loadConfig(configSchema, { ALLOWED_PATHS: '/a:rw' });
    expect(selectTools(service.tools, service.toolsets, writable)).toHaveLength(15);
    // Even MCP_TOOLSETS=write cannot bring them back.
    const forced = loadConfig(configSchema, { ALLOWED_PATHS: '/a:ro', MCP_TOOLSETS: 'write' });
    expect(selectTools(service.tools, service.toolsets, forced)).toEqual([]);
  });

  it('rejects bad values with one line naming the variable', () => {
    expect(() => loadConfig(configSchema, { ALLOWED_PATHS: ',' })).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, { ALLOWED_PATHS: ',' })).toThrow(/^ALLOWED_PATHS: needs at least one/);
    expect(() => loadConfig(configSchema, { ALLOWED_PATHS: '/a,/a:rw' })).toThrow(/^ALLOWED_PATHS: .*listed twice/);
    expect(() => loadConfig(configSchema, { FS_MAX_FILE_BYTES: '0' })).toThrow(/^FS_MAX_FILE_BYTES: /);
    expect(() => loadConfig(configSchema, { FS_MAX_READ_BYTES: 'lots' })).toThrow(/^FS_MAX_READ_BYTES: /);
  });
});
