/**
 * The SQLite database behind the tools, as the service sees it: every call runs in a database
 * process (worker-pool.ts), never on the event loop. Plain domain code: no MCP or server imports.
 *
 * - Reads (list_tables, describe_table, query_records, execute_raw_query with read_only=true) run in
 *   the reader processes (SQLITE_QUERY_WORKERS), each with a read-only connection.
 * - Writes (create_table, insert/update/delete_record, execute_raw_query with read_only=false) run
 *   in the one writer process, which holds the only write connection: WAL, synchronous=FULL,
 *   foreign keys on, a busy timeout. A write is acknowledged after its COMMIT is on disk.
 * - Every call is bounded: by MCP_TOOL_TIMEOUT_MS and the caller's cancellation (the process running
 *   it is killed, and a killed writer's transaction is rolled back by SQLite), by MAX_QUERY_RESULTS
 *   and by the byte budget MCP_MAX_RESULT_BYTES (applied in the database process, so no more than
 *   the budget crosses to the service).
 *
 * The service's own process keeps one read-only connection with no busy timeout, for /health: it
 * never waits on a lock, so /health answers at once whatever the database processes are doing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import type Database from 'better-sqlite3';

import {
  durabilityOf,
  type DurabilitySettings,
  openReadConnection,
  openWriteConnection,
  StateReader,
} from './connection.js';
import type { InsertResult, QueryOptions, QueryResult, TableDescription, TableList } from './engine.js';
import { DatabaseError } from './errors.js';
import { bindParams, type RawParams, type RawResult } from './raw-execute.js';
import { WorkerPool } from './worker-pool.js';
import type { Operation, WorkerSettings } from './worker-protocol.js';

export type { InsertResult, QueryOptions, QueryResult, TableDescription, TableList } from './engine.js';
export type { RawParams, RawResult } from './raw-execute.js';

export interface DatabaseOptions {
  /** File path of the database; parent directories are created. */
  path: string;
  /** READ_ONLY_MODE: no write connection at all; every write is refused. */
  readOnly: boolean;
  busyTimeoutMs: number;
  /** Server cap on rows returned by one call. */
  maxQueryResults: number;
  /** MCP_MAX_RESULT_BYTES: the byte budget of one answer (default 4 MiB). */
  maxResultBytes?: number;
  /** SQLITE_QUERY_WORKERS: most reader processes alive at once (default 2). */
  queryWorkers?: number;
}

/** Calls that may wait for a process, per process; more are refused (UNAVAILABLE). */
const QUEUED_PER_WORKER = 32;

const DEFAULT_MAX_RESULT_BYTES = 4 * 1024 * 1024;

export type DatabaseSettings = DurabilitySettings & { read_only: boolean };

export class SqliteDatabase {
  private readonly readers: WorkerPool;
  private readonly writer: WorkerPool;
  private durability: DurabilitySettings;

  private constructor(
    private readonly monitor: Database.Database,
    private readonly pingStatement: Database.Statement,
    durability: DurabilitySettings,
    readonly options: Readonly<Required<DatabaseOptions>>,
  ) {
    this.durability = durability;
    const settings = (role: WorkerSettings['role']): WorkerSettings => ({
      path: options.path,
      role,
      busyTimeoutMs: options.busyTimeoutMs,
      maxQueryResults: options.maxQueryResults,
      maxResultBytes: options.maxResultBytes,
      readOnlyMode: options.readOnly,
    });
    this.readers = new WorkerPool({
      settings: settings('reader'),
      workers: options.queryWorkers,
      maxQueued: options.queryWorkers * QUEUED_PER_WORKER,
      what: 'reads',
    });
    this.writer = new WorkerPool({
      settings: settings('writer'),
      workers: 1,
      maxQueued: QUEUED_PER_WORKER * 2,
      what: 'writes',
      onDurability: (reported) => (this.durability = reported),
    });
  }

  /**
   * Opens (creating when missing) the database file, checks that a write connection gets its
   * settings (WAL above all), and opens the monitor connection. No database process starts yet:
   * each starts on the first call that needs it.
   */
  static open(options: DatabaseOptions): SqliteDatabase {
    if (options.path === ':memory:' || options.path.trim() === '') {
      throw new DatabaseError(
        'INVALID_INPUT',
        'DATABASE_PATH must be a file path (an in-memory database cannot be shared)',
      );
    }
    const path = resolve(options.path);
    mkdirSync(dirname(path), { recursive: true });
    let durability: DurabilitySettings | undefined;
    if (!options.readOnly || !existsSync(path)) {
      // The write connection's settings, checked now so that a file that cannot take them (no WAL on
      // this filesystem) stops the service at start. READ_ONLY_MODE on a new file: created empty, in WAL.
      const check = openWriteConnection(path, options.busyTimeoutMs);
      try {
        durability = durabilityOf(new StateReader(check).read());
      } finally {
        check.close();
      }
    }
    const monitor = openReadConnection(path, 0);
    try {
      const ping = monitor.prepare('PRAGMA data_version');
      const state = durabilityOf(new StateReader(monitor).read());
      return new SqliteDatabase(monitor, ping, options.readOnly ? state : (durability ?? state), {
        ...options,
        path,
        maxResultBytes: options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
        queryWorkers: options.queryWorkers ?? 2,
      });
    } catch (error) {
      monitor.close();
      throw error;
    }
  }

