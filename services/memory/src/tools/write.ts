import { deleteInput, deleteOutput, storeInput, storeOutput, updateInput, updateOutput } from '../schemas.js';
import { defineMemoryTool } from './define.js';

export const memoryStore = defineMemoryTool({
  name: 'memory_store',
  title: 'Store a memory',
  toolset: 'write',
  description:
    'Remembers a piece of text with optional tags, type, metadata and conversation id. Identical content (after ' +
    'trimming surrounding whitespace) is stored once: storing it again returns the existing memory with created=false. ' +
    'Returns the content hash that identifies the memory.',
  input: storeInput,
  output: storeOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (input, ctx) => ctx.deps.store.store(input, ctx.signal),
});

export const memoryUpdate = defineMemoryTool({
  name: 'memory_update',
  title: 'Update a memory',
  toolset: 'write',
  description:
    "Replaces a memory's tags, type (null clears it) or metadata; the content is the memory's identity and cannot change.",
  input: updateInput,
  output: updateOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handler: async (input, ctx) => ctx.deps.store.update(input),
});

export const memoryDelete = defineMemoryTool({
  name: 'memory_delete',
  title: 'Delete memories',
  toolset: 'write',
  description:
    'Deletes one memory by hash, or every memory matching tags (tag_match any/all), a type and/or a time range ' +
    '(after/before, time_expr). dry_run=true only counts and shows them; a delete by tags, type or time needs ' +
    'confirm=true.',
  input: deleteInput,
  output: deleteOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handler: async (input, ctx) => ctx.deps.store.delete(input, ctx.signal),
});
