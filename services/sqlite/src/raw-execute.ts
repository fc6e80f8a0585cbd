/**
 * Running one raw SQL statement on a better-sqlite3 connection. Shared by the main process
 * (writes, and the synchronous executeRaw) and the query processes (read-only queries), so that
 * both refuse, cap and convert exactly alike. Plain domain code: no MCP, server or IPC imports.
 */
import Database from 'better-sqlite3';

import { DatabaseError, translateSqliteError } from './errors.js';
import type { StatementKind } from './raw-query.js';
import { fromSqlInteger, type Row, type SqlValue, toRow, toSqlValue } from './values.js';

export type RawParams = readonly unknown[] | Record<string, unknown>;

/** Parameters as better-sqlite3 binds them; plain values, so they also cross to a query process unchanged. */
export type BoundParams = SqlValue[] | [Record<string, SqlValue>];

export interface RawResult {
  /** Set when the statement returns rows (SELECT, PRAGMA, … RETURNING). */
  columns?: string[];
  rows?: Row[];
  row_count?: number;
  truncated?: boolean;
  /** Set when the statement returns no rows: rows changed and the last inserted rowid. */
  changes?: number;
  last_insert_rowid?: number | string | null;
}

export interface RawLimits {
  /** Server cap on rows returned by one call. */
  maxQueryResults: number;
  /** READ_ONLY_MODE: chooses the wording of write refusals. */
  readOnlyMode: boolean;
}

const MULTIPLE_STATEMENTS = 'more than one statement';
const NO_STATEMENTS = 'contains no statements';

export function openConnection(path: string, readonly: boolean, busyTimeoutMs: number): Database.Database {
  try {
    return new Database(path, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    // Start-up error for the operator: naming the path is useful here and never reaches a client.
    throw new DatabaseError('UNAVAILABLE', `Cannot open the SQLite database at ${path}: ${detail}`, { cause: error });
  }
}

/**
 * The read-only companion connection: `readonly: true` and query_only=ON, so the engine itself
 * refuses writes, TEMP tables included. One definition for the main process and the query processes.
 * better-sqlite3's `timeout` option is SQLite's busy timeout.
 */
export function openReader(path: string, busyTimeoutMs: number): Database.Database {
  const reader = openConnection(path, true, busyTimeoutMs);
  try {
    reader.pragma('query_only = ON');
    return reader;
  } catch (error) {
    reader.close();
    throw error;
  }
}

/** Converts raw-query parameters: an array binds `?` placeholders, an object binds `:name`, `@name`, `$name`. */
export function bindParams(params: RawParams | undefined): BoundParams {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map((value, index) => toSqlValue(value, `params[${index}]`));
  const named: Record<string, SqlValue> = {};
  for (const [key, value] of Object.entries(params)) {
    // better-sqlite3 takes names without their prefix character.
    const name = /^[:@$]/.test(key) ? key.slice(1) : key;
    Object.defineProperty(named, name, { value: toSqlValue(value, `params.${key}`), enumerable: true });
  }
  return [named];
}

/** better-sqlite3 reports binding mistakes (missing or extra parameters) as RangeError/TypeError. */
function translateBindError(error: unknown): DatabaseError | undefined {
  if ((error instanceof RangeError || error instanceof TypeError) && !('code' in error)) {
    return new DatabaseError('INVALID_INPUT', `Parameter error: ${error.message}`, { cause: error });
  }
  return undefined;
}

/** Prepares exactly one statement, refusing several or none with a clear message. */
export function prepareRaw(connection: Database.Database, query: string, limits: RawLimits): Database.Statement {
  try {
    return connection.prepare(query);
  } catch (error) {
    if (error instanceof RangeError && error.message.includes(MULTIPLE_STATEMENTS)) {
      throw new DatabaseError(
        'INVALID_INPUT',
        'The query contains more than one SQL statement; send exactly one statement per call',
        { cause: error },
      );
    }
    if (error instanceof RangeError && error.message.includes(NO_STATEMENTS)) {
      throw new DatabaseError('INVALID_INPUT', 'The query is empty (no SQL statement found)', { cause: error });
    }
    throw translateSqliteError(error, limits.readOnlyMode);
  }
}

/** Runs a prepared statement: rows (capped, with `truncated`) for readers, changes for writes. */
export function runPrepared(statement: Database.Statement, bound: BoundParams, limits: RawLimits): RawResult {
  try {
    if (statement.reader) {
      statement.safeIntegers(true).raw(true);
      const names = statement.columns().map((column) => column.name);
      const rows: Row[] = [];
      let truncated = false;
      // iterate() lets us stop at the cap without materializing the rest of the result.
      for (const values of statement.iterate(...bound) as IterableIterator<unknown[]>) {
        if (rows.length >= limits.maxQueryResults) {
          truncated = true;
          break;
        }
        rows.push(toRow(names, values));
      }
      return { columns: names, rows, row_count: rows.length, truncated };
    }
    const result = statement.safeIntegers(true).run(...bound);
    return {
      changes: Number(result.changes),
      last_insert_rowid: fromSqlInteger(result.lastInsertRowid),
    };
  } catch (error) {
    throw translateBindError(error) ?? translateSqliteError(error, limits.readOnlyMode);
  }
}

/**
 * Runs one already-classified statement on a read-only connection: better-sqlite3's
 * stmt.readonly gives a clear refusal first, and the engine refuses any write that slips past.
 */
export function runReadOnly(
  reader: Database.Database,
  query: string,
  bound: BoundParams,
  kind: StatementKind,
  limits: RawLimits,
): RawResult {
  const statement = prepareRaw(reader, query, limits);
  if (!statement.readonly && !kind.explain) {
    throw new DatabaseError(
      'FORBIDDEN',
      limits.readOnlyMode
        ? `This ${kind.keyword} statement would write, and the database is read-only on this server (READ_ONLY_MODE=true)`
        : `This ${kind.keyword} statement would write (or create temporary objects) and read_only is true; call again with read_only=false to write`,
    );
  }
  return runPrepared(statement, bound, limits);
}
