import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '@mcp-sse/core';
import { parseEnvFile, variablesWithoutComment } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { configObjectSchema, configSchema } from '../src/config.js';
import { resolveLokiAuth } from '../src/loki.js';

const examplePath = new URL('../../../config/monitoring.env.example', import.meta.url);

describe('config/monitoring.env.example', () => {
  const env = parseEnvFile(readFileSync(examplePath, 'utf8'));

  it('parses with the service schema and matches the defaults', () => {
    const fromExample = loadConfig(configSchema, env);
    const defaults = loadConfig(configSchema, {});
    expect(fromExample).toEqual({ ...defaults, MCP_CONFIG_FILE: undefined });
    expect(fromExample.PORT).toBe(8005);
    expect(fromExample.DOCKER_SOCKET).toBe('/var/run/docker.sock');
  });

  it('lists every variable of the schema, and nothing else', () => {
    expect(Object.keys(env).sort()).toEqual(Object.keys(configObjectSchema.shape).sort());
  });

  it('has a comment before every variable', () => {
    expect(variablesWithoutComment(readFileSync(examplePath, 'utf8'))).toEqual([]);
  });
});

describe('configSchema', () => {
  it('has the documented defaults: read-only toolsets, no Loki, the socket', () => {
    const config = loadConfig(configSchema, {});
    for (const unset of ['DOCKER_HOST', 'HOST_PROC', 'HOST_SYS', 'HOST_ROOT', 'LOKI_URL', 'LOKI_TOKEN'] as const) {
      expect(config[unset]).toBeUndefined();
    }
    expect(config).toMatchObject({
      PORT: 8005,
      DOCKER_SOCKET: '/var/run/docker.sock',
      MONITORING_ALLOW_RESTART: false,
      MONITORING_LOG_MAX_BYTES: 1024 * 1024,
      MONITORING_LOG_SCAN_BYTES: 32 * 1024 * 1024,
      MONITORING_LOG_DEFAULT_TAIL: 500,
      MONITORING_REGEX_BUDGET_MS: 2000,
      HOST_CPU_SAMPLE_MS: 250,
      MCP_TOOLSETS: ['docker', 'logs', 'host'],
    });
  });

  it('turns on loki with LOKI_URL and control with MONITORING_ALLOW_RESTART, unless MCP_TOOLSETS is set', () => {
    expect(loadConfig(configSchema, { LOKI_URL: 'http://loki:3100' }).MCP_TOOLSETS).toEqual([
      'docker',
      'logs',
      'host',
      'loki',
    ]);
    expect(loadConfig(configSchema, { MONITORING_ALLOW_RESTART: 'true' }).MCP_TOOLSETS).toEqual([
      'docker',
      'logs',
      'host',
      'control',
    ]);
    expect(loadConfig(configSchema, { MONITORING_ALLOW_RESTART: 'true', MCP_TOOLSETS: 'docker' }).MCP_TOOLSETS).toEqual(
      ['docker'],
    );
  });

  it('refuses the control toolset (or all) without MONITORING_ALLOW_RESTART', () => {
    for (const toolsets of ['control', 'docker,control', 'all']) {
      expect(() => loadConfig(configSchema, { MCP_TOOLSETS: toolsets })).toThrow(
        /^MCP_TOOLSETS: the control toolset \(restart_container\) needs MONITORING_ALLOW_RESTART=true/,
      );
    }
    expect(loadConfig(configSchema, { MCP_TOOLSETS: 'all', MONITORING_ALLOW_RESTART: 'yes' }).MCP_TOOLSETS).toEqual([
      'all',
    ]);
  });

  it('reads DOCKER_HOST forms and refuses the unsupported ones with one line', () => {
    for (const ok of ['unix:///run/docker.sock', 'tcp://docker-socket-proxy:2375', 'http://127.0.0.1:2375']) {
      expect(loadConfig(configSchema, { DOCKER_HOST: ok }).DOCKER_HOST).toBe(ok);
    }
    const cases: [string, RegExp][] = [
      ['ssh://user@host', /^DOCKER_HOST: ssh:\/\/ is not supported/],
      ['https://host:2376', /^DOCKER_HOST: https:\/\/ is not supported/],
      ['unix://relative.sock', /^DOCKER_HOST: unix:\/\/ needs an absolute socket path/],
      ['tcp://user:pw@host:2375', /^DOCKER_HOST: credentials in the URL are not supported/],
      ['not a url', /^DOCKER_HOST: expected unix:/],
    ];
    for (const [value, message] of cases) {
      expect(() => loadConfig(configSchema, { DOCKER_HOST: value })).toThrow(ConfigError);
      expect(() => loadConfig(configSchema, { DOCKER_HOST: value })).toThrow(message);
    }
  });

  it('checks the Loki settings: URL form, credentials in pairs, one kind of auth, never echoing secrets', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ LOKI_URL: 'ftp://loki' }, /^LOKI_URL: must be an http:\/\/ or https:\/\/ URL/],
      [{ LOKI_URL: 'http://u:p@loki:3100' }, /^LOKI_URL: must not carry credentials/],
      [{ LOKI_PASSWORD: 'hunter2' }, /^LOKI_USERNAME: LOKI_PASSWORD needs LOKI_USERNAME/],
      [{ LOKI_USERNAME: 'u' }, /^LOKI_PASSWORD: LOKI_USERNAME needs LOKI_PASSWORD/],
      [
        { LOKI_PASSWORD: 'hunter2', LOKI_PASSWORD_FILE: '/run/secrets/p', LOKI_USERNAME: 'u' },
        /^LOKI_PASSWORD_FILE: set LOKI_PASSWORD or LOKI_PASSWORD_FILE, not both/,
      ],
      [{ LOKI_TOKEN: 't0ken', LOKI_TOKEN_FILE: '/x' }, /^LOKI_TOKEN_FILE: set LOKI_TOKEN or LOKI_TOKEN_FILE, not both/],
      [{ LOKI_TOKEN: 't0ken', LOKI_USERNAME: 'u', LOKI_PASSWORD: 'hunter2' }, /^LOKI_TOKEN: set basic auth/],
      [{ LOKI_TENANT: 'a b' }, /^LOKI_TENANT: must be printable ASCII without spaces/],
    ];
    for (const [env, message] of bad) {
      let thrown: unknown;
      try {
        loadConfig(configSchema, env);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain('hunter2');
      expect((thrown as Error).message).not.toContain('t0ken');
    }
  });

  it('reads Loki credentials from their files (trailing newline dropped) and names a bad file without its content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-montest-secrets-'));
    try {
      writeFileSync(join(dir, 'password'), 's3cret-pass\n');
      writeFileSync(join(dir, 'token'), 'tok-123\n');
      writeFileSync(join(dir, 'empty'), '\n');
      expect(resolveLokiAuth({ LOKI_USERNAME: 'grafana', LOKI_PASSWORD_FILE: join(dir, 'password') })).toEqual({
        kind: 'basic',
        username: 'grafana',
        password: 's3cret-pass',
      });
      expect(resolveLokiAuth({ LOKI_TOKEN_FILE: join(dir, 'token') })).toEqual({ kind: 'bearer', token: 'tok-123' });
      expect(resolveLokiAuth({ LOKI_TOKEN: 'inline' })).toEqual({ kind: 'bearer', token: 'inline' });
      expect(resolveLokiAuth({})).toBeUndefined();
      expect(() => resolveLokiAuth({ LOKI_TOKEN_FILE: join(dir, 'missing') })).toThrow(
        /^LOKI_TOKEN_FILE: cannot read .*missing: ENOENT$/,
      );
      expect(() => resolveLokiAuth({ LOKI_TOKEN_FILE: join(dir, 'empty') })).toThrow(
        /^LOKI_TOKEN_FILE: .*empty is empty$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad values with one line naming the variable', () => {
    expect(() => loadConfig(configSchema, { MONITORING_LOG_MAX_BYTES: '10' })).toThrow(/^MONITORING_LOG_MAX_BYTES: /);
    expect(() => loadConfig(configSchema, { MONITORING_ALLOW_RESTART: 'maybe' })).toThrow(
      /^MONITORING_ALLOW_RESTART: /,
    );
    expect(() => loadConfig(configSchema, { HOST_PROC: 'host/proc' })).toThrow(/^HOST_PROC: must be an absolute path/);
  });
});
