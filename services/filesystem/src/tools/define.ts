import { toolDefiner, type Toolsets } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { FileService } from '../file-service.js';

export interface Deps {
  files: FileService;
}

export const toolsets = {
  read: { description: 'List, read, search and inspect files under the allowed roots', default: true },
  write: { description: 'Write, edit, create, move, copy and delete (read-write roots only)', default: true },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const defineFsTool = toolDefiner<Config, Deps, Toolset>();
