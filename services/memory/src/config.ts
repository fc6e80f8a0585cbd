import { baseConfigSchema } from '@mcp-sse/core';
import { z } from 'zod';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** The settings as an object schema (every variable the service reads). */
export const configObjectSchema = baseConfigSchema.extend({
  PORT: int(0, 65535, 8007),
  MEMORY_DB_PATH: z.string().min(1).default('./data/memory/memory.db'),
  // Largest content of one memory, in UTF-8 bytes (after trimming).
  MEMORY_MAX_CONTENT_BYTES: int(16, 4 * 1024 * 1024, 65_536),
  // Largest metadata object of one memory, as compact JSON, in bytes.
  MEMORY_MAX_METADATA_BYTES: int(2, 1024 * 1024, 16_384),
  // Most tags on one memory, and the longest tag (characters, after normalising).
  MEMORY_MAX_TAGS: int(1, 1000, 32),
  MEMORY_MAX_TAG_LENGTH: int(1, 256, 64),
  // How long a write waits for another process's lock before failing (ms).
  MEMORY_BUSY_TIMEOUT_MS: int(0, 600_000, 5000),
  // Child processes that run searches, tag counts and stats off the event loop.
  MEMORY_QUERY_WORKERS: int(1, 64, 2),
  // Candidates taken from the binary-quantised vector index before exact float rescoring.
  MEMORY_SEARCH_CANDIDATES: int(10, 20_000, 1000),
  // A filtered semantic search scans the float vectors of the matching memories exactly when at most
  // this many match; beyond, it takes candidates from the quantised index and filters them.
  MEMORY_EXACT_SCAN_LIMIT: int(0, 1_000_000, 20_000),
  // Rows one bulk delete removes per transaction (the event loop is free between batches).
  MEMORY_DELETE_BATCH: int(1, 100_000, 100),
  // Events (the outbox) older than this are pruned, and at most this many are kept.
  EVENTS_RETENTION_HOURS: int(1, 24 * 365, 72),
  EVENTS_MAX_ROWS: int(100, 100_000_000, 1_000_000),
  // Lifetime of the signed token the dashboard uses for /events (seconds).
  EVENTS_TOKEN_TTL_S: int(10, 86_400, 300),
  // Key that signs /events tokens; empty = a random key per process (tokens end with a restart).
  EVENTS_TOKEN_SECRET: z.string().min(32).optional(),
  // The SSE comment every so often on /events (ms).
  EVENTS_HEARTBEAT_MS: int(1000, 3_600_000, 15_000),
  // How often the outbox is checked even without a file change notice (ms).
  EVENTS_POLL_MS: int(50, 60_000, 1000),
  // builtin: hashed word and character n-grams, no model; openai: any OpenAI-compatible /v1/embeddings.
  EMBEDDINGS: z.enum(['builtin', 'openai']).default('builtin'),
  EMBEDDINGS_URL: z.url().optional(),
  EMBEDDINGS_MODEL: z.string().min(1).max(200).optional(),
  EMBEDDINGS_API_KEY: z.string().min(1).optional(),
  EMBEDDINGS_API_KEY_FILE: z.string().min(1).optional(),
  EMBEDDINGS_DIMENSIONS: int(8, 8192, 384),
  EMBEDDINGS_BATCH_SIZE: int(1, 2048, 64),
  EMBEDDINGS_TIMEOUT_MS: int(100, 600_000, 30_000),
  EMBEDDINGS_MAX_RETRIES: int(0, 10, 3),
});

export const configSchema = configObjectSchema
  .refine((config) => config.EMBEDDINGS !== 'openai' || config.EMBEDDINGS_URL !== undefined, {
    message:
      'EMBEDDINGS=openai needs EMBEDDINGS_URL (the base URL of an OpenAI-compatible API, e.g. http://litellm:4000)',
    path: ['EMBEDDINGS_URL'],
  })
  .refine((config) => config.EMBEDDINGS !== 'openai' || config.EMBEDDINGS_MODEL !== undefined, {
    message: 'EMBEDDINGS=openai needs EMBEDDINGS_MODEL (the embedding model name the endpoint serves)',
    path: ['EMBEDDINGS_MODEL'],
  })
  .refine((config) => !(config.EMBEDDINGS_API_KEY !== undefined && config.EMBEDDINGS_API_KEY_FILE !== undefined), {
    message: 'set EMBEDDINGS_API_KEY or EMBEDDINGS_API_KEY_FILE, not both',
    path: ['EMBEDDINGS_API_KEY_FILE'],
  })
  // One memory must fit in an answer (memory_store and memory_get return it) even at JSON's worst
  // escaping (\u00XX: 6 bytes a byte), or a stored memory could not be shown.
  .refine(
    (config) =>
      6 * (config.MEMORY_MAX_CONTENT_BYTES + config.MEMORY_MAX_METADATA_BYTES) + 8192 <= config.MCP_MAX_RESULT_BYTES,
    {
      message:
        'must be at most (MCP_MAX_RESULT_BYTES - 8192) / 6 together with MEMORY_MAX_METADATA_BYTES, so that one memory fits in an answer',
      path: ['MEMORY_MAX_CONTENT_BYTES'],
    },
  )
  .refine((config) => config.EMBEDDINGS_DIMENSIONS % 8 === 0, {
    message: 'must be a multiple of 8 (the binary index packs 8 dimensions a byte)',
    path: ['EMBEDDINGS_DIMENSIONS'],
  });

export type Config = z.infer<typeof configSchema>;
