import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mcp-sse/source'] },
  ssr: { resolve: { conditions: ['@mcp-sse/source'] } },
  test: {
    name: '@mcp-sse/databases',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Each file creates its own databases, role and user on the shared servers: one file at a time
    // keeps that load (and the other projects' timing-sensitive tests) in check.
    fileParallelism: false,
  },
});
