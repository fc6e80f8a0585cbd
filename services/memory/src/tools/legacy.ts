/**
 * The original plan's tool names, kept for clients and prompts written against it. Each is a thin
 * mapping onto the same store methods as the memory_* tools (one behaviour, two names).
 */
import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { MemoryError } from '../errors.js';
import { deleteOutput, listOutput, memorySchema, searchOutput, storeInput, storeOutput } from '../schemas.js';
import { defineMemoryTool } from './define.js';

export const storeMemory = defineMemoryTool({
  name: 'store_memory',
  title: 'Store a memory (alias of memory_store)',
  toolset: 'legacy',
  description: 'Same as memory_store: remembers text with optional tags, type and metadata; returns its content hash.',
  input: storeInput,
  output: storeOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (input, ctx) => ctx.deps.store.store(input, ctx.signal),
});

export const retrieveMemory = defineMemoryTool({
  name: 'retrieve_memory',
  title: 'Retrieve memories by meaning (alias of memory_search)',
  toolset: 'legacy',
  description: 'Same as memory_search with mode=semantic: the memories closest in meaning to the query.',
  input: z.object({
    query: z.string().min(1).max(4096).describe('What to look for'),
    n_results: z.number().int().min(1).max(100).default(5).describe('Most results (1-100)'),
    min_score: z.number().min(-1).max(1).optional().describe('Lowest cosine similarity to return'),
  }),
  output: searchOutput,
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ query, n_results, min_score }, ctx) => {
    const result = await ctx.deps.store.search(
      { query, mode: 'semantic', tag_match: 'any', limit: n_results, ...(min_score !== undefined && { min_score }) },
      ctx.config.MCP_MAX_RESULT_BYTES,
      ctx.signal,
    );
    return { ...result, count: result.results.length };
  },
});

export const searchByTag = defineMemoryTool({
  name: 'search_by_tag',
  title: 'Memories with tags (alias of memory_list)',
  toolset: 'legacy',
  description:
    'Same as memory_list with tags: memories carrying any (or, with match_all, every) of the tags, newest first.',
  input: z.object({
    tags: z.array(z.string().max(1024)).min(1).max(1000).describe('Tags to look for'),
    match_all: z.boolean().default(false).describe('true: only memories with every tag'),
    page: z.number().int().min(1).max(1_000_000).default(1),
    page_size: z.number().int().min(1).max(100).default(20),
  }),
  output: listOutput,
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ tags, match_all, page, page_size }, ctx) =>
    ctx.deps.store.list(
      { tags, tag_match: match_all ? 'all' : 'any', page, page_size },
      ctx.config.MCP_MAX_RESULT_BYTES,
      ctx.signal,
    ),
});

export const recallByTimeframe = defineMemoryTool({
  name: 'recall_by_timeframe',
  title: 'Memories from a time (alias of memory_search/memory_list)',
  toolset: 'legacy',
  description:
    'Memories created in a time range: time_expr ("yesterday", "last week", "3 days ago", "in March") or ' +
    'start_date/end_date (ISO dates; end_date inclusive of that day). With a query, ranked by meaning; without, newest first.',
  input: z.object({
    time_expr: z.string().max(100).optional(),
    start_date: z.string().max(64).optional(),
    end_date: z.string().max(64).optional(),
    query: z.string().min(1).max(4096).optional().describe('Rank the memories of that time by meaning'),
    n_results: z.number().int().min(1).max(100).default(20),
  }),
  output: z.object({
    memories: z.array(memorySchema.extend({ score: z.number().optional() })),
    count: z.number(),
    truncated: z.boolean(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ time_expr, start_date, end_date, query, n_results }, ctx) => {
    const { store } = ctx.deps;
    // A bare end date covers that whole day.
    const before =
      end_date === undefined
        ? undefined
        : /^\d{4}-\d{2}-\d{2}$/.test(end_date.trim())
          ? new Date(Date.parse(`${end_date.trim()}T00:00:00Z`) + 86_400_000).toISOString()
          : end_date;
    const filters = {
      ...(time_expr !== undefined && { time_expr }),
      ...(start_date !== undefined && { after: start_date }),
      ...(before !== undefined && { before }),
    };
    if (Object.keys(filters).length === 0) {
      throw new MemoryError('INVALID_INPUT', 'give time_expr, or start_date and/or end_date');
    }
    if (query !== undefined) {
      const result = await store.search(
        { query, mode: 'semantic', tag_match: 'any', limit: n_results, ...filters },
        ctx.config.MCP_MAX_RESULT_BYTES,
        ctx.signal,
      );
      return { memories: result.results, count: result.results.length, truncated: result.truncated };
    }
    const listed = await store.list(
      { page: 1, page_size: n_results, tag_match: 'any', ...filters },
      ctx.config.MCP_MAX_RESULT_BYTES,
      ctx.signal,
    );
    // Without a query there is no ranking (and no score): newest first.
    return { memories: listed.memories, count: listed.memories.length, truncated: listed.truncated };
  },
});

export const deleteMemory = defineMemoryTool({
  name: 'delete_memory',
  title: 'Delete a memory (alias of memory_delete)',
  toolset: 'legacy',
  description: 'Same as memory_delete with a hash: deletes one memory by its content hash.',
  input: z.object({ content_hash: z.string().min(1).max(128).describe('Content hash of the memory') }),
  output: deleteOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handler: async ({ content_hash }, ctx) =>
    ctx.deps.store.delete({ hash: content_hash, tag_match: 'any', dry_run: false, confirm: false }, ctx.signal),
});
