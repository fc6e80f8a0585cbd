/**
 * The query process (forked by query-pool.ts): a read-only connection to the memory database, one
 * request at a time. Searches at a million memories take tens of milliseconds of CPU each, and a
 * tag count or an exact search of a common word can take seconds: here they never hold up the
 * service's event loop, and an abandoned one is stopped by killing this process.
 */
import type Database from 'better-sqlite3';

import { CodeCache } from './code-cache.js';
import { MemoryError } from './errors.js';
import { listMemories, matchingForDelete, searchMemories, stats, tagCounts } from './queries.js';
import type { QueryProcessSettings, QueryReply, QueryRequest } from './query-protocol.js';
import { openConnection, readSpec } from './schema.js';

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('query-entry: must be started by the memory service (no IPC channel)\n');
  process.exit(1);
}

const settings = JSON.parse(process.argv[2] ?? '{}') as QueryProcessSettings;
let db: Database.Database | undefined;
const codes = new CodeCache();

function run(request: QueryRequest): unknown {
  db ??= openConnection({ path: settings.path, busyTimeoutMs: settings.busyTimeoutMs, readonly: true });
  switch (request.op) {
    case 'list':
      return listMemories(db, request.args);
    case 'search':
      return searchMemories(db, request.args, codes);
    case 'tags':
      return tagCounts(db, request.args.limit, request.args.maxBytes);
    case 'stats':
      return stats(db);
    case 'warm': {
      // Load the binary codes before the first search needs them.
      const spec = readSpec(db);
      return spec === undefined ? 0 : codes.refresh(db, spec).size;
    }
    case 'matching':
      return matchingForDelete(db, request.args.filters, request.args.sample);
  }
}

function handle(request: QueryRequest): QueryReply {
  try {
    return { ok: true, result: run(request) };
  } catch (error) {
    if (error instanceof MemoryError) return { ok: false, error: { code: error.code, message: error.message } };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      return { ok: false, error: { code: 'UNAVAILABLE', message: 'The memory database is busy; retry shortly' } };
    }
    process.stderr.write(`query-entry: ${(error as Error).stack ?? String(error)}\n`);
    return { ok: false, error: { code: 'INTERNAL', message: 'Internal memory error' } };
  }
}

process.on('message', (request: QueryRequest) => {
  send?.(handle(request));
});
process.on('disconnect', () => process.exit(0));
