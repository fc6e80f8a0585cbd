import { baseConfigSchema, envBoolean } from '@mcp-sse/core';
import { z } from 'zod';

/** The toolsets that cannot write; what READ_ONLY_MODE turns on when MCP_TOOLSETS is unset. */
export const READ_TOOLSETS = ['read', 'raw'] as const;

/** The settings as an object schema (every variable the service reads). */
export const configObjectSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8006),
  DATABASE_PATH: z.string().min(1).default('./data/sqlite/database.db'),
  MAX_QUERY_RESULTS: z.coerce.number().int().min(1).max(100_000).default(1000),
  ALLOW_RAW_QUERIES: envBoolean(true),
  READ_ONLY_MODE: envBoolean(false),
  SQLITE_BUSY_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  // Most child processes for read-only raw queries (one Node process each, started on first use).
  SQLITE_QUERY_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
});

export const configSchema = configObjectSchema
  // READ_ONLY_MODE leaves out the write toolset unless the operator chose toolsets explicitly.
  .transform((config) =>
    config.READ_ONLY_MODE && config.MCP_TOOLSETS.length === 0
      ? { ...config, MCP_TOOLSETS: [...READ_TOOLSETS] }
      : config,
  );

export type Config = z.infer<typeof configSchema>;
