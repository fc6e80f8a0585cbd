/**
 * Reads: list, search (semantic, exact, hybrid), tags, stats, and the rows a bulk delete would
 * take. Each function takes a connection and already-normalised arguments, so the same code runs
 * in the query processes (query-pool.ts) and in tests. Values are always bound parameters.
 * Plain domain code: no MCP or server imports.
 */
import type Database from 'better-sqlite3';

import type { CodeCache } from './code-cache.js';
import { MemoryError } from './errors.js';
import { readSpec, vectorTables } from './schema.js';

export interface Filters {
  tags?: string[] | undefined;
  tagMatch?: 'any' | 'all' | undefined;
  type?: string | undefined;
  /** Inclusive lower bound of created_at, epoch ms. */
  after?: number | undefined;
  /** Exclusive upper bound of created_at, epoch ms. */
  before?: number | undefined;
}

export interface MemoryRecord {
  hash: string;
  content: string;
  type: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  conversation_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface MemoryRow {
  id: number;
  hash: string;
  content: string;
  type: string | null;
  tags: string;
  metadata: string;
  conversation_id: string | null;
  created_at: number;
  updated_at: number;
}

export const MEMORY_COLUMNS =
  'm.id, m.hash, m.content, m.type, m.tags, m.metadata, m.conversation_id, m.created_at, m.updated_at';

export function toRecord(row: MemoryRow): MemoryRecord {
  return {
    hash: row.hash,
    content: row.content,
    type: row.type,
    tags: JSON.parse(row.tags) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    conversation_id: row.conversation_id,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** The WHERE conditions (on alias m) and their parameters for the filters; "1" when there are none. */
export function filterSql(filters: Filters): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filters.tags !== undefined && filters.tags.length > 0) {
    if (filters.tagMatch === 'all') {
      parts.push(
        'm.id IN (SELECT memory_id FROM memory_tags WHERE tag IN (SELECT value FROM json_each(?)) ' +
          'GROUP BY memory_id HAVING count(*) = ?)',
      );
      params.push(JSON.stringify(filters.tags), filters.tags.length);
    } else {
      parts.push('m.id IN (SELECT memory_id FROM memory_tags WHERE tag IN (SELECT value FROM json_each(?)))');
      params.push(JSON.stringify(filters.tags));
    }
  }
  if (filters.type !== undefined) {
    parts.push('m.type = ?');
    params.push(filters.type);
  }
  if (filters.after !== undefined) {
    parts.push('m.created_at >= ?');
    params.push(filters.after);
  }
  if (filters.before !== undefined) {
    parts.push('m.created_at < ?');
    params.push(filters.before);
  }
  return { sql: parts.length === 0 ? '1' : parts.join(' AND '), params };
}

export function hasFilters(filters: Filters): boolean {
  return (
    (filters.tags !== undefined && filters.tags.length > 0) ||
    filters.type !== undefined ||
    filters.after !== undefined ||
    filters.before !== undefined
  );
}

/** Collects records until the JSON budget is spent; says whether some were left out. */
function withinBudget<T>(items: readonly T[], maxBytes: number): { items: T[]; truncated: boolean } {
  const out: T[] = [];
  // The envelope around the items (counts, page numbers) is small; keep room for it.
  let bytes = 512;
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;
    if (bytes > maxBytes) return { items: out, truncated: true };
    out.push(item);
  }
  return { items: out, truncated: false };
}

export interface ListArgs extends Filters {
  page: number;
  pageSize: number;
  maxBytes: number;
}

export interface ListResult {
  memories: MemoryRecord[];
  page: number;
  page_size: number;
  total: number;
  pages: number;
  truncated: boolean;
}

export function listMemories(db: Database.Database, args: ListArgs): ListResult {
  const where = filterSql(args);
  const total =
    db
      .prepare<unknown[], number>(`SELECT count(*) FROM memories m WHERE ${where.sql}`)
      .pluck()
      .get(...where.params) ?? 0;
  const rows = db
    .prepare<unknown[], MemoryRow>(
      `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE ${where.sql} ORDER BY m.created_at DESC, m.id DESC LIMIT ? OFFSET ?`,
    )
    .all(...where.params, args.pageSize, (args.page - 1) * args.pageSize);
  const { items, truncated } = withinBudget(rows.map(toRecord), args.maxBytes);
  return {
    memories: items,
    page: args.page,
    page_size: args.pageSize,
    total,
    pages: Math.ceil(total / args.pageSize),
    truncated,
  };
}

export type SearchMode = 'semantic' | 'exact' | 'hybrid';

export interface SearchArgs extends Filters {
  mode: SearchMode;
  /** The FTS5 query built by ftsQuery() (exact and hybrid). */
  fts?: string | undefined;
  /** The query's unit vector (semantic and hybrid). */
  vector?: Float32Array | undefined;
  limit: number;
  minScore?: number | undefined;
  /** Candidates taken from the binary index before float rescoring. */
  candidates: number;
  /** Filtered searches scan exactly when at most this many memories match the filters. */
  exactScanLimit: number;
  maxBytes: number;
}

