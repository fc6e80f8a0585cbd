import { readFileSync } from 'node:fs';

import { defineService, ServiceError } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { FileService } from './file-service.js';
import { FsError } from './path-guard.js';
import type { Deps } from './tools/define.js';
import { tools } from './tools/index.js';

// Read at start-up from the package next to src/ or dist/, so the version is never written twice.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const service = defineService<Config, Deps>({
  name: 'filesystem',
  version,
  description: 'Sandboxed file access under allowed directories (read-only or read-write per directory)',
  instructions:
    'Call list_allowed_directories first: every path must lie inside one of them (relative paths resolve against ' +
    'the first). Read with read_file (line ranges), find with search_files (names) and grep_files (contents), ' +
    'change with edit_file (exact replacements, returns a diff) or write_file.',
  config: configSchema,
  toolsets: {
    read: {
      description:
        'list_allowed_directories, list_directory, directory_tree, get_file_info, read_file, read_multiple_files, ' +
        'read_media_file, search_files, grep_files',
      default: true,
    },
    write: {
      description: 'write_file, edit_file, create_directory, move_file, copy_file, delete_path (read-write roots only)',
      default: true,
    },
  },
  tools,
  // FsError messages only ever name the caller's own input.
  mapError: (error) => (error instanceof FsError ? new ServiceError(error.code, error.message) : undefined),
  createContext: async (config, logger) => {
    const files = await FileService.create(config.ALLOWED_PATHS, {
      limits: { maxFileBytes: config.FS_MAX_FILE_BYTES, maxReadBytes: config.FS_MAX_READ_BYTES },
      createMissing: true,
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
