import { toolDefiner, type Toolsets } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { Fetcher } from '../fetcher.js';

export interface Deps {
  fetcher: Fetcher;
}

export const toolsets = {
  fetch: { description: 'Read web pages as markdown, text, HTML or JSON', default: true },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const defineFetchTool = toolDefiner<Config, Deps, Toolset>();