  /**
   * Health check: reads the file's change counter on the monitor connection (no busy timeout, so it
   * never waits on a lock, and never parses the schema, so a huge one costs nothing here).
   */
  ping(): void {
    this.pingStatement.get();
  }

  /**
   * The durability settings of the write connection as SQLite reported them: after its last call
   * (the writer reports them with every answer), or at start. Read-only: the read connection's.
   */
  settings(): DatabaseSettings {
    return { ...this.durability, read_only: this.options.readOnly };
  }

  /** Kills every database process (a running write is rolled back) and closes the monitor connection. */
  close(): void {
    this.readers.close();
    this.writer.close();
    this.monitor.close();
  }

  /** Process ids of the live database processes, for tests and diagnostics. */
  processIds(): { readers: number[]; writer: number[] } {
    return { readers: this.readers.pids(), writer: this.writer.pids() };
  }

  // ── reads ─────────────────────────────────────────────────────────────────────────────────

  async listTables(signal?: AbortSignal): Promise<TableList> {
    return await this.readers.run<TableList>({ op: 'listTables' }, signal);
  }

  async describeTable(table: string, signal?: AbortSignal): Promise<TableDescription> {
    return await this.readers.run<TableDescription>({ op: 'describeTable', table }, signal);
  }

  async queryRecords(table: string, options: QueryOptions = {}, signal?: AbortSignal): Promise<QueryResult> {
    return await this.readers.run<QueryResult>({ op: 'queryRecords', table, options }, signal);
  }

  // ── writes ────────────────────────────────────────────────────────────────────────────────

  async createTable(
    table: string,
    schema: Record<string, string>,
    primaryKey?: string | string[],
    signal?: AbortSignal,
  ): Promise<TableDescription> {
    return (await this.write(
      { op: 'createTable', table, schema, ...(primaryKey !== undefined && { primaryKey }) },
      signal,
    )) as TableDescription;
  }

  async insertRecord(table: string, data: Record<string, unknown>, signal?: AbortSignal): Promise<InsertResult> {
    return (await this.write({ op: 'insertRecord', table, data }, signal)) as InsertResult;
  }

  async updateRecords(
    table: string,
    filters: Record<string, unknown>,
    data: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<number> {
    return (await this.write({ op: 'updateRecords', table, filters, data }, signal)) as number;
  }

  async deleteRecords(table: string, filters: Record<string, unknown>, signal?: AbortSignal): Promise<number> {
    return (await this.write({ op: 'deleteRecords', table, filters }, signal)) as number;
  }

  // ── raw SQL ───────────────────────────────────────────────────────────────────────────────

  /**
   * Runs one statement: read-only in a reader process, or (readOnly=false) in the writer process,
   * inside its own transaction. Rejects with the signal's reason as soon as it fires.
   */
  async executeRaw(
    query: string,
    params: RawParams | undefined,
    readOnly: boolean,
    signal?: AbortSignal,
  ): Promise<RawResult> {
    // Bad parameter values are refused here, without a round trip.
    const bound = bindParams(params);
    if (readOnly) return await this.readers.run<RawResult>({ op: 'executeRaw', query, bound, readOnly }, signal);
    if (this.options.readOnly) {
      throw new DatabaseError(
        'FORBIDDEN',
        'read_only=false is refused: the database is read-only on this server (READ_ONLY_MODE=true)',
      );
    }
    return await this.writer.run<RawResult>({ op: 'executeRaw', query, bound, readOnly }, signal);
  }

  private async write(operation: Operation, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.options.readOnly) {
      throw new DatabaseError('FORBIDDEN', 'The database is read-only on this server (READ_ONLY_MODE=true)');
    }
    return this.writer.run(operation, signal);
  }
}

/** The settings the database reads; the service's config satisfies it. */
export interface DatabaseConfig {
  DATABASE_PATH: string;
  READ_ONLY_MODE: boolean;
  SQLITE_BUSY_TIMEOUT_MS: number;
  MAX_QUERY_RESULTS: number;
  /** Optional so that callers opening a database by hand get the defaults. */
  SQLITE_QUERY_WORKERS?: number;
  MCP_MAX_RESULT_BYTES?: number;
}

/** Opens the database from the service settings: the one place that maps settings to options. */
export function openDatabase(settings: Readonly<DatabaseConfig>): SqliteDatabase {
  return SqliteDatabase.open({
    path: settings.DATABASE_PATH,
    readOnly: settings.READ_ONLY_MODE,
    busyTimeoutMs: settings.SQLITE_BUSY_TIMEOUT_MS,
    maxQueryResults: settings.MAX_QUERY_RESULTS,
    ...(settings.MCP_MAX_RESULT_BYTES !== undefined && { maxResultBytes: settings.MCP_MAX_RESULT_BYTES }),
    ...(settings.SQLITE_QUERY_WORKERS !== undefined && { queryWorkers: settings.SQLITE_QUERY_WORKERS }),
  });
}
