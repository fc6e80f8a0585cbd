import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mcp-sse/source'] },
  ssr: { resolve: { conditions: ['@mcp-sse/source'] } },
  test: {
    name: '@mcp-sse/net-guard',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
