import { baseConfigSchema } from '@mcp-sse/core';
import { z } from 'zod';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const ACCESS_MODES = ['read_only', 'read_write'] as const;

export const configSchema = baseConfigSchema
  .extend({
    PORT: int(0, 65535, 8001),
    /** postgres://user:password@host:5432/db?sslmode=require; prefer DATABASE_URL_FILE for the password. */
    DATABASE_URL: z.string().min(1).optional(),
    /** A file holding the connection string (a Docker/Kubernetes secret); read once at start-up. */
    DATABASE_URL_FILE: z.string().min(1).optional(),
    POSTGRES_ACCESS_MODE: z.enum(ACCESS_MODES).default('read_only'),
    POSTGRES_STATEMENT_TIMEOUT_MS: int(1, 3_600_000, 30_000),
    POSTGRES_MAX_ROWS: int(1, 100_000, 1000),
    POSTGRES_POOL_MAX: int(1, 1000, 10),
    POSTGRES_POOL_IDLE_TIMEOUT_MS: int(0, 3_600_000, 30_000),
    POSTGRES_CONNECT_TIMEOUT_MS: int(100, 120_000, 5000),
    POSTGRES_HEALTH_TIMEOUT_MS: int(100, 60_000, 2000),
    POSTGRES_APPLICATION_NAME: z.string().min(1).max(63).default('mcp-postgres'),
    /**
     * Functions read_only mode may call besides the safe built-ins, comma-separated: `name` allows
     * `name(...)`, `schema.name` allows `schema.name(...)` (e.g. extension functions). The operator
     * vouches that they have no side effect and leave no session state behind.
     */
    POSTGRES_ALLOWED_FUNCTIONS: z
      .string()
      .optional()
      .transform((value, ctx) => {
        const entries = (value ?? '')
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry.length > 0);
        for (const entry of entries) {
          if (!/^(?:[A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/.test(entry)) {
            ctx.addIssue({
              code: 'custom',
              message: `"${entry}" is not a function name (name or schema.name, as stored in the catalog)`,
            });
          }
        }
        return entries;
      }),
  })
  .refine((config) => !(config.DATABASE_URL !== undefined && config.DATABASE_URL_FILE !== undefined), {
    message: 'set DATABASE_URL or DATABASE_URL_FILE, not both',
    path: ['DATABASE_URL_FILE'],
  })
  .refine((config) => config.DATABASE_URL !== undefined || config.DATABASE_URL_FILE !== undefined, {
    message: 'set DATABASE_URL (a postgres:// connection string) or DATABASE_URL_FILE (a file holding one)',
    path: ['DATABASE_URL'],
  });

export type Config = z.infer<typeof configSchema>;
