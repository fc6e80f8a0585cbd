import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@mcp-sse/source'] },
  ssr: { resolve: { conditions: ['@mcp-sse/source'] } },
  test: {
    projects: ['packages/*', 'services/*'],
  },
});
