import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { parseHostRule } from '@mcp-sse/net-guard';
import type * as Yaml from 'yaml';
import { z } from 'zod';

import { bundled } from './bundled.js';
import { ConfigError } from './errors.js';

/**
 * The YAML parser, loaded only when MCP_CONFIG_FILE is set (loadConfig is synchronous). From a bundle,
 * whose folder cannot resolve the core's dependencies, the plain `require` call, which the bundler
 * sees and bundles (lazily initialised, as here).
 */
function yamlModule(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only reached in a bundle, where it is esbuild's
  if (bundled) return require('yaml') as typeof Yaml;
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}
const parseYaml = (text: string): unknown => yamlModule().parse(text);

/** Splits a comma-separated env value into trimmed, non-empty parts. */
export function csv(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** A boolean env var: true/false, 1/0, yes/no, on/off (never z.coerce.boolean, which reads "false" as true). */
export const envBoolean = (fallback: boolean) => z.stringbool().default(fallback);

/** A comma-separated list env var. */
export const envList = () =>
  z
    .string()
    .optional()
    .transform((value) => csv(value));

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Settings every service shares. A service extends this with its own. */
export const baseConfigSchema = z.object({
  PORT: int(0, 65535, 3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FLUSH_MS: int(0, 10_000, 100),
  MCP_API_KEYS: envList(),
  MCP_ALLOWED_HOSTS: envList(),
  MCP_ALLOWED_ORIGINS: envList(),
  MCP_READ_ONLY: envBoolean(false),
  MCP_TOOLSETS: envList(),
  MCP_STATELESS: envBoolean(false),
  MCP_MAX_SESSIONS: int(1, 1_000_000, 1000),
  // One identity (API key, or client address without keys) holds at most this many sessions and
  // opens at most MCP_SESSION_RATE_LIMIT per minute, so that it cannot lock everyone else out.
  MCP_MAX_SESSIONS_PER_IDENTITY: int(1, 1_000_000, 250),
  MCP_SESSION_RATE_LIMIT: int(0, 10_000_000, 600),
  MCP_SESSION_IDLE_MS: int(1000, 86_400_000, 600_000),
  MCP_SSE_HEARTBEAT_MS: int(0, 3_600_000, 15_000),
  // Several replicas behind one address (sessions/session-directory.ts, http/forwarding.ts): unset,
  // sessions live in this process only.
  MCP_SESSION_STORE: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL')
    .optional(),
  // Prefix of the store's keys and channels; default `mcp:<service>:`.
  MCP_SESSION_STORE_PREFIX: z.string().min(1).max(200).optional(),
  MCP_FORWARD_TIMEOUT_MS: int(100, 600_000, 10_000),
  MCP_REPLICA_HEARTBEAT_MS: int(100, 60_000, 2000),
  // A client that stops reading its stream (http/slow-consumer.ts): a write that finds more than this
  // many bytes still unsent closes the stream, and so does unsent data that has not drained for
  // MCP_SSE_STALL_TIMEOUT_MS (0 = no time limit). Keep the bytes at least twice MCP_MAX_RESULT_BYTES.
  MCP_SSE_MAX_BUFFER_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 8 * 1024 * 1024),
  MCP_SSE_STALL_TIMEOUT_MS: int(0, 3_600_000, 60_000),
  MCP_RATE_LIMIT: int(0, 10_000_000, 600),
  MCP_BODY_LIMIT: int(1024, 64 * 1024 * 1024, 1024 * 1024),
  // A request (headers and body) must arrive within this time: a body trickled in is cut (408).
  MCP_BODY_TIMEOUT_MS: int(1000, 600_000, 30_000),
  // The most a tool answer may weigh (its JSON, or the bytes of its content blocks): tools that return
  // data stop reading at this budget and say `truncated`; the registry refuses anything larger.
  MCP_MAX_RESULT_BYTES: int(16 * 1024, 256 * 1024 * 1024, 4 * 1024 * 1024),
  MCP_TOOL_TIMEOUT_MS: int(100, 3_600_000, 55_000),
  MCP_SHUTDOWN_GRACE_MS: int(0, 60_000, 8_000),
  MCP_TRUST_PROXY: envBoolean(false),
  // The lean path for tool calls (http/fast-lane.ts and direct tools/call in the session engine);
  // false sends every request through fastify and the SDK's Protocol (same answers, slower).
  MCP_FAST_LANE: envBoolean(true),
  MCP_DEBUG: envBoolean(false),
  MCP_CONFIG_FILE: z.string().optional(),
  // Authorization (oauth/settings.ts checks that the combination makes sense at start-up).
  MCP_AUTH: z.enum(['keys', 'oauth', 'both']).default('keys'),
  MCP_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .refine((value) => !value.includes('?') && !value.includes('#'), 'no query or fragment')
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
  MCP_OAUTH_MODE: z.enum(['builtin', 'external']).default('builtin'),
  MCP_OAUTH_DB: z.string().min(1).optional(),
  MCP_OAUTH_USERS: envList(),
  MCP_OAUTH_USERS_FILE: z.string().min(1).optional(),
  MCP_OAUTH_OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  MCP_OAUTH_OIDC_CLIENT_ID: z.string().min(1).optional(),
  MCP_OAUTH_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  MCP_OAUTH_OIDC_CLIENT_SECRET_FILE: z.string().min(1).optional(),
  MCP_OAUTH_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  MCP_OAUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  MCP_OAUTH_AUDIENCE: z.string().min(1).optional(),
  MCP_OAUTH_ACCESS_TOKEN_TTL_S: int(60, 86_400, 3600),
  MCP_OAUTH_REFRESH_TOKEN_TTL_S: int(3600, 31_536_000, 2_592_000),
  MCP_OAUTH_CODE_TTL_S: int(10, 600, 60),
  MCP_OAUTH_REGISTRATION: envBoolean(true),
  MCP_OAUTH_CLIENT_METADATA_DOCUMENTS: envBoolean(true),
  // Hosts whose metadata documents may be fetched from private addresses (tests, closed networks).
  MCP_OAUTH_CLIENT_METADATA_ALLOWED_HOSTS: envList().superRefine((entries, ctx) => {
    for (const entry of entries) {
      try {
        parseHostRule(entry);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }
  }),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Any schema whose output carries the base settings. */
export type ConfigSchema<C extends BaseConfig = BaseConfig> = z.ZodType<C, Record<string, unknown>>;

type EnvLike = Record<string, string | undefined>;

/**
 * Reads the optional YAML file named by MCP_CONFIG_FILE: a flat map of setting names (any case)
 * to values. The environment wins over the file, so a container can override one value.
 */
function readConfigFile(path: string): EnvLike {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`MCP_CONFIG_FILE: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`MCP_CONFIG_FILE: ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`MCP_CONFIG_FILE: ${path} must be a map of SETTING: value`);
  }
  const out: EnvLike = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    const text = (v: unknown): string =>
      typeof v === 'object' || typeof v === 'function'
        ? JSON.stringify(v)
        : `${v as string | number | boolean | bigint}`;
    out[key.toUpperCase()] = Array.isArray(value) ? value.map(text).join(',') : text(value);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Validates settings once and freezes them. A bad value throws ConfigError with one line naming the
 * variable, e.g. `PORT: Too big: expected number to be <=65535 (got "70000")`.
 */
export function loadConfig<C extends BaseConfig>(schema: ConfigSchema<C>, env: EnvLike = process.env): Readonly<C> {
  const file = env['MCP_CONFIG_FILE'];
  const merged: EnvLike = file ? { ...readConfigFile(file), ...env } : { ...env };
  // Empty strings mean "unset" (compose files often write `VAR=`).
  for (const [key, value] of Object.entries(merged)) if (value === '') delete merged[key];
  const result = schema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue?.path.map(String).join('.') ?? '';
    // The bad value helps, unless the variable may hold a secret.
    const secret =
      /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|DATABASE_URL|DSN|USERS|SESSION_STORE$/i.test(key) && !key.endsWith('_FILE');
    const got = key && key in merged && !secret ? ` (got ${JSON.stringify(merged[key])})` : '';
    throw new ConfigError(`${key || 'config'}: ${issue?.message ?? 'invalid'}${got}`);
  }
  return deepFreeze(result.data);
}
