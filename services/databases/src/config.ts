import { baseConfigSchema, envBoolean } from '@mcp-sse/core';
import { z } from 'zod';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const configSchema = baseConfigSchema.extend({
  PORT: int(0, 65535, 8008),
  /** The servers file (YAML): which servers, engines, databases, access and tags. */
  DATABASES_SERVERS_FILE: z.string().min(1).default('./config/servers.yml'),
  /** KEY=value file with the encryption key and the server passwords (a Docker secret). */
  DATABASES_SECRETS_FILE: z.string().min(1).default('/run/secrets/databases'),
  /** The registry's PostgreSQL (postgres://user:password@host:5432/db); or DATABASES_REGISTRY_URL in the secrets file. */
  DATABASES_REGISTRY_URL: z.string().min(1).optional(),
  /** The registry's own schema, created and migrated at start-up. */
  DATABASES_REGISTRY_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
    .default('mcp_databases'),
  DATABASES_REGISTRY_POOL_MAX: int(1, 100, 5),
  /** Redis for the cache (redis://host:6379/0); unset = no cache. */
  DATABASES_REDIS_URL: z.string().min(1).optional(),
  DATABASES_CACHE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . -')
    .default('mcp-databases'),
  /** How long a metadata answer stays cached (seconds); a sync that changes the metadata invalidates it sooner. */
  DATABASES_CACHE_TTL: int(1, 86_400 * 7, 3600),
  /** Cache small results of read-only queries this many seconds (0 = off). */
  DATABASES_RESULT_CACHE_TTL: int(0, 86_400, 0),
  /** Largest query result kept in the cache, in bytes of JSON. */
  DATABASES_RESULT_CACHE_MAX_BYTES: int(1024, 16 * 1024 * 1024, 65_536),
  /** Longest wait for one Redis command before it counts as a miss (ms). */
  DATABASES_REDIS_TIMEOUT_MS: int(10, 10_000, 250),
  /** Sync every server's metadata when the service starts (in the background). */
  DATABASES_SYNC_ON_START: envBoolean(true),
  /** Sync every server this often (seconds; 0 = only at start and on demand). */
  DATABASES_SYNC_INTERVAL: int(0, 86_400 * 7, 900),
  /** Servers synced at once; each server's databases are read one after the other. */
  DATABASES_SYNC_CONCURRENCY: int(1, 64, 4),
  /** The longest one server's sync may take (ms); past it the sync fails and the server is marked so. */
  DATABASES_SYNC_TIMEOUT_MS: int(1000, 3_600_000, 300_000),
  /** Consecutive failures to reach a server that open its circuit breaker. */
  DATABASES_BREAKER_THRESHOLD: int(1, 1000, 3),
  /** How long an open breaker refuses calls before letting one through (ms). */
  DATABASES_BREAKER_COOLDOWN_MS: int(100, 3_600_000, 30_000),
  /** Most rows one call returns (max_rows may lower it). */
  DATABASES_MAX_ROWS: int(1, 100_000, 1000),
  /** Servers with access: read_write may write only when this is true; otherwise every server is read-only. */
  DATABASES_ALLOW_WRITE: envBoolean(false),
  /** application_name / program name the service shows to the servers. */
  DATABASES_APPLICATION_NAME: z.string().min(1).max(63).default('mcp-databases'),
});

export type Config = z.infer<typeof configSchema>;
