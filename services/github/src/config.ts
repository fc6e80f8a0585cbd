import { baseConfigSchema, envBoolean } from '@mcp-sse/core';
import { z } from 'zod';

import { checkApiUrl } from './api-url.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const DEFAULT_API_URL = 'https://api.github.com';

/** Every variable the service reads. */
export const configObjectSchema = baseConfigSchema.extend({
  PORT: int(0, 65535, 8004),
  /** A token (classic `ghp_…`, fine-grained `github_pat_…`, or an app token); prefer GITHUB_TOKEN_FILE. */
  GITHUB_TOKEN: z.string().min(1).optional(),
  /** A file holding the token (a Docker/Kubernetes secret); read once at start-up. */
  GITHUB_TOKEN_FILE: z.string().min(1).optional(),
  /** The REST API root: https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server. */
  GITHUB_API_URL: z
    .string()
    .default(DEFAULT_API_URL)
    .superRefine((value, ctx) => {
      const problem = checkApiUrl(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** On public repositories, withhold text by authors without push access (see the README). */
  GITHUB_LOCKDOWN: envBoolean(false),
  /** How long a push-access answer (and a repository's visibility) is reused under lockdown. */
  GITHUB_LOCKDOWN_CACHE_MS: int(0, 86_400_000, 600_000),
  /**
   * The longest a call waits for a rate limit to pass (retry-after, x-ratelimit-reset) and tries once
   * more; a longer wait, or one past the call's timeout, is answered at once with when to retry.
   */
  GITHUB_RATE_LIMIT_MAX_WAIT_MS: int(0, 600_000, 10_000),
  /** Most characters of one body, comment, review or commit message; longer ones are cut (`truncated`). */
  GITHUB_MAX_BODY_CHARS: int(100, 1_000_000, 8000),
  /** Most characters of one file's patch (get_commit, get_pull_request, get_pull_request_diff). */
  GITHUB_MAX_PATCH_CHARS: int(100, 10_000_000, 20_000),
  /** Most bytes of a file get_file_contents returns; the rest is not read (`truncated`). */
  GITHUB_MAX_FILE_BYTES: int(1024, 100 * 1024 * 1024, 1024 * 1024),
  /** Most bytes read from any one GitHub answer (JSON, a diff, a log); beyond it the answer is cut or refused. */
  GITHUB_MAX_RESPONSE_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 32 * 1024 * 1024),
});

export const configSchema = configObjectSchema
  .refine((config) => !(config.GITHUB_TOKEN !== undefined && config.GITHUB_TOKEN_FILE !== undefined), {
    message: 'set GITHUB_TOKEN or GITHUB_TOKEN_FILE, not both',
    path: ['GITHUB_TOKEN_FILE'],
  })
  .refine((config) => config.GITHUB_TOKEN !== undefined || config.GITHUB_TOKEN_FILE !== undefined, {
    message: 'set GITHUB_TOKEN (a GitHub token) or GITHUB_TOKEN_FILE (a file holding one)',
    path: ['GITHUB_TOKEN'],
  });

export type Config = z.infer<typeof configSchema>;
