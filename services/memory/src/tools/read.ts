import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';

import {
  getInput,
  getOutput,
  listInput,
  listOutput,
  searchInput,
  searchOutput,
  statsInput,
  statsOutput,
  tagsInput,
  tagsOutput,
} from '../schemas.js';
import { defineMemoryTool } from './define.js';

export const memorySearch = defineMemoryTool({
  name: 'memory_search',
  title: 'Search memories',
  toolset: 'read',
  description:
    'Finds memories by meaning (mode=semantic, default), by words (exact: every word must appear) or both (hybrid), ' +
    'best first, optionally within tags, a type and a time range (after/before as ISO dates, or time_expr such as ' +
    '"yesterday", "last week", "3 days ago", "in March"). `score`: cosine similarity for semantic, bm25 relevance ' +
    'for exact, fused rank score for hybrid.',
  input: searchInput,
  output: searchOutput,
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async (input, ctx) => {
    const result = await ctx.deps.store.search(input, ctx.config.MCP_MAX_RESULT_BYTES, ctx.signal);
    return { ...result, count: result.results.length };
  },
});

export const memoryList = defineMemoryTool({
  name: 'memory_list',
  title: 'List memories',
  toolset: 'read',
  description: 'Lists memories newest first, a page at a time, optionally only those with some tags or a type.',
  input: listInput,
  output: listOutput,
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async (input, ctx) => ctx.deps.store.list(input, ctx.config.MCP_MAX_RESULT_BYTES, ctx.signal),
});

export const memoryGet = defineMemoryTool({
  name: 'memory_get',
  title: 'Get a memory',
  toolset: 'read',
  description: 'Returns one memory by its content hash.',
  input: getInput,
  output: getOutput,
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ hash }, ctx) => ({ memory: ctx.deps.store.get(hash) }),
});

export const memoryTags = defineMemoryTool({
  name: 'memory_tags',
  title: 'List tags',
  toolset: 'read',
  description: 'Lists the tags in use with how many memories carry each, most used first.',
  input: tagsInput,
  output: tagsOutput,
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ limit }, ctx) => ctx.deps.store.tagList(limit, ctx.config.MCP_MAX_RESULT_BYTES, ctx.signal),
});

export const memoryStats = defineMemoryTool({
  name: 'memory_stats',
  title: 'Memory statistics',
  toolset: 'read',
  description:
    'Counts memories, types and tags, the oldest and newest memory, the database size, the event outbox and the embeddings in use.',
  input: statsInput,
  output: statsOutput,
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async (_input, ctx) => ctx.deps.store.stats(ctx.signal),
});
