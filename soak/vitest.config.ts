import { defineConfig } from 'vitest/config';

/**
 * The soak and fault suite (`pnpm test:soak`), apart from the unit tests: the root config's projects
 * (packages/*, services/*) never include this folder. One file at a time, since each measures a
 * service process from outside and the machine's load would blur the figures.
 */
export default defineConfig({
  resolve: { conditions: ['@mcp-sse/source'] },
  ssr: { resolve: { conditions: ['@mcp-sse/source'] } },
  test: {
    name: 'soak',
    root: import.meta.dirname,
    include: ['**/*.soak.ts'],
    fileParallelism: false,
    // Each test sets its own bound from SOAK_HOLD_SECONDS; these cover set-up and tear-down.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
