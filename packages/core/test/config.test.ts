import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { baseConfigSchema, ConfigError, envBoolean, loadConfig } from '../src/index.js';

describe('loadConfig', () => {
  it('applies defaults and freezes the result', () => {
    const config = loadConfig(baseConfigSchema, {});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      MCP_READ_ONLY: false,
      MCP_API_KEYS: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.MCP_API_KEYS)).toBe(true);
  });

  it('parses lists and booleans the way operators write them', () => {
    const config = loadConfig(baseConfigSchema, {
      MCP_API_KEYS: ' a , b ,,c ',
      MCP_READ_ONLY: 'yes',
      MCP_STATELESS: '0',
      MCP_DEBUG: 'false',
    });
    expect(config.MCP_API_KEYS).toEqual(['a', 'b', 'c']);
    expect(config.MCP_READ_ONLY).toBe(true);
    expect(config.MCP_STATELESS).toBe(false);
    expect(config.MCP_DEBUG).toBe(false);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig(baseConfigSchema, { PORT: '' }).PORT).toBe(3000);
  });

  it.each([
    [{ PORT: '70000' }, /^PORT: .*65535.* \(got "70000"\)$/],
    [{ PORT: 'abc' }, /^PORT: .*number.*\(got "abc"\)$/],
    [{ MCP_READ_ONLY: 'maybe' }, /^MCP_READ_ONLY: .*\(got "maybe"\)$/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: .*\(got "loud"\)$/],
  ])('stops with one line naming the variable: %j', (env, pattern) => {
    try {
      loadConfig(baseConfigSchema, env);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('never repeats the value of a variable that may hold a secret', () => {
    const schema = baseConfigSchema.extend({ GITHUB_TOKEN: z.string().regex(/^gh[ps]_/) });
    expect(() => loadConfig(schema, { GITHUB_TOKEN: 'hunter2-secret' })).toThrow(/^GITHUB_TOKEN: [^"]*$/);
  });

  it('reads an optional YAML file, with the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'service.yaml');
    writeFileSync(file, 'port: 9000\nmcp_api_keys: [one, two]\nLOG_LEVEL: debug\nextra_flag: true\n');
    const schema = baseConfigSchema.extend({ EXTRA_FLAG: envBoolean(false) });
    const config = loadConfig(schema, { MCP_CONFIG_FILE: file, LOG_LEVEL: 'warn' });
    expect(config.PORT).toBe(9000);
    expect(config.MCP_API_KEYS).toEqual(['one', 'two']);
    expect(config.LOG_LEVEL).toBe('warn');
    expect(config.EXTRA_FLAG).toBe(true);
  });

  it('names the file when it is missing or not YAML', () => {
    expect(() => loadConfig(baseConfigSchema, { MCP_CONFIG_FILE: '/nonexistent/x.yaml' })).toThrow(
      /^MCP_CONFIG_FILE: cannot read/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, '- just\n- a list\n');
    expect(() => loadConfig(baseConfigSchema, { MCP_CONFIG_FILE: file })).toThrow(/must be a map/);
  });

  it('lets a service extend the base schema', () => {
    const schema = baseConfigSchema.extend({ DATABASE_PATH: z.string().default('./db') });
    expect(loadConfig(schema, { PORT: '8006' })).toMatchObject({ PORT: 8006, DATABASE_PATH: './db' });
  });
});
