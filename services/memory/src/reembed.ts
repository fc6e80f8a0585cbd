/**
 * Re-embedding: every memory's vector made again with the current embeddings settings, into the
 * next vector generation, then a switch in one transaction. Resumable: progress (the last id done)
 * is committed with each batch, so an interrupted run (a failing endpoint, Ctrl-C, kill -9) goes on
 * where it stopped when started again with the same settings. Memories stored meanwhile (ids only
 * grow) are picked up before the switch; vectors of memories deleted meanwhile are dropped at it.
 * Plain domain code: no MCP or server imports.
 */
import type Database from 'better-sqlite3';

import { type EmbeddingProvider, type EmbeddingSpec, specLabel } from './embeddings.js';
import { MemoryError } from './errors.js';
import {
  createSchema,
  createVectorTables,
  deleteMeta,
  dropVectorTables,
  readMetaValue,
  readSpec,
  sameSpec,
  vectorTables,
  writeMeta,
  writeSpec,
} from './schema.js';
import { insertVector } from './writes.js';

interface Pending extends EmbeddingSpec {
  generation: number;
  cursor: number;
}

export interface ReembedResult {
  /** Memories embedded by this run. */
  embedded: number;
  from: string;
  to: string;
  generation: number;
  /** False when the database already used these embeddings. */
  switched: boolean;
}

export async function reembed(
  db: Database.Database,
  provider: EmbeddingProvider,
  options: { batchSize: number; log?: (line: string) => void; signal?: AbortSignal },
): Promise<ReembedResult> {
  const log = options.log ?? (() => undefined);
  const target = provider.spec;
  const start = db
    .transaction(() => {
      createSchema(db);
      const stored = readSpec(db);
      const pendingText = readMetaValue(db, 'reembed');
      let pending = pendingText === undefined ? undefined : (JSON.parse(pendingText) as Pending);
      if (stored === undefined)
        throw new MemoryError('INVALID_INPUT', 'The database has no memories to re-embed yet (start the service once)');
      if (pending !== undefined && !sameSpec(pending, target)) {
        // A run towards other settings was interrupted: its partial generation is dropped.
        dropVectorTables(db, pending.generation);
        pending = undefined;
      }
      if (pending === undefined) {
        if (sameSpec(stored, target)) return { stored, pending: undefined };
        pending = { ...target, generation: stored.generation + 1, cursor: 0 };
        dropVectorTables(db, pending.generation);
        createVectorTables(db, pending.generation);
        writeMeta(db, 'reembed', JSON.stringify(pending));
      }
      return { stored, pending };
    })
    .immediate();
  if (start.pending === undefined) {
    return {
      embedded: 0,
      from: specLabel(start.stored),
      to: specLabel(target),
      generation: start.stored.generation,
      switched: false,
    };
  }
  const pending = start.pending;
  log(
    `re-embedding from ${specLabel(start.stored)} to ${specLabel(target)}${pending.cursor > 0 ? `, resuming after id ${pending.cursor}` : ''}`,
  );
  const total =
    db.prepare<[number], number>('SELECT count(*) FROM memories WHERE id > ?').pluck().get(pending.cursor) ?? 0;
  let embedded = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = db
      .prepare<[number, number], { id: number; content: string }>(
        'SELECT id, content FROM memories WHERE id > ? ORDER BY id LIMIT ?',
      )
      .all(pending.cursor, options.batchSize);
    if (rows.length === 0) {
      // Nothing left: switch, unless a memory arrived since the read above (then go round again).
      const switched = db
        .transaction(() => {
          const more =
            db.prepare<[number], number>('SELECT count(*) FROM memories WHERE id > ?').pluck().get(pending.cursor) ?? 0;
          if (more > 0) return false;
          const { floats, codes } = vectorTables(pending.generation);
          db.exec(
            `DELETE FROM ${floats} WHERE id NOT IN (SELECT id FROM memories); DELETE FROM ${codes} WHERE id NOT IN (SELECT id FROM memories);`,
          );
          dropVectorTables(db, start.stored.generation);
          writeSpec(db, {
            provider: target.provider,
            model: target.model,
            dimensions: target.dimensions,
            generation: pending.generation,
          });
          deleteMeta(db, 'reembed');
          return true;
        })
        .immediate();
      if (switched) break;
      continue;
    }
    const vectors = await provider.embed(
      rows.map((row) => row.content),
      options.signal,
    );
    db.transaction(() => {
      rows.forEach((row, i) => insertVector(db, pending.generation, row.id, vectors[i]!));
      pending.cursor = rows.at(-1)!.id;
      writeMeta(db, 'reembed', JSON.stringify(pending));
    }).immediate();
    embedded += rows.length;
    log(`  ${embedded} / ${total} memories`);
  }
  log(`done: ${embedded} memories re-embedded; the database now uses ${specLabel(target)}`);
  return {
    embedded,
    from: specLabel(start.stored),
    to: specLabel(target),
    generation: pending.generation,
    switched: true,
  };
}
