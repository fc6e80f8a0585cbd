import { toolDefiner, type Toolsets } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { MemoryStore } from '../memory-store.js';
import type { TokenSigner } from '../tokens.js';

export interface Deps {
  store: MemoryStore;
  tokens: TokenSigner;
}

export const toolsets = {
  read: { description: 'Find memories: search by meaning, words or both, list, get, tags and stats', default: true },
  write: { description: 'Store, update and delete memories', default: true },
  legacy: {
    description: "The original plan's tool names (store_memory, retrieve_memory, …), served by the same code",
    default: true,
  },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const defineMemoryTool = toolDefiner<Config, Deps, Toolset>();
