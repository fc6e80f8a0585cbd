/**
 * The zod schemas of every argument and answer, shared by the MCP tools, the REST API and the
 * OpenAPI document (z.toJSONSchema), so the three can never disagree. Shapes only: the limits that
 * depend on settings (content bytes, tag count and length, metadata bytes) and the canonical forms
 * are applied by normalise.ts, with messages that name the setting.
 */
import { z } from 'zod';

export const hashSchema = z.string().min(1).max(128).describe('Content hash of a memory: 64 hexadecimal digits');
const tagsSchema = z
  .array(z.string().max(1024))
  .max(1000)
  .describe('Tags; normalised to one spelling (lowercase, NFKC, inner spaces as "-")');
const tagMatchSchema = z
  .enum(['any', 'all'])
  .describe('any: a memory with at least one of the tags; all: with every one');
const typeSchema = z
  .string()
  .max(256)
  .describe('A kind of memory, e.g. note, decision, preference (normalised like a tag)');
const metadataSchema = z.record(z.string(), z.unknown()).describe('A JSON object kept with the memory (bounded size)');
const instantSchema = z.string().max(64);
const timeExprSchema = z
  .string()
  .max(100)
  .describe('yesterday, last week, 3 days ago, in March, past 2 weeks, last monday, 2025, …; calendars are UTC');

export const storeInput = z.object({
  content: z
    .string()
    .min(1)
    .max(4 * 1024 * 1024)
    .describe('What to remember (trimmed; identical content is stored once)'),
  tags: tagsSchema.optional(),
  type: typeSchema.optional(),
  metadata: metadataSchema.optional(),
  conversation_id: z.string().max(1024).optional().describe('The conversation the memory came from'),
});

export const searchInput = z.object({
  query: z.string().min(1).max(4096).describe('What to look for'),
  mode: z
    .enum(['semantic', 'exact', 'hybrid'])
    .default('semantic')
    .describe(
      'semantic: by meaning (vectors); exact: every word must appear (full-text, bm25); hybrid: both, fused by rank',
    ),
  tags: tagsSchema.optional(),
  tag_match: tagMatchSchema.default('any'),
  type: typeSchema.optional(),
  after: instantSchema.optional().describe('Created at or after this ISO 8601 date/time (UTC unless a zone is given)'),
  before: instantSchema.optional().describe('Created before this ISO 8601 date/time'),
  time_expr: timeExprSchema.optional(),
  limit: z.number().int().min(1).max(100).default(10).describe('Most results (1-100)'),
  min_score: z
    .number()
    .min(-1e9)
    .max(1e9)
    .optional()
    .describe('Drop results scoring below: semantic cosine similarity (-1..1), exact bm25 relevance, hybrid RRF score'),
});

export const listInput = z.object({
  page: z.number().int().min(1).max(1_000_000).default(1).describe('Page number, from 1'),
  page_size: z.number().int().min(1).max(100).default(20).describe('Memories per page (1-100), newest first'),
  tags: tagsSchema.optional(),
  tag_match: tagMatchSchema.default('any'),
  type: typeSchema.optional(),
  after: instantSchema.optional().describe('Created at or after this ISO 8601 date/time'),
  before: instantSchema.optional().describe('Created before this ISO 8601 date/time'),
  time_expr: timeExprSchema.optional(),
});

export const getInput = z.object({ hash: hashSchema });

export const updateInput = z.object({
  hash: hashSchema,
  tags: tagsSchema.optional().describe('The new tags (replace the old ones)'),
  type: typeSchema.nullable().optional().describe('The new type; null clears it'),
  metadata: metadataSchema.optional().describe('The new metadata (replaces the old object)'),
});

export const deleteInput = z.object({
  hash: hashSchema.optional().describe('Delete this one memory'),
  tags: tagsSchema.optional().describe('Delete memories with these tags (see tag_match)'),
  tag_match: tagMatchSchema.default('any'),
  type: typeSchema.optional(),
  after: instantSchema.optional(),
  before: instantSchema.optional(),
  time_expr: timeExprSchema.optional(),
  dry_run: z.boolean().default(false).describe('Only count and show what would be deleted'),
  confirm: z.boolean().default(false).describe('Required (true) for a delete by tags, type or time without dry_run'),
});

export const tagsInput = z.object({
  limit: z.number().int().min(1).max(10_000).default(1000).describe('Most tags to list, most used first'),
});

export const statsInput = z.object({});

export const memorySchema = z.object({
  hash: z.string(),
  content: z.string(),
  type: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  conversation_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const storeOutput = z.object({
  hash: z.string(),
  created: z.boolean().describe('false: a memory with the same content existed and was left as it was'),
  memory: memorySchema,
});

export const searchOutput = z.object({
  mode: z.enum(['semantic', 'exact', 'hybrid']),
  results: z.array(memorySchema.extend({ score: z.number() })),
  count: z.number(),
  truncated: z.boolean().describe('Some results were left out to stay within the answer size limit'),
  strategy: z.enum(['quantised+rescore', 'exact-scan']).optional(),
});

export const listOutput = z.object({
  memories: z.array(memorySchema),
  page: z.number(),
  page_size: z.number(),
  total: z.number(),
  pages: z.number(),
  truncated: z.boolean(),
});

export const getOutput = z.object({ memory: memorySchema });

export const updateOutput = z.object({ memory: memorySchema, changed: z.boolean() });

export const deleteOutput = z.object({
  deleted: z.number().describe('Memories deleted (0 on a dry run)'),
  matched: z.number().describe('Memories that matched'),
  dry_run: z.boolean(),
  hashes: z.array(z.string()).describe('The hashes deleted, or that would be (at most 100)'),
});

export const tagsOutput = z.object({
  tags: z.array(z.object({ tag: z.string(), count: z.number() })),
  total_tags: z.number(),
  truncated: z.boolean(),
});

export const statsOutput = z.object({
  memories: z.number(),
  types: z.array(z.object({ type: z.string().nullable(), count: z.number() })),
  tags: z.number(),
  oldest: z.string().nullable(),
  newest: z.string().nullable(),
  database_bytes: z.number(),
  events: z.object({ oldest_id: z.number().nullable(), newest_id: z.number().nullable(), count: z.number() }),
  embeddings: z
    .object({ provider: z.string(), model: z.string(), dimensions: z.number(), generation: z.number() })
    .nullable(),
});

export type StoreInput = z.infer<typeof storeInput>;
export type SearchInput = z.infer<typeof searchInput>;
export type ListInput = z.infer<typeof listInput>;
export type UpdateInput = z.infer<typeof updateInput>;
export type DeleteInput = z.infer<typeof deleteInput>;
