/**
 * Opening and watching the service's SQLite connections. Plain domain code: no MCP or server imports.
 *
 * - The write connection (only ever in the writer process): WAL, synchronous=FULL (a commit is on
 *   disk before the call answers, so an acknowledged write survives kill -9 and power loss),
 *   foreign_keys=ON, the busy timeout.
 * - Read connections (the query processes): opened read-only with query_only=ON, so the engine
 *   itself refuses every write, TEMP objects included.
 *
 * `connectionState` reads every setting a statement could change on a connection (each readable
 * pragma, attached databases, TEMP objects) in one prepared statement; the engine compares it after
 * every call with the state right after opening, so that no call can leave a setting changed for the
 * next one.
 */
import Database from 'better-sqlite3';

import { DatabaseError } from './errors.js';

/**
 * The per-connection (and, for the heap limits, per-process) pragmas that can be read back. The
 * write-only `case_sensitive_like` cannot be, which is one reason PRAGMA is gated before compiling.
 */
const WATCHED_PRAGMAS = [
  'journal_mode',
  'synchronous',
  'foreign_keys',
  'busy_timeout',
  'query_only',
  'cache_size',
  'cache_spill',
  'temp_store',
  'locking_mode',
  'secure_delete',
  'journal_size_limit',
  'max_page_count',
  'page_size',
  'auto_vacuum',
  'soft_heap_limit',
  'hard_heap_limit',
  'threads',
  'analysis_limit',
  'recursive_triggers',
  'defer_foreign_keys',
  'ignore_check_constraints',
  'reverse_unordered_selects',
  'cell_size_check',
  'trusted_schema',
  'automatic_index',
  'checkpoint_fullfsync',
  'fullfsync',
  'read_uncommitted',
  'legacy_alter_table',
  'writable_schema',
  'count_changes',
  'full_column_names',
  'short_column_names',
  'empty_result_callbacks',
] as const;

/**
 * Pragmas without a table-valued function. A prepared PRAGMA read holds the value of the moment it
 * was compiled, so these are prepared afresh each time (the table-valued ones re-run on every step).
 */
const FRESH_PRAGMAS = ['mmap_size', 'wal_autocheckpoint'] as const;

/** What StateReader reads besides the pragmas. */
type ExtraState = 'attached_databases' | 'temp_objects';

export type ConnectionState = Record<
  (typeof WATCHED_PRAGMAS)[number] | (typeof FRESH_PRAGMAS)[number] | ExtraState,
  unknown
>;

const STATE_SQL = `SELECT ${[
  ...WATCHED_PRAGMAS.map((name) => `(SELECT * FROM pragma_${name}) AS ${name}`),
  "(SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp')) AS attached_databases",
  '(SELECT count(*) FROM temp.sqlite_schema) AS temp_objects',
].join(', ')}`;

/** Reads every watched setting of a connection; cheap enough to run after every call (~50 µs). */
export class StateReader {
  private readonly statement: Database.Statement<[], ConnectionState>;
  constructor(private readonly connection: Database.Database) {
    this.statement = connection.prepare<[], ConnectionState>(STATE_SQL);
  }

  read(): ConnectionState {
    const state = this.statement.get();
    if (!state) throw new DatabaseError('INTERNAL', 'Cannot read the connection settings');
    for (const name of FRESH_PRAGMAS) state[name] = this.connection.pragma(name, { simple: true });
    return state;
  }
}

/** The names of the settings that differ between two states, for the log and the refusal. */
export function changedSettings(before: ConnectionState, after: ConnectionState): string[] {
  return (Object.keys(before) as (keyof ConnectionState)[]).filter((key) => before[key] !== after[key]);
}

export function openConnection(path: string, readonly: boolean, busyTimeoutMs: number): Database.Database {
  try {
    return new Database(path, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    // Start-up error for the operator: naming the path is useful here and never reaches a client.
    throw new DatabaseError('UNAVAILABLE', `Cannot open the SQLite database at ${path}: ${detail}`, { cause: error });
  }
}

/** Runs `configure` on a fresh connection, closing it if that fails. */
function configured(connection: Database.Database, configure: (db: Database.Database) => void): Database.Database {
  try {
    configure(connection);
    return connection;
  } catch (error) {
    connection.close();
    throw error;
  }
}

/**
 * The write connection: WAL (checked: a file on a filesystem without shared memory cannot switch),
 * synchronous=FULL, foreign keys on. better-sqlite3's `timeout` option is SQLite's busy timeout.
 */
export function openWriteConnection(path: string, busyTimeoutMs: number): Database.Database {
  return configured(openConnection(path, false, busyTimeoutMs), (db) => {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new DatabaseError('UNAVAILABLE', `Cannot switch ${path} to WAL mode (got ${String(mode)})`);
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  });
}

/**
 * A read connection: `readonly: true` and query_only=ON, so the engine refuses every write, TEMP
 * included. Its page cache is kept to 4 MB (SQLite's default here is 16 MB per connection): there is
 * one per database process, and the operating system caches the file anyway.
 */
export function openReadConnection(path: string, busyTimeoutMs: number): Database.Database {
  return configured(openConnection(path, true, busyTimeoutMs), (db) => {
    db.pragma('query_only = ON');
    db.pragma('cache_size = -4000');
    db.pragma('foreign_keys = ON');
  });
}

/** The durability settings of a connection as SQLite reports them (for /health and tests). */
export type DurabilitySettings = {
  journal_mode: string;
  synchronous: string;
  foreign_keys: boolean;
  busy_timeout_ms: number;
};

export function durabilityOf(state: ConnectionState): DurabilitySettings {
  const synchronous = Number(state.synchronous);
  return {
    journal_mode: String(state.journal_mode),
    synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][synchronous] ?? String(state.synchronous),
    foreign_keys: Number(state.foreign_keys) === 1,
    busy_timeout_ms: Number(state.busy_timeout),
  };
}
