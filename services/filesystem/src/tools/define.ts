import { toolDefiner } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { FileService } from '../file-service.js';

export interface Deps {
  files: FileService;
}

export type Toolset = 'read' | 'write';

export const defineFsTool = toolDefiner<Config, Deps, Toolset>();
