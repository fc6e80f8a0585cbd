/**
 * Running one raw SQL statement on a better-sqlite3 connection: preparing exactly one statement,
 * reading its rows incrementally under the row cap and the byte budget, or running a write.
 * Plain domain code: no MCP, server or IPC imports.
 */
import type Database from 'better-sqlite3';

import { DatabaseError, translateSqliteError } from './errors.js';
import { budgetReason, ByteBudget, jsonBytes, rowBytesAtLeast } from './result-budget.js';
import { fromSqlInteger, type Row, type SqlValue, toRow, toSqlValue } from './values.js';

export type RawParams = readonly unknown[] | Record<string, unknown>;

/** Parameters as better-sqlite3 binds them; plain values, so they also cross to a child process unchanged. */
export type BoundParams = SqlValue[] | [Record<string, SqlValue>];

export interface RawResult {
  /** Set when the statement returns rows (SELECT, PRAGMA, … RETURNING). */
  columns?: string[];
  rows?: Row[];
  row_count?: number;
  truncated?: boolean;
  /** Why the rows stop short (row cap or byte budget), when truncated. */
  truncated_reason?: string;
  /** Set when the statement returns no rows: rows changed and the last inserted rowid. */
  changes?: number;
  last_insert_rowid?: number | string | null;
}

export interface RawLimits {
  /** Server cap on rows returned by one call (MAX_QUERY_RESULTS). */
  maxQueryResults: number;
  /** Byte budget of one answer (MCP_MAX_RESULT_BYTES). */
  maxResultBytes: number;
  /** READ_ONLY_MODE: chooses the wording of write refusals. */
  readOnlyMode: boolean;
}

const MULTIPLE_STATEMENTS = 'more than one statement';
const NO_STATEMENTS = 'contains no statements';

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
export function translateBindError(error: unknown): DatabaseError | undefined {
  if ((error instanceof RangeError || error instanceof TypeError) && !('code' in error)) {
    return new DatabaseError('INVALID_INPUT', `Parameter error: ${error.message}`, { cause: error });
  }
  return undefined;
}

/** Prepares exactly one statement, refusing several or none with a clear message. */
export function prepareOne(connection: Database.Database, sql: string, readOnlyMode: boolean): Database.Statement {
  try {
    return connection.prepare(sql);
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
    throw translateSqliteError(error, readOnlyMode);
  }
}

/**
 * Reads rows one at a time (iterate(), never all()), stopping at MAX_QUERY_RESULTS rows or when the
 * next row would take the answer past the byte budget. `envelope` is the answer without rows.
 */
export interface ReadHints {
  /** What to do for the rest, once `kept` rows were returned. */
  more: (kept: number) => string;
  /** What to do when the first row alone is over the budget. */
  oneRow: string;
}

export function readRows(
  statement: Database.Statement,
  bound: readonly unknown[],
  limits: RawLimits,
  envelope: Record<string, unknown>,
  hints: ReadHints,
): { names: string[]; rows: Row[]; truncated: boolean; reason?: string } {
  statement.safeIntegers(true).raw(true);
  const names = statement.columns().map((column) => column.name);
  const budget = new ByteBudget(limits.maxResultBytes, { ...envelope, columns: names, rows: [] });
  const rows: Row[] = [];
  for (const values of statement.iterate(...bound) as IterableIterator<unknown[]>) {
    if (rows.length >= limits.maxQueryResults) {
      return {
        names,
        rows,
        truncated: true,
        reason: `More rows follow: the answer stops at MAX_QUERY_RESULTS (${limits.maxQueryResults} rows); ${hints.more(rows.length)}`,
      };
    }
    // A value too big for what is left is turned away before it is copied into base64 or JSON.
    const least = rowBytesAtLeast(values);
    const row = least > budget.remaining ? undefined : toRow(names, values);
    const size = row === undefined ? least : jsonBytes(row);
    if (row === undefined || !budget.take(size)) {
      const reason =
        rows.length === 0
          ? `The first row alone is at least ${size} bytes of JSON, over MCP_MAX_RESULT_BYTES ` +
            `(${limits.maxResultBytes}); ${hints.oneRow}`
          : budgetReason(limits.maxResultBytes, rows.length, 'rows', hints.more(rows.length));
      return { names, rows, truncated: true, reason };
    }
    rows.push(row);
  }
  return { names, rows, truncated: false };
}

const RAW_HINTS: ReadHints = {
  more: () => 'select fewer or shorter columns, or page with LIMIT and OFFSET',
  oneRow: 'select fewer or shorter columns (e.g. substr(column, 1, 1000) or length(column))',
};

/** Runs a prepared statement: rows (capped, with `truncated`) for readers, changes for writes. */
export function runPrepared(statement: Database.Statement, bound: BoundParams, limits: RawLimits): RawResult {
  try {
    if (statement.reader) {
      const read = readRows(statement, bound, limits, { row_count: 0, truncated: false }, RAW_HINTS);
      return {
        columns: read.names,
        rows: read.rows,
        row_count: read.rows.length,
        truncated: read.truncated,
        ...(read.reason !== undefined && { truncated_reason: read.reason }),
      };
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
