/**
 * The memory database file: opening a connection (WAL, synchronous=FULL, sqlite-vec loaded), the
 * schema, and the record of which embeddings built the vectors. Plain domain code.
 *
 * Tables:
 * - memories: one row per memory; `hash` (SHA-256 of the trimmed content) is unique; `tags` is
 *   the normalised JSON array (what answers show), mirrored into memory_tags by triggers for
 *   indexed filtering; times are epoch ms.
 * - memories_fts: FTS5 over `content` (external content; kept in step by triggers).
 * - events: the outbox. Triggers on memories write one row per insert, update and delete, in the
 *   same transaction as the change, so every writer (this service, the re-embed command, another
 *   process on the same file) produces events, and an event exists iff its change committed.
 * - memory_vectors_g<N>: float32 embeddings (exact scoring with sqlite-vec's vec_distance_cosine);
 *   memory_codes_g<N>: their binary codes (binary-index.ts: the fast candidate scan). N is the
 *   embeddings generation in meta: the re-embed command fills generation N+1 and switches to it in
 *   one transaction. memories.id is AUTOINCREMENT, so ids only grow and a reader that has loaded
 *   the codes up to some id finds the new ones above it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';

import { type EmbeddingSpec, specLabel } from './embeddings.js';
import { MemoryError } from './errors.js';

export const SCHEMA_VERSION = 1;

export interface OpenOptions {
  path: string;
  busyTimeoutMs: number;
  readonly?: boolean;
}

/** Opens a connection with the service's settings and sqlite-vec loaded. */
export function openConnection(options: OpenOptions): Database.Database {
  if (!options.readonly) mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
  });
  try {
    sqliteVec.load(db);
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    if (!options.readonly) {
      // WAL: readers never block the writer; FULL: a commit is on disk before it is acknowledged.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    // Reads go through SQLite's own page cache (bounded: 32 MB a connection) rather than a memory
    // map, so a process's resident memory stays what it holds, whatever the size of the file.
    db.pragma('mmap_size = 0');
    db.pragma('cache_size = -32768');
    db.pragma('temp_store = MEMORY');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function vectorTables(generation: number): { floats: string; codes: string } {
  return { floats: `memory_vectors_g${generation}`, codes: `memory_codes_g${generation}` };
}

/** Creates generation `generation`'s vector tables (empty). */
export function createVectorTables(db: Database.Database, generation: number): void {
  const { floats, codes } = vectorTables(generation);
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${floats} (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS ${codes} (id INTEGER PRIMARY KEY, code BLOB NOT NULL);
  `);
}

export function dropVectorTables(db: Database.Database, generation: number): void {
  const { floats, codes } = vectorTables(generation);
  db.exec(`DROP TABLE IF EXISTS ${codes}; DROP TABLE IF EXISTS ${floats};`);
}

const EVENT_DATA = (row: 'NEW' | 'OLD') =>
  `json_object('hash', ${row}.hash, 'type', ${row}.type, 'tags', json(${row}.tags), ` +
  `'created_at', ${row}.created_at, 'updated_at', ${row}.updated_at, 'preview', substr(${row}.content, 1, 200))`;

const NOW_MS = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS memories (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash TEXT NOT NULL UNIQUE,
  content TEXT NOT NULL,
  type TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  metadata TEXT NOT NULL DEFAULT '{}',
  conversation_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_created ON memories (created_at);
CREATE INDEX IF NOT EXISTS memories_type_created ON memories (type, created_at);
CREATE TABLE IF NOT EXISTS memory_tags (
  tag TEXT NOT NULL,
  memory_id INTEGER NOT NULL,
  PRIMARY KEY (tag, memory_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memory_tags_memory ON memory_tags (memory_id);
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
  content, content = 'memories', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  hash TEXT NOT NULL,
  at INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at);

CREATE TRIGGER IF NOT EXISTS memories_after_insert AFTER INSERT ON memories BEGIN
  INSERT INTO memories_fts (rowid, content) VALUES (NEW.id, NEW.content);
  INSERT INTO memory_tags (tag, memory_id) SELECT value, NEW.id FROM json_each(NEW.tags);
  INSERT INTO events (type, hash, at, data) VALUES ('memory_stored', NEW.hash, ${NOW_MS}, ${EVENT_DATA('NEW')});
END;
CREATE TRIGGER IF NOT EXISTS memories_after_delete AFTER DELETE ON memories BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', OLD.id, OLD.content);
  DELETE FROM memory_tags WHERE memory_id = OLD.id;
  INSERT INTO events (type, hash, at, data)
    VALUES ('memory_deleted', OLD.hash, ${NOW_MS}, json_object('hash', OLD.hash));
END;
CREATE TRIGGER IF NOT EXISTS memories_after_update AFTER UPDATE ON memories
WHEN OLD.tags IS NOT NEW.tags OR OLD.type IS NOT NEW.type OR OLD.metadata IS NOT NEW.metadata
  OR OLD.content IS NOT NEW.content OR OLD.conversation_id IS NOT NEW.conversation_id BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, content) SELECT 'delete', OLD.id, OLD.content WHERE OLD.content IS NOT NEW.content;
  INSERT INTO memories_fts (rowid, content) SELECT NEW.id, NEW.content WHERE OLD.content IS NOT NEW.content;
  DELETE FROM memory_tags WHERE memory_id = OLD.id AND OLD.tags IS NOT NEW.tags;
  INSERT INTO memory_tags (tag, memory_id) SELECT value, NEW.id FROM json_each(NEW.tags) WHERE OLD.tags IS NOT NEW.tags;
  INSERT INTO events (type, hash, at, data) VALUES ('memory_updated', NEW.hash, ${NOW_MS}, ${EVENT_DATA('NEW')});
END;
`;

export interface StoredSpec extends EmbeddingSpec {
  generation: number;
}

function readMeta(db: Database.Database, key: string): string | undefined {
  return db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
}

export function writeMeta(db: Database.Database, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
    key,
    value,
  );
}

/** The embeddings the vectors were built with, as recorded; undefined in a new database. */
export function readSpec(db: Database.Database): StoredSpec | undefined {
  const text = readMeta(db, 'embeddings');
  return text === undefined ? undefined : (JSON.parse(text) as StoredSpec);
}

export function writeSpec(db: Database.Database, spec: StoredSpec): void {
  writeMeta(db, 'embeddings', JSON.stringify(spec));
}

export function sameSpec(a: EmbeddingSpec, b: EmbeddingSpec): boolean {
  return a.provider === b.provider && a.model === b.model && a.dimensions === b.dimensions;
}

export const REEMBED_COMMAND = 'pnpm --filter @mcp-sse/memory reembed (in Docker: node dist/reembed-main.bundle.js)';

/** Creates the tables, indexes and triggers that are missing (not the vector tables). */
export function createSchema(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new MemoryError(
      'UNAVAILABLE',
      `The memory database has schema version ${version}; this service knows ${SCHEMA_VERSION} (upgrade the service)`,
    );
  }
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

export function readMetaValue(db: Database.Database, key: string): string | undefined {
  return readMeta(db, key);
}

export function deleteMeta(db: Database.Database, key: string): void {
  db.prepare('DELETE FROM meta WHERE key = ?').run(key);
}

/**
 * Creates or checks the schema and the embeddings record. A database built with other embeddings
 * is refused with both named and the re-embed command, unless it holds no memory yet (then the new
 * settings simply take over). Returns the vector generation in use.
 */
export function prepareSchema(db: Database.Database, spec: EmbeddingSpec): StoredSpec {
  return db
    .transaction((): StoredSpec => {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      const stored = readSpec(db);
      if (stored === undefined) {
        const fresh = { ...spec, generation: 1 };
        createVectorTables(db, 1);
        writeSpec(db, fresh);
        return fresh;
      }
      if (sameSpec(stored, spec)) return stored;
      const pending = readMeta(db, 'reembed');
      const empty = db.prepare('SELECT NOT EXISTS (SELECT 1 FROM memories)').pluck().get() === 1;
      if (empty && pending === undefined) {
        dropVectorTables(db, stored.generation);
        const next = { ...spec, generation: stored.generation + 1 };
        createVectorTables(db, next.generation);
        writeSpec(db, next);
        return next;
      }
      throw new MemoryError(
        'CONFLICT',
        `The memory database was embedded with ${specLabel(stored)}, but the settings ask for ${specLabel(spec)}. ` +
          `Vectors of different embeddings cannot be compared. Either restore the old EMBEDDINGS settings, or re-embed ` +
          `every memory with the new ones: ${REEMBED_COMMAND}, with the new settings in the environment; it is resumable.`,
      );
    })
    .immediate();
}