export interface SearchHit extends MemoryRecord {
  score: number;
}

export interface SearchResult {
  mode: SearchMode;
  results: SearchHit[];
  truncated: boolean;
  /** How the semantic part ran: the quantised index with rescoring, or an exact scan of the filtered memories. */
  strategy?: 'quantised+rescore' | 'exact-scan';
}

const WORDS = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * The FTS5 query for a user's words: every run of letters and digits becomes one double-quoted
 * string (quotes cannot occur inside), AND-ed. FTS5 operators, column filters, NEAR, `*`, `^` and
 * quotes in the input are just separators, so user text can never change the query's shape.
 */
export function ftsQuery(text: string): string {
  const words = (text.normalize('NFKC').match(WORDS) ?? []).slice(0, 32).map((word) => word.slice(0, 64));
  if (words.length === 0) {
    throw new MemoryError('INVALID_INPUT', 'query has no word to match (exact search looks for letters and digits)');
  }
  return words.map((word) => `"${word}"`).join(' ');
}

/**
 * Codes kept by Hamming distance before the asymmetric ranking (binary-index.ts). Measured at a
 * million memories (200 queries, 1000 rescored): recall@10 0.9835 with 20,000, 0.977 with 10,000,
 * 0.9725 with 8,000; 10,000 halves the ranking stage (about 8 ms of a search).
 */
const PRESELECT = 10_000;

interface Scored {
  id: number;
  score: number;
}

function topK(scored: Scored[], k: number): Scored[] {
  return scored.sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
}

/** Semantic candidates: ids with cosine similarity, best first. */
function semanticIds(
  db: Database.Database,
  args: SearchArgs,
  k: number,
  cache: CodeCache,
): { hits: Scored[]; strategy: SearchResult['strategy'] } {
  const vector = args.vector;
  if (vector === undefined) throw new MemoryError('INTERNAL', 'semantic search without a query vector');
  const spec = readSpec(db);
  if (spec === undefined) return { hits: [], strategy: 'exact-scan' };
  if (spec.dimensions !== vector.length) {
    throw new MemoryError('INTERNAL', `query vector has ${vector.length} dimensions; the index has ${spec.dimensions}`);
  }
  const { floats } = vectorTables(spec.generation);
  const query = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
  const where = filterSql(args);
  if (hasFilters(args) && args.exactScanLimit > 0) {
    // Few matching memories: score every one exactly (no quantisation error at all).
    const matching = db
      .prepare<unknown[], number>(`SELECT count(*) FROM (SELECT 1 FROM memories m WHERE ${where.sql} LIMIT ?)`)
      .pluck()
      .get(...where.params, args.exactScanLimit + 1);
    if ((matching ?? 0) <= args.exactScanLimit) {
      const hits = db
        .prepare<unknown[], Scored>(
          `SELECT v.id AS id, 1 - vec_distance_cosine(v.embedding, ?) AS score FROM memories m ` +
            `JOIN ${floats} v ON v.id = m.id WHERE ${where.sql} ORDER BY score DESC, v.id LIMIT ?`,
        )
        .all(query, ...where.params, k);
      return { hits, strategy: 'exact-scan' };
    }
  }
  // Hamming distance over the binary codes picks candidates; the float vectors rescore them exactly.
  const index = cache.refresh(db, spec);
  const candidates = Math.max(args.candidates, k * 4);
  const ids = index.nearest(vector, candidates, PRESELECT);
  // Vectors are deleted with their memory, so a candidate with a vector is a live memory; the join
  // with memories is needed only to apply filters.
  const hits = db
    .prepare<unknown[], Scored>(
      hasFilters(args)
        ? `SELECT v.id AS id, 1 - vec_distance_cosine(v.embedding, ?) AS score FROM ${floats} v ` +
            `JOIN memories m ON m.id = v.id WHERE v.id IN (SELECT value FROM json_each(?)) AND ${where.sql} ` +
            `ORDER BY score DESC, v.id LIMIT ?`
        : `SELECT v.id AS id, 1 - vec_distance_cosine(v.embedding, ?) AS score FROM ${floats} v ` +
            `WHERE v.id IN (SELECT value FROM json_each(?)) ORDER BY score DESC, v.id LIMIT ?`,
    )
    .all(query, JSON.stringify(ids), ...where.params, k);
  return { hits, strategy: 'quantised+rescore' };
}

/** Exact (FTS5) candidates: ids with the negated bm25 rank (higher is better), best first. */
function exactIds(db: Database.Database, args: SearchArgs, k: number): Scored[] {
  if (args.fts === undefined) throw new MemoryError('INTERNAL', 'exact search without an FTS query');
  const where = filterSql(args);
  return db
    .prepare<unknown[], Scored>(
      `SELECT m.id AS id, -f.rank AS score FROM memories_fts f JOIN memories m ON m.id = f.rowid ` +
        `WHERE memories_fts MATCH ? AND ${where.sql} ORDER BY f.rank LIMIT ?`,
    )
    .all(args.fts, ...where.params, k);
}

