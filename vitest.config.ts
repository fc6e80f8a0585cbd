import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@mcp-sse/source'] },
  ssr: { resolve: { conditions: ['@mcp-sse/source'] } },
  test: {
    projects: ['packages/*', 'services/*'],
    // At least two files at a time, even on two CPUs (vitest's default there is one): most suites wait
    // on child processes, PostgreSQL and sockets, and the second file uses the CPU the first leaves
    // idle. The whole run on this project's 2-CPU machine: 1,023 s one at a time, 728 s two at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
