import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mcp-sse/source'] },
  ssr: { resolve: { conditions: ['@mcp-sse/source'] } },
  test: {
    name: '@mcp-sse/monitoring',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The files share one Docker engine (containers, events, the recording proxy's view of it): one
    // file at a time, so that one file's containers and events do not show up in another's checks.
    fileParallelism: false,
  },
});