/** Reciprocal rank fusion: score = Σ 1 / (RRF_K + rank), rank from 1, over the lists a memory is in. */
export const RRF_K = 60;

export function fuse(lists: readonly Scored[][]): Scored[] {
  const scores = new Map<number, number>();
  for (const list of lists) {
    list.forEach((hit, index) => scores.set(hit.id, (scores.get(hit.id) ?? 0) + 1 / (RRF_K + index + 1)));
  }
  return topK(
    [...scores].map(([id, score]) => ({ id, score })),
    Number.MAX_SAFE_INTEGER,
  );
}

export function searchMemories(db: Database.Database, args: SearchArgs, cache: CodeCache): SearchResult {
  let hits: Scored[];
  let strategy: SearchResult['strategy'];
  if (args.mode === 'semantic') {
    ({ hits, strategy } = semanticIds(db, args, args.limit, cache));
  } else if (args.mode === 'exact') {
    hits = exactIds(db, args, args.limit);
  } else {
    const depth = Math.max(50, args.limit * 3);
    const semantic = semanticIds(db, args, depth, cache);
    strategy = semantic.strategy;
    hits = fuse([semantic.hits, exactIds(db, args, depth)]).slice(0, args.limit);
  }
  if (args.minScore !== undefined) hits = hits.filter((hit) => hit.score >= (args.minScore ?? 0));
  const rows = db
    .prepare<[string], MemoryRow>(`SELECT ${MEMORY_COLUMNS} FROM json_each(?) j JOIN memories m ON m.id = j.value`)
    .all(JSON.stringify(hits.map((hit) => hit.id)));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const results = hits.flatMap((hit) => {
    const row = byId.get(hit.id);
    return row === undefined ? [] : [{ ...toRecord(row), score: hit.score }];
  });
  const { items, truncated } = withinBudget(results, args.maxBytes);
  return { mode: args.mode, results: items, truncated, ...(strategy !== undefined && { strategy }) };
}

export interface TagCount {
  tag: string;
  count: number;
}

export function tagCounts(
  db: Database.Database,
  limit: number,
  maxBytes: number,
): { tags: TagCount[]; total_tags: number; truncated: boolean } {
  const tags = db
    .prepare<[number], TagCount>(
      'SELECT tag, count(*) AS count FROM memory_tags GROUP BY tag ORDER BY count DESC, tag LIMIT ?',
    )
    .all(limit + 1);
  const total = db.prepare<[], number>('SELECT count(DISTINCT tag) FROM memory_tags').pluck().get() ?? 0;
  const within = withinBudget(tags.slice(0, limit), maxBytes);
  return { tags: within.items, total_tags: total, truncated: within.truncated || tags.length > limit };
}

export interface Stats {
  memories: number;
  types: { type: string | null; count: number }[];
  tags: number;
  oldest: string | null;
  newest: string | null;
  database_bytes: number;
  events: { oldest_id: number | null; newest_id: number | null; count: number };
  embeddings: { provider: string; model: string; dimensions: number; generation: number } | null;
}

export function stats(db: Database.Database): Stats {
  const count = db.prepare<[], number>('SELECT count(*) FROM memories').pluck().get() ?? 0;
  const types = db
    .prepare<[], { type: string | null; count: number }>(
      'SELECT type, count(*) AS count FROM memories GROUP BY type ORDER BY count DESC, type LIMIT 100',
    )
    .all();
  const range = db
    .prepare<[], { oldest: number | null; newest: number | null }>(
      'SELECT min(created_at) AS oldest, max(created_at) AS newest FROM memories',
    )
    .get();
  const events = db
    .prepare<[], { oldest_id: number | null; newest_id: number | null; count: number }>(
      'SELECT min(id) AS oldest_id, max(id) AS newest_id, count(*) AS count FROM events',
    )
    .get() ?? { oldest_id: null, newest_id: null, count: 0 };
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const spec = readSpec(db);
  return {
    memories: count,
    types,
    tags: db.prepare<[], number>('SELECT count(DISTINCT tag) FROM memory_tags').pluck().get() ?? 0,
    oldest: range?.oldest == null ? null : new Date(range.oldest).toISOString(),
    newest: range?.newest == null ? null : new Date(range.newest).toISOString(),
    database_bytes: pageCount * pageSize,
    events,
    embeddings: spec ?? null,
  };
}

/** What a bulk delete would take: how many, and the first few hashes. */
export function matchingForDelete(
  db: Database.Database,
  filters: Filters,
  sample: number,
): { count: number; hashes: string[] } {
  const where = filterSql(filters);
  const count =
    db
      .prepare<unknown[], number>(`SELECT count(*) FROM memories m WHERE ${where.sql}`)
      .pluck()
      .get(...where.params) ?? 0;
  const hashes = db
    .prepare<unknown[], string>(`SELECT m.hash FROM memories m WHERE ${where.sql} ORDER BY m.created_at, m.id LIMIT ?`)
    .pluck()
    .all(...where.params, sample);
  return { count, hashes };
}
