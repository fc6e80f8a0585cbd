import { baseConfigSchema, envBoolean, envList } from '@mcp-sse/core';
import { parseHostRule } from '@mcp-sse/net-guard';
import { z } from 'zod';

/** Names the product token robots.txt groups match (`User-agent: ModelContextProtocol`), like the reference fetch server. */
export const DEFAULT_USER_AGENT = 'ModelContextProtocol/1.0 (mcp-sse-fetch; autonomous)';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A host list: every entry must be a host name, `*.domain`, an IP address or a CIDR range. */
const hostList = () =>
  envList().superRefine((entries, ctx) => {
    for (const entry of entries) {
      try {
        parseHostRule(entry);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }
  });

/** Every variable the service reads. */
export const configSchema = baseConfigSchema.extend({
  PORT: int(0, 65535, 8002),
  FETCH_USER_AGENT: z
    .string()
    .max(512)
    .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII on one line')
    .default(DEFAULT_USER_AGENT),
  FETCH_TIMEOUT_MS: int(100, 600_000, 30_000),
  FETCH_MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024, 5 * 1024 * 1024),
  FETCH_MAX_REDIRECTS: int(0, 20, 5),
  FETCH_DEFAULT_MAX_LENGTH: int(100, 1_000_000, 20_000),
  FETCH_CONCURRENCY: int(1, 32, 4),
  FETCH_MAX_URLS: int(1, 100, 20),
  /** Longest the conversion of one page (HTML to markdown, JSON formatting) may take, in its worker. */
  FETCH_CONVERT_TIMEOUT_MS: int(100, 120_000, 10_000),
  FETCH_IGNORE_ROBOTS: envBoolean(false),
  FETCH_ROBOTS_CACHE_TTL_MS: int(0, 7 * 24 * 3_600_000, 3_600_000),
  FETCH_ALLOW_PRIVATE: envBoolean(false),
  FETCH_ALLOWED_HOSTS: hostList(),
  FETCH_DENIED_HOSTS: hostList(),
});

export type Config = z.infer<typeof configSchema>;
