import { baseConfigSchema, envBoolean } from '@mcp-sse/core';
import { z } from 'zod';

import { parseAllowedPaths } from './path-guard.js';

const MIB = 1024 * 1024;

/** Every setting, before the transform: the env example lists exactly these keys. */
export const configObjectSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8003),
  /** `dir[:ro|:rw],...`; a root without a mode is read-only. The embedded default is writable. */
  ALLOWED_PATHS: z
    .string()
    .default('./data/workspace:rw')
    .transform((value, ctx) => {
      try {
        return parseAllowedPaths(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  FS_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024 * MIB)
    .default(10 * MIB),
  FS_MAX_READ_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * MIB)
    .default(256 * 1024),
  /** Files with more than one hard link may have another name outside the roots: refused unless true. */
  FS_ALLOW_HARDLINKS: envBoolean(false),
});

export const configSchema = configObjectSchema
  // No writable root: every write tool is left out (MCP_READ_ONLY drops each tool whose readOnlyHint
  // is false, which is exactly the write toolset), so clients never see tools that can only fail.
  .transform((config) =>
    config.ALLOWED_PATHS.some((root) => root.mode === 'rw') ? config : { ...config, MCP_READ_ONLY: true },
  );

export type Config = z.infer<typeof configSchema>;
