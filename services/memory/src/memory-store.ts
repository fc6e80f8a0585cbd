/**
 * The memory store the tools and the REST API share: it normalises arguments, embeds, writes on
 * the main connection (short transactions), sends reads to the query processes, and tells the
 * event hub about its own commits. Plain domain code: no MCP or server imports.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import type Database from 'better-sqlite3';

import type { Config } from './config.js';
import { createProvider, type EmbeddingProvider } from './embeddings.js';
import { MemoryError, translateSqliteError } from './errors.js';
import { EventHub } from './events.js';
import {
  contentHash,
  type Limits,
  normaliseContent,
  normaliseConversationId,
  normaliseMetadata,
  normaliseTags,
  normaliseType,
  parseHash,
  parseInstant,
} from './normalise.js';
import {
  type Filters,
  ftsQuery,
  type ListResult,
  type MemoryRecord,
  type SearchResult,
  type Stats,
} from './queries.js';
import { QueryPool } from './query-pool.js';
import { openConnection, prepareSchema, type StoredSpec } from './schema.js';
import type { DeleteInput, ListInput, SearchInput, StoreInput, UpdateInput } from './schemas.js';
import { parseTimeExpression } from './time-expr.js';
import { deleteBatch, deleteByHash, findByHash, pruneEvents, storeMemory, updateMemory } from './writes.js';

export interface MemoryStoreOptions {
  /** The clock (epoch ms): injected by tests of time expressions. */
  now?: () => number;
  /** The embeddings provider; by default the one the settings describe. */
  provider?: EmbeddingProvider;
  onError?: (error: unknown) => void;
  /** WARM_AT_START_MEMORIES, lowered by tests. */
  warmAtStartMemories?: number;
}

export type MemorySettings = Pick<
  Config,
  | 'MEMORY_DB_PATH'
  | 'MEMORY_MAX_CONTENT_BYTES'
  | 'MEMORY_MAX_METADATA_BYTES'
  | 'MEMORY_MAX_TAGS'
  | 'MEMORY_MAX_TAG_LENGTH'
  | 'MEMORY_BUSY_TIMEOUT_MS'
  | 'MEMORY_QUERY_WORKERS'
  | 'MEMORY_SEARCH_CANDIDATES'
  | 'MEMORY_EXACT_SCAN_LIMIT'
  | 'MEMORY_DELETE_BATCH'
  | 'EVENTS_RETENTION_HOURS'
  | 'EVENTS_MAX_ROWS'
  | 'EVENTS_POLL_MS'
  | 'EMBEDDINGS'
  | 'EMBEDDINGS_URL'
  | 'EMBEDDINGS_MODEL'
  | 'EMBEDDINGS_API_KEY'
  | 'EMBEDDINGS_API_KEY_FILE'
  | 'EMBEDDINGS_DIMENSIONS'
  | 'EMBEDDINGS_BATCH_SIZE'
  | 'EMBEDDINGS_TIMEOUT_MS'
  | 'EMBEDDINGS_MAX_RETRIES'
>;

/** Most rows a delete reports by hash. */
const HASH_SAMPLE = 100;

/**
 * From this many memories (6.4 MB of codes a query process), the query processes start a second
 * after the service instead of with the first read: loading the codes then takes long enough that
 * the first search should not wait for it, and the codes outweigh an idle process anyway.
 */
export const WARM_AT_START_MEMORIES = 100_000;

export class MemoryStore {
  readonly db: Database.Database;
  readonly events: EventHub;
  readonly provider: EmbeddingProvider;
  readonly spec: StoredSpec;
  private readonly pool: QueryPool;
  private readonly limits: Limits;
  private readonly now: () => number;
  private pruneTimer: NodeJS.Timeout | undefined;
  private warmTimer: NodeJS.Timeout | undefined;
  /** Whether start() warms the query processes (a large store) or leaves them to the first read. */
  readonly warmsAtStart: boolean;

