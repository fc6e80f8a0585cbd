import { defineService } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { FileService } from './file-service.js';
import { type Deps, toolsets } from './tools/define.js';
import { tools } from './tools/index.js';

export const service = defineService<Config, Deps>({
  name: 'filesystem',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'Sandboxed file access under allowed directories (read-only or read-write per directory)',
  instructions:
    'Call list_allowed_directories first: every path must lie inside one of them (relative paths resolve against ' +
    'the first). Read with read_file (line ranges), find with search_files (names) and grep_files (contents), ' +
    'change with edit_file (exact replacements, returns a diff) or write_file.',
  config: configSchema,
  toolsets,
  tools,
  createContext: async (config, logger) => {
    const files = await FileService.create(config.ALLOWED_PATHS, {
      limits: {
        maxFileBytes: config.FS_MAX_FILE_BYTES,
        maxReadBytes: config.FS_MAX_READ_BYTES,
        maxResultBytes: config.MCP_MAX_RESULT_BYTES,
        // Walks stop (with truncated) well before the call's own timeout, so what was found is returned.
        walkTimeMs: Math.min(20_000, Math.floor(config.MCP_TOOL_TIMEOUT_MS / 2)),
      },
      createMissing: true,
      allowHardlinks: config.FS_ALLOW_HARDLINKS,
    });
    logger.info(
      { roots: files.guard.roots.map((root) => `${root.path}:${root.mode}`), procFd: files.io.procFd },
      files.guard.anyWritable
        ? 'filesystem roots ready'
        : 'filesystem roots ready; all read-only, write tools disabled',
    );
    if (!files.io.procFd) {
      logger.warn('/proc/self/fd is unavailable: symlink races are narrowed by re-checks, not excluded (see README)');
    }
    return { files };
  },
  healthChecks: (deps) => ({
    roots: async () => {
      await deps.files.io.checkRoots();
    },
  }),
  close: (deps) => deps.files.close(),
});
