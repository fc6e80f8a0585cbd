/**
 * A query process's copy of the binary codes (binary-index.ts), kept in step with the file: before
 * each semantic search it reads the codes above the highest id it holds (ids only grow), and it
 * reloads everything when the vector generation changed (a re-embed) or when deletions since the
 * last load (counted from the outbox) reach a tenth of what it holds, so deleted memories do not
 * crowd out candidates. Plain domain code.
 */
import type Database from 'better-sqlite3';

import { BinaryIndex } from './binary-index.js';
import { type StoredSpec, vectorTables } from './schema.js';

export class CodeCache {
  private index: BinaryIndex | undefined;
  private generation = 0;
  private eventCursor = 0;
  private deletedSinceLoad = 0;

  /** The index for `spec`, brought up to date with the database. */
  refresh(db: Database.Database, spec: StoredSpec): BinaryIndex {
    const tooStale = this.index !== undefined && this.deletedSinceLoad > 1000 + this.index.size / 10;
    if (this.index === undefined || this.generation !== spec.generation || tooStale) {
      this.index = new BinaryIndex(spec.dimensions);
      this.generation = spec.generation;
      this.deletedSinceLoad = 0;
      this.eventCursor = db.prepare<[], number | null>('SELECT max(id) FROM events').pluck().get() ?? 0;
    } else {
      const deletions = db
        .prepare<[number], { n: number; last: number | null }>(
          "SELECT count(*) FILTER (WHERE type = 'memory_deleted') AS n, max(id) AS last FROM events WHERE id > ?",
        )
        .get(this.eventCursor);
      this.deletedSinceLoad += deletions?.n ?? 0;
      this.eventCursor = deletions?.last ?? this.eventCursor;
    }
    const index = this.index;
    const rows = db
      .prepare<[number], { id: number; code: Buffer }>(
        `SELECT id, code FROM ${vectorTables(spec.generation).codes} WHERE id > ? ORDER BY id`,
      )
      .iterate(index.maxId);
    for (const row of rows) index.add(row.id, row.code);
    return index;
  }
}
