/**
 * Writes: store (deduplicated by content hash), update, delete, and the outbox reads and pruning.
 * Each write is one IMMEDIATE transaction (all of it or nothing; the outbox row commits with it).
 * Arguments arrive normalised (normalise.ts). Plain domain code: no MCP or server imports.
 */
import type Database from 'better-sqlite3';

import { signCode } from './binary-index.js';
import { MemoryError } from './errors.js';
import { type Filters, filterSql, MEMORY_COLUMNS, type MemoryRecord, type MemoryRow, toRecord } from './queries.js';
import { readSpec, type StoredSpec, vectorTables, writeMeta } from './schema.js';

export interface NewMemory {
  hash: string;
  content: string;
  type: string | null;
  tags: string[];
  /** JSON text of the metadata object. */
  metadata: string;
  conversationId: string | null;
}

export function findByHash(db: Database.Database, hash: string): MemoryRecord | undefined {
  const row = db.prepare<[string], MemoryRow>(`SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.hash = ?`).get(hash);
  return row === undefined ? undefined : toRecord(row);
}

function vectorBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** Inserts the float vector and its binary code for memory `id` into `generation`'s tables. */
export function insertVector(db: Database.Database, generation: number, id: number, vector: Float32Array): void {
  const { floats, codes } = vectorTables(generation);
  db.prepare(`INSERT OR REPLACE INTO ${floats} (id, embedding) VALUES (?, ?)`).run(id, vectorBlob(vector));
  db.prepare(`INSERT OR REPLACE INTO ${codes} (id, code) VALUES (?, ?)`).run(id, signCode(vector));
}

export interface StoreResult {
  memory: MemoryRecord;
  /** False when a memory with the same content existed (nothing changed). */
  created: boolean;
}

/**
 * Stores a memory with its vector, unless one with the same hash exists. `spec` is what the vector
 * was made with: a database re-embedded meanwhile by another process is refused, not polluted.
 */
export function storeMemory(
  db: Database.Database,
  memory: NewMemory,
  vector: Float32Array,
  spec: StoredSpec,
  now: number,
): StoreResult {
  return db
    .transaction((): StoreResult => {
      const existing = findByHash(db, memory.hash);
      if (existing) return { memory: existing, created: false };
      const current = readSpec(db);
      if (current?.generation !== spec.generation || current.dimensions !== vector.length) {
        throw new MemoryError(
          'UNAVAILABLE',
          'The memory database was re-embedded by another process; restart the service',
        );
      }
      const { lastInsertRowid } = db
        .prepare(
          'INSERT INTO memories (hash, content, type, tags, metadata, conversation_id, created_at, updated_at) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          memory.hash,
          memory.content,
          memory.type,
          JSON.stringify(memory.tags),
          memory.metadata,
          memory.conversationId,
          now,
          now,
        );
      insertVector(db, spec.generation, Number(lastInsertRowid), vector);
      const stored = findByHash(db, memory.hash);
      if (!stored) throw new MemoryError('INTERNAL', 'stored memory vanished');
      return { memory: stored, created: true };
    })
    .immediate();
}

export interface MemoryChanges {
  tags?: string[] | undefined;
  type?: string | null | undefined;
  /** JSON text of the new metadata object (replaces the old one). */
  metadata?: string | undefined;
}

export function updateMemory(
  db: Database.Database,
  hash: string,
  changes: MemoryChanges,
  now: number,
): { memory: MemoryRecord; changed: boolean } {
  return db
    .transaction(() => {
      const row = db
        .prepare<[string], MemoryRow>(`SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.hash = ?`)
        .get(hash);
      if (!row) throw new MemoryError('NOT_FOUND', `No memory with hash ${hash}`);
      const tags = changes.tags === undefined ? row.tags : JSON.stringify(changes.tags);
      const type = changes.type === undefined ? row.type : changes.type;
      const metadata = changes.metadata ?? row.metadata;
      const changed = tags !== row.tags || type !== row.type || metadata !== row.metadata;
      if (changed) {
        db.prepare('UPDATE memories SET tags = ?, type = ?, metadata = ?, updated_at = ? WHERE id = ?').run(
          tags,
          type,
          metadata,
          Math.max(now, row.updated_at),
          row.id,
        );
      }
      const memory = findByHash(db, hash);
      if (!memory) throw new MemoryError('INTERNAL', 'updated memory vanished');
      return { memory, changed };
    })
    .immediate();
}

