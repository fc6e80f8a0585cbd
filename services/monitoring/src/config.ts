import { baseConfigSchema, envBoolean } from '@mcp-sse/core';
import { z } from 'zod';

import { parseEngineAddress } from './engine.js';
import { toolsets } from './tools/define.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const absolutePath = () =>
  z
    .string()
    .refine((value) => value.startsWith('/'), 'must be an absolute path')
    .optional();

/** Every variable the service reads. */
export const configObjectSchema = baseConfigSchema.extend({
  PORT: int(0, 65535, 8005),
  // ── Docker engine
  DOCKER_SOCKET: z.string().min(1).default('/var/run/docker.sock'),
  DOCKER_HOST: z.string().min(1).optional(),
  DOCKER_TIMEOUT_MS: int(100, 600_000, 30_000),
  MONITORING_ALLOW_RESTART: envBoolean(false),
  // ── Logs
  MONITORING_LOG_MAX_BYTES: int(4096, 256 * 1024 * 1024, 1024 * 1024),
  MONITORING_LOG_SCAN_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 32 * 1024 * 1024),
  MONITORING_LOG_DEFAULT_TAIL: int(1, 100_000, 500),
  MONITORING_LOG_MAX_LINE_BYTES: int(256, 1024 * 1024, 16 * 1024),
  MONITORING_REGEX_BUDGET_MS: int(10, 600_000, 2000),
  MONITORING_SEARCH_DEFAULT_SINCE: z.string().min(1).default('1h'),
  // ── Calls over many containers (stats of all, engine log search)
  MONITORING_CONCURRENCY: int(1, 64, 4),
  MONITORING_MAX_CONTAINERS: int(1, 10_000, 100),
  // ── Host
  HOST_PROC: absolutePath(),
  HOST_SYS: absolutePath(),
  HOST_ROOT: absolutePath(),
  HOST_CPU_SAMPLE_MS: int(10, 5000, 250),
  // ── Loki
  LOKI_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((value) => new URL(value).username === '' && new URL(value).password === '', {
      message: 'must not carry credentials: use LOKI_USERNAME and LOKI_PASSWORD(_FILE), or LOKI_TOKEN(_FILE)',
    })
    .optional(),
  LOKI_TENANT: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  LOKI_USERNAME: z.string().min(1).optional(),
  LOKI_PASSWORD: z.string().min(1).optional(),
  LOKI_PASSWORD_FILE: z.string().min(1).optional(),
  LOKI_TOKEN: z.string().min(1).optional(),
  LOKI_TOKEN_FILE: z.string().min(1).optional(),
  LOKI_TIMEOUT_MS: int(100, 600_000, 15_000),
  LOKI_MAX_ENTRIES: int(1, 100_000, 1000),
  LOKI_MAX_RESPONSE_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 32 * 1024 * 1024),
});

/** The toolsets that depend on a setting: `control` on MONITORING_ALLOW_RESTART, `loki` on LOKI_URL. */
export const configSchema = configObjectSchema
  .superRefine((config, ctx) => {
    try {
      parseEngineAddress(config.DOCKER_HOST, config.DOCKER_SOCKET);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['DOCKER_HOST'],
        message: (error as Error).message.replace(/^DOCKER_HOST: /, ''),
      });
    }
    const pairs = [
      ['LOKI_PASSWORD', 'LOKI_PASSWORD_FILE'],
      ['LOKI_TOKEN', 'LOKI_TOKEN_FILE'],
    ] as const;
    for (const [plain, file] of pairs) {
      if (config[plain] !== undefined && config[file] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [file], message: `set ${plain} or ${file}, not both` });
      }
    }
    const hasPassword = config.LOKI_PASSWORD !== undefined || config.LOKI_PASSWORD_FILE !== undefined;
    const hasToken = config.LOKI_TOKEN !== undefined || config.LOKI_TOKEN_FILE !== undefined;
    if (hasPassword && config.LOKI_USERNAME === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['LOKI_USERNAME'],
        message: 'LOKI_PASSWORD needs LOKI_USERNAME (basic auth)',
      });
    }
    if (config.LOKI_USERNAME !== undefined && !hasPassword) {
      ctx.addIssue({
        code: 'custom',
        path: ['LOKI_PASSWORD'],
        message: 'LOKI_USERNAME needs LOKI_PASSWORD or LOKI_PASSWORD_FILE',
      });
    }
    if (hasPassword && hasToken) {
      ctx.addIssue({
        code: 'custom',
        path: ['LOKI_TOKEN'],
        message: 'set basic auth (LOKI_USERNAME/LOKI_PASSWORD) or a bearer token (LOKI_TOKEN), not both',
      });
    }
    const requested = config.MCP_TOOLSETS;
    if ((requested.includes('control') || requested.includes('all')) && !config.MONITORING_ALLOW_RESTART) {
      ctx.addIssue({
        code: 'custom',
        path: ['MCP_TOOLSETS'],
        message: 'the control toolset (restart_container) needs MONITORING_ALLOW_RESTART=true',
      });
    }
  })
  .transform((config) => {
    // With MCP_TOOLSETS unset, the settings decide: restart on MONITORING_ALLOW_RESTART, Loki tools on LOKI_URL.
    if (config.MCP_TOOLSETS.length > 0) return config;
    const enabled = Object.entries(toolsets).flatMap(([id, meta]) => (meta.default ? [id] : []));
    if (config.LOKI_URL !== undefined) enabled.push('loki');
    if (config.MONITORING_ALLOW_RESTART) enabled.push('control');
    return { ...config, MCP_TOOLSETS: enabled };
  });

export type Config = z.infer<typeof configSchema>;
