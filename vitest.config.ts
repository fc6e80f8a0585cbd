import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@mcp-sse/source'] },
  ssr: { resolve: { conditions: ['@mcp-sse/source'] } },
  test: {
    projects: ['packages/*', 'services/*'],
    // vitest runs one file at a time on a 2-CPU machine (CPUs - 1); most suites wait on the service
    // processes and servers they start, so two files at a time nearly halve CI's wall time.
    maxWorkers: 2,
  },
});