function deleteIds(db: Database.Database, ids: readonly number[]): number {
  const spec = readSpec(db);
  let deleted = 0;
  const remove = db.prepare('DELETE FROM memories WHERE id = ?');
  const { floats, codes } = spec ? vectorTables(spec.generation) : { floats: undefined, codes: undefined };
  const removeFloat = floats ? db.prepare(`DELETE FROM ${floats} WHERE id = ?`) : undefined;
  const removeCode = codes ? db.prepare(`DELETE FROM ${codes} WHERE id = ?`) : undefined;
  for (const id of ids) {
    deleted += remove.run(id).changes;
    removeFloat?.run(id);
    removeCode?.run(id);
  }
  return deleted;
}

/** Deletes one memory by hash; false when there was none. */
export function deleteByHash(db: Database.Database, hash: string): boolean {
  return db
    .transaction(() => {
      const id = db.prepare<[string], number>('SELECT id FROM memories WHERE hash = ?').pluck().get(hash);
      return id === undefined ? false : deleteIds(db, [id]) === 1;
    })
    .immediate();
}

/**
 * Deletes up to `batch` memories matching the filters, oldest first, in one transaction; returns
 * how many went. A bulk delete calls it until it returns 0, yielding in between, so no single
 * transaction (and no stretch of the event loop) grows with the number of matches.
 */
export function deleteBatch(db: Database.Database, filters: Filters, batch: number): number {
  const where = filterSql(filters);
  return db
    .transaction(() => {
      const ids = db
        .prepare<unknown[], number>(
          `SELECT m.id FROM memories m WHERE ${where.sql} ORDER BY m.created_at, m.id LIMIT ?`,
        )
        .pluck()
        .all(...where.params, batch);
      return deleteIds(db, ids);
    })
    .immediate();
}

export interface OutboxEvent {
  id: number;
  type: 'memory_stored' | 'memory_updated' | 'memory_deleted';
  data: string;
}

export function newestEventId(db: Database.Database): number {
  return db.prepare<[], number | null>('SELECT max(id) FROM events').pluck().get() ?? 0;
}

export function eventsAfter(db: Database.Database, after: number, limit: number): OutboxEvent[] {
  return db
    .prepare<[number, number], OutboxEvent>('SELECT id, type, data FROM events WHERE id > ? ORDER BY id LIMIT ?')
    .all(after, limit);
}

/** The highest event id pruned so far (0 when none was): a resume from below it has lost events. */
export function prunedThrough(db: Database.Database): number {
  const value = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'events_pruned_through'").pluck().get();
  return value === undefined ? 0 : Number(value);
}

/**
 * Prunes the outbox: events older than `olderThan` (epoch ms), and the oldest beyond `maxRows`,
 * at most `batch` rows per call (a bounded transaction). Returns how many rows went.
 */
export function pruneEvents(db: Database.Database, olderThan: number, maxRows: number, batch: number): number {
  return db
    .transaction(() => {
      const newest = newestEventId(db);
      const cut = db
        .prepare<[number, number, number], number | null>(
          'SELECT max(id) FROM (SELECT id FROM events WHERE at < ? OR id <= ? ORDER BY id LIMIT ?)',
        )
        .pluck()
        .get(olderThan, newest - maxRows, batch);
      if (cut === null || cut === undefined) return 0;
      const { changes } = db.prepare('DELETE FROM events WHERE id <= ?').run(cut);
      writeMeta(db, 'events_pruned_through', String(Math.max(cut, prunedThrough(db))));
      return changes;
    })
    .immediate();
}