  constructor(
    private readonly settings: Readonly<MemorySettings>,
    options: MemoryStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.provider = options.provider ?? createProvider(settings);
    this.limits = {
      maxContentBytes: settings.MEMORY_MAX_CONTENT_BYTES,
      maxMetadataBytes: settings.MEMORY_MAX_METADATA_BYTES,
      maxTags: settings.MEMORY_MAX_TAGS,
      maxTagLength: settings.MEMORY_MAX_TAG_LENGTH,
    };
    this.db = openConnection({ path: settings.MEMORY_DB_PATH, busyTimeoutMs: settings.MEMORY_BUSY_TIMEOUT_MS });
    try {
      this.spec = prepareSchema(this.db, this.provider.spec);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.pool = new QueryPool({
      path: settings.MEMORY_DB_PATH,
      busyTimeoutMs: settings.MEMORY_BUSY_TIMEOUT_MS,
      workers: settings.MEMORY_QUERY_WORKERS,
      maxQueued: settings.MEMORY_QUERY_WORKERS * 32,
    });
    // ids only grow (AUTOINCREMENT): the largest is the number of memories ever stored, an upper
    // bound of the codes to load, read from the index's end.
    const largest = this.db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM memories').get()?.id ?? 0;
    this.warmsAtStart = largest >= (options.warmAtStartMemories ?? WARM_AT_START_MEMORIES);
    this.events = new EventHub(this.db, {
      path: settings.MEMORY_DB_PATH,
      pollMs: settings.EVENTS_POLL_MS,
      ...(options.onError && { onError: options.onError }),
    });
  }

  /**
   * Starts the event watcher, the outbox pruning, and for a large store (a second later, so that
   * start-up is not slowed by it) the query processes, which load the binary codes before the first
   * search. A smaller store's query processes start with its first read.
   */
  start(): void {
    this.events.start();
    if (this.warmsAtStart) {
      this.warmTimer = setTimeout(() => this.pool.warm(), 1000);
      this.warmTimer.unref();
    }
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), 60_000);
    this.pruneTimer.unref();
  }

  close(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.warmTimer) clearTimeout(this.warmTimer);
    this.events.stop();
    this.pool.close();
    this.db.close();
  }

  /** Query process ids (tests). */
  queryPids(): number[] {
    return this.pool.pids();
  }

  private write<T>(work: () => T): T {
    let result: T;
    try {
      result = work();
    } catch (error) {
      throw translateSqliteError(error);
    }
    this.events.notify();
    return result;
  }

  private tags(tags: readonly string[] | undefined): string[] | undefined {
    return tags === undefined ? undefined : normaliseTags(tags, this.limits);
  }

  /** Filters from tags, type, after/before and a time expression (which narrows after/before). */
  private filters(input: {
    tags?: string[] | undefined;
    tag_match?: 'any' | 'all' | undefined;
    type?: string | undefined;
    after?: string | undefined;
    before?: string | undefined;
    time_expr?: string | undefined;
  }): Filters {
    let after = input.after === undefined ? undefined : parseInstant(input.after, 'after');
    let before = input.before === undefined ? undefined : parseInstant(input.before, 'before');
    if (input.time_expr !== undefined) {
      const range = parseTimeExpression(input.time_expr, this.now());
      after = after === undefined ? range.after : Math.max(after, range.after);
      before = before === undefined ? range.before : Math.min(before, range.before);
    }
    const tags = this.tags(input.tags);
    return {
      ...(tags !== undefined && tags.length > 0 && { tags, tagMatch: input.tag_match ?? 'any' }),
      ...(input.type !== undefined && { type: normaliseType(input.type) }),
      ...(after !== undefined && { after }),
      ...(before !== undefined && { before }),
    };
  }

  async store(
    input: StoreInput,
    signal?: AbortSignal,
  ): Promise<{ hash: string; created: boolean; memory: MemoryRecord }> {
    const content = normaliseContent(input.content, this.limits);
    const hash = contentHash(content);
    const memory = {
      hash,
      content,
      type: input.type === undefined ? null : normaliseType(input.type),
      tags: this.tags(input.tags) ?? [],
      metadata: normaliseMetadata(input.metadata ?? {}, this.limits),
      conversationId: input.conversation_id === undefined ? null : normaliseConversationId(input.conversation_id),
    };
    // Known content needs no embedding (an API call, with the openai provider).
    const existing = findByHash(this.db, hash);
    if (existing) return { hash, created: false, memory: existing };
    const [vector] = await this.provider.embed([content], signal);
    if (!vector) throw new MemoryError('INTERNAL', 'no embedding returned');
    signal?.throwIfAborted();
    const result = this.write(() => storeMemory(this.db, memory, vector, this.spec, this.now()));
    return { hash, created: result.created, memory: result.memory };
  }

  get(hash: string): MemoryRecord {
    const found = findByHash(this.db, parseHash(hash));
    if (!found) throw new MemoryError('NOT_FOUND', `No memory with hash ${parseHash(hash)}`);
    return found;
  }

  update(input: UpdateInput): { memory: MemoryRecord; changed: boolean } {
    const hash = parseHash(input.hash);
    if (input.tags === undefined && input.type === undefined && input.metadata === undefined) {
      throw new MemoryError('INVALID_INPUT', 'nothing to update: give tags, type or metadata');
    }
    const changes = {
      tags: this.tags(input.tags),
      type: input.type === undefined ? undefined : input.type === null ? null : normaliseType(input.type),
      metadata: input.metadata === undefined ? undefined : normaliseMetadata(input.metadata, this.limits),
    };
    return this.write(() => updateMemory(this.db, hash, changes, this.now()));
  }

  async list(input: ListInput, maxBytes: number, signal?: AbortSignal): Promise<ListResult> {
    const filters = this.filters(input);
    return this.pool.run<ListResult>(
      { op: 'list', args: { ...filters, page: input.page, pageSize: input.page_size, maxBytes } },
      signal,
    );
  }

  async search(input: SearchInput, maxBytes: number, signal?: AbortSignal): Promise<SearchResult> {
    const filters = this.filters(input);
    if (input.query.trim().length === 0) throw new MemoryError('INVALID_INPUT', 'query is empty');
    // Hybrid search of a query without words (emoji, punctuation) is semantic alone.
    let fts: string | undefined;
    if (input.mode !== 'semantic') {
      try {
        fts = ftsQuery(input.query);
      } catch (error) {
        if (input.mode === 'exact') throw error;
      }
    }
    let vector: Float32Array | undefined;
    if (input.mode !== 'exact') {
      [vector] = await this.provider.embed([input.query], signal);
    }
    return this.pool.run<SearchResult>(
      {
        op: 'search',
        args: {
          ...filters,
          mode: input.mode,
          fts,
          vector,
          limit: input.limit,
          minScore: input.min_score,
          candidates: this.settings.MEMORY_SEARCH_CANDIDATES,
          exactScanLimit: this.settings.MEMORY_EXACT_SCAN_LIMIT,
          maxBytes,
        },
      },
      signal,
    );
  }

  async tagList(limit: number, maxBytes: number, signal?: AbortSignal) {
    return this.pool.run<{ tags: { tag: string; count: number }[]; total_tags: number; truncated: boolean }>(
      { op: 'tags', args: { limit, maxBytes } },
      signal,
    );
  }

  async stats(signal?: AbortSignal): Promise<Stats> {
    return this.pool.run<Stats>({ op: 'stats', args: {} }, signal);
  }

  /**
   * Deletes one memory (hash), or every memory matching tags/type/time. A bulk delete needs
   * `confirm: true` unless it is a dry run, and never runs without a criterion. It goes in
   * batches of MEMORY_DELETE_BATCH, one transaction each, yielding to the event loop between
   * them; a cancelled delete stops between batches (what was deleted stays deleted, each memory
   * wholly). A hash together with other criteria is refused: it would be unclear which applies.
   */
  async delete(
    input: DeleteInput,
    signal?: AbortSignal,
  ): Promise<{ deleted: number; matched: number; dry_run: boolean; hashes: string[] }> {
    const bulk =
      input.tags !== undefined ||
      input.type !== undefined ||
      input.after !== undefined ||
      input.before !== undefined ||
      input.time_expr !== undefined;
    if (input.hash !== undefined) {
      if (bulk)
        throw new MemoryError('INVALID_INPUT', 'give either hash, or tags/type/after/before/time_expr, not both');
      const hash = parseHash(input.hash);
      const exists = findByHash(this.db, hash) !== undefined;
      if (input.dry_run) return { deleted: 0, matched: exists ? 1 : 0, dry_run: true, hashes: exists ? [hash] : [] };
      const deleted = this.write(() => deleteByHash(this.db, hash));
      if (!deleted) throw new MemoryError('NOT_FOUND', `No memory with hash ${hash}`);
      return { deleted: 1, matched: 1, dry_run: false, hashes: [hash] };
    }
    if (!bulk) {
      throw new MemoryError('INVALID_INPUT', 'say what to delete: hash, or tags, type, after, before or time_expr');
    }
    const filters = this.filters(input);
    if (Object.keys(filters).length === 0) {
      throw new MemoryError('INVALID_INPUT', 'tags is empty: say which tags (or type, or time) to delete');
    }
    const matching = await this.pool.run<{ count: number; hashes: string[] }>(
      { op: 'matching', args: { filters, sample: HASH_SAMPLE } },
      signal,
    );
    if (input.dry_run) return { deleted: 0, matched: matching.count, dry_run: true, hashes: matching.hashes };
    if (!input.confirm) {
      throw new MemoryError(
        'INVALID_INPUT',
        `this would delete ${matching.count} memories; send confirm: true to do it (or dry_run: true to look first)`,
      );
    }
    let deleted = 0;
    for (;;) {
      signal?.throwIfAborted();
      const removed = this.write(() => deleteBatch(this.db, filters, this.settings.MEMORY_DELETE_BATCH));
      deleted += removed;
      if (removed < this.settings.MEMORY_DELETE_BATCH) break;
      await yieldToLoop();
    }
    return { deleted, matched: matching.count, dry_run: false, hashes: matching.hashes };
  }

  /** Prunes the outbox in bounded transactions, yielding between them. */
  async prune(): Promise<number> {
    const olderThan = this.now() - this.settings.EVENTS_RETENTION_HOURS * 3_600_000;
    let total = 0;
    for (;;) {
      const removed = pruneEvents(this.db, olderThan, this.settings.EVENTS_MAX_ROWS, 5000);
      total += removed;
      if (removed < 5000) return total;
      await yieldToLoop();
    }
  }
}
