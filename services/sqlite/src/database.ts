/**
 * The SQLite database behind the tools. Plain domain code: no MCP or server imports.
 *
 * Two connections to one file:
 * - `db`, the main connection: every tool except read-only raw queries. WAL, synchronous=FULL
 *   (a commit is on disk before the call returns, so an acknowledged write survives kill -9 and
 *   power loss), foreign_keys=ON, a busy timeout. Opened read-only in READ_ONLY_MODE.
 * - `reader`, opened with `readonly: true` and query_only=ON: the synchronous executeRaw runs
 *   read_only=true queries here, so the engine itself refuses writes, including to TEMP tables.
 * - query processes (read-worker.ts), each with its own connection set up like `reader`: the
 *   tool's read-only raw queries run there (executeRawAsync), off the event loop, so an expensive
 *   SELECT cannot freeze the service, its caller's timeout or cancellation answers on time, and
 *   the abandoned statement is stopped by killing its process.
 *
 * Table and column names are resolved against the live schema and always quoted; values are
 * always bound parameters.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import type Database from 'better-sqlite3';

import { columnDefinitionSql, type ColumnReference, type ColumnSpec, parseColumnSpec } from './column-spec.js';
import { DatabaseError, showName, translateSqliteError } from './errors.js';
import { buildOrderBy, buildWhere, type SqlFragment } from './filters.js';
import { checkNewIdentifier, ColumnResolver, findName, isInternalTable, quoteIdentifier } from './identifiers.js';
import {
  bindParams,
  openConnection,
  openReader,
  prepareRaw,
  type RawLimits,
  type RawParams,
  type RawResult,
  runPrepared,
  runReadOnly,
} from './raw-execute.js';
import { classifyStatement } from './raw-query.js';
import { ReadWorkerPool } from './read-worker.js';
import { fromSqlInteger, type Row, type SqlValue, toRow, toSqlValue } from './values.js';

export type { RawParams, RawResult } from './raw-execute.js';

export interface DatabaseOptions {
  /** File path of the database; parent directories are created. */
  path: string;
  /** READ_ONLY_MODE: the main connection is read-only too. */
  readOnly: boolean;
  busyTimeoutMs: number;
  /** Server cap on rows returned by one call. */
  maxQueryResults: number;
  /** SQLITE_QUERY_WORKERS: most query processes alive at once (default 2). */
  queryWorkers?: number;
}

/** Read-only raw queries that may wait for a query process, per process; more are refused (UNAVAILABLE). */
const QUEUED_PER_WORKER = 32;

export interface ColumnSummary {
  name: string;
  type: string;
  not_null: boolean;
  primary_key: boolean;
}

export interface TableSummary {
  name: string;
  columns: ColumnSummary[];
}

export interface ColumnDescription {
  name: string;
  type: string;
  not_null: boolean;
  default: string | null;
  /** 1-based position in the primary key, 0 when not part of it. */
  primary_key_position: number;
  generated: boolean;
}

export interface ForeignKeyDescription {
  columns: string[];
  references_table: string;
  references_columns: string[];
  on_update: string;
  on_delete: string;
}

export interface IndexDescription {
  name: string;
  unique: boolean;
  /** c: CREATE INDEX, u: UNIQUE constraint, pk: PRIMARY KEY. */
  origin: string;
  partial: boolean;
  columns: string[];
}

export interface TableDescription {
  name: string;
  columns: ColumnDescription[];
  primary_key: string[];
  foreign_keys: ForeignKeyDescription[];
  indexes: IndexDescription[];
  without_rowid: boolean;
  strict: boolean;
  /** The CREATE TABLE statement as stored in sqlite_schema. */
  sql: string | null;
}

export interface QueryOptions {
  filters?: Record<string, unknown>;
  limit?: number;
  offset?: number;
  orderBy?: string;
}

export interface QueryResult {
  rows: Row[];
  /** Rows matching the filters, whatever the limit. */
  total: number;
  count: number;
  limit: number;
  offset: number;
  /** More matching rows exist after this page (the limit or MAX_QUERY_RESULTS cut the result). */
  truncated: boolean;
}

export interface InsertResult {
  row: Row;
  /** The new row's rowid; null for WITHOUT ROWID tables. */
  rowid: number | string | null;
}

interface TableXInfoRow {
  cid: number;
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden: number;
}

interface TableListRow {
  name: string;
  type: string;
  wr: number;
  strict: number;
}

interface ForeignKeyListRow {
  id: number;
  seq: number;
  table: string;
  from: string;
  to: string | null;
  on_update: string;
  on_delete: string;
}

interface IndexListRow {
  name: string;
  unique: number;
  origin: string;
  partial: number;
}

interface IndexInfoRow {
  seqno: number;
  name: string | null;
}

export class SqliteDatabase {
  private readonly limits: RawLimits;
  /** Started lazily: no query process exists until the first read-only raw query. */
  private readonly readers: ReadWorkerPool;

  private constructor(
    private readonly db: Database.Database,
    private readonly reader: Database.Database,
    readonly options: Readonly<DatabaseOptions>,
  ) {
    this.limits = { maxQueryResults: options.maxQueryResults, readOnlyMode: options.readOnly };
    const workers = options.queryWorkers ?? 2;
    this.readers = new ReadWorkerPool({
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs,
      ...this.limits,
      workers,
      maxQueued: workers * QUEUED_PER_WORKER,
    });
  }

  /** Opens (creating when missing) the database file and its read-only companion connection. */
  static open(options: DatabaseOptions): SqliteDatabase {
    if (options.path === ':memory:' || options.path.trim() === '') {
      throw new DatabaseError(
        'INVALID_INPUT',
        'DATABASE_PATH must be a file path (an in-memory database cannot be shared)',
      );
    }
    const path = resolve(options.path);
    mkdirSync(dirname(path), { recursive: true });
    if (options.readOnly && !existsSync(path)) {
      // READ_ONLY_MODE on a new file: create an empty WAL database first, then reopen read-only.
      const creator = openConnection(path, false, options.busyTimeoutMs);
      creator.pragma('journal_mode = WAL');
      creator.close();
    }
    const db = openConnection(path, options.readOnly, options.busyTimeoutMs);
    try {
      if (!options.readOnly) {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (String(mode).toLowerCase() !== 'wal') {
          throw new DatabaseError('UNAVAILABLE', `Cannot switch ${path} to WAL mode (got ${String(mode)})`);
        }
        db.pragma('synchronous = FULL');
      } else {
        db.pragma('query_only = ON');
      }
      db.pragma('foreign_keys = ON');
      // better-sqlite3's `timeout` option is SQLite's busy timeout, on both connections.
      const reader = openReader(path, options.busyTimeoutMs);
      return new SqliteDatabase(db, reader, { ...options, path });
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Health check: a trivial read on both connections. */
  ping(): void {
    this.db.prepare('SELECT 1').get();
    this.reader.prepare('SELECT 1').get();
  }

  /** The main connection's durability settings, as SQLite reports them (for /health and tests). */
  settings(): {
    journal_mode: string;
    synchronous: string;
    foreign_keys: boolean;
    busy_timeout_ms: number;
    read_only: boolean;
  } {
    const synchronous = Number(this.db.pragma('synchronous', { simple: true }));
    return {
      journal_mode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][synchronous] ?? String(synchronous),
      foreign_keys: Number(this.db.pragma('foreign_keys', { simple: true })) === 1,
      busy_timeout_ms: Number(this.db.pragma('busy_timeout', { simple: true })),
      read_only: this.options.readOnly,
    };
  }

  /** Closes both connections and kills the query processes (pending read-only queries are refused). */
  close(): void {
    this.readers.close();
    this.reader.close();
    this.db.close();
  }

  /** Process ids of the live query processes, for tests and diagnostics. */
  queryProcessIds(): number[] {
    return this.readers.pids();
  }

  // ── schema ────────────────────────────────────────────────────────────────────────────────

  /** User tables, sorted by name (SQLite's internal sqlite_* tables excluded). */
  private tableNames(connection: Database.Database = this.db): string[] {
    const rows = connection
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all();
    return rows.map((row) => row.name).filter((name) => !isInternalTable(name));
  }

  /** The table as the schema spells it; NOT_FOUND naming the tables that do exist. */
  private resolveTable(name: string): string {
    const tables = this.tableNames();
    const found = findName(tables, name);
    if (found === undefined) {
      const shown = tables.length === 0 ? 'the database has no tables' : `tables: ${tables.slice(0, 50).join(', ')}`;
      throw new DatabaseError('NOT_FOUND', `No table named ${showName(name)} (${shown})`);
    }
    return found;
  }

  private columnInfo(table: string): TableXInfoRow[] {
    // hidden = 1 marks virtual-table hidden columns; 2 and 3 are generated columns, which are real columns.
    return this.db
      .prepare<[], TableXInfoRow>(`PRAGMA table_xinfo(${quoteIdentifier(table)})`)
      .all()
      .filter((column) => column.hidden !== 1);
  }

  private columnsOf(table: string): ColumnResolver {
    return new ColumnResolver(
      table,
      this.columnInfo(table).map((column) => column.name),
    );
  }

  /**
   * Columns usable in filters and order_by: the real ones plus `rowid` on rowid tables (unless a
   * column takes that name), so rows that insert_record identified by rowid can be found again.
   */
  private filterColumnsOf(table: string): ColumnResolver {
    const names = this.columnInfo(table).map((column) => column.name);
    const rowid = this.tableListEntry(table)?.wr !== 1 && findName(names, 'rowid') === undefined;
    return new ColumnResolver(table, names, rowid ? ['rowid'] : []);
  }

  private tableListEntry(table: string): TableListRow | undefined {
    return this.db
      .prepare<[string], TableListRow>("SELECT * FROM pragma_table_list WHERE schema = 'main' AND name = ?")
      .get(table);
  }

  listTables(): TableSummary[] {
    return this.run(() =>
      this.tableNames().map((name) => ({
        name,
        columns: this.columnInfo(name).map((column) => ({
          name: column.name,
          type: column.type,
          not_null: column.notnull === 1,
          primary_key: column.pk > 0,
        })),
      })),
    );
  }

  describeTable(tableName: string): TableDescription {
    return this.run(() => {
      const name = this.resolveTable(tableName);
      const quoted = quoteIdentifier(name);
      const columns = this.columnInfo(name);
      const foreignKeys = new Map<number, ForeignKeyDescription>();
      for (const fk of this.db.prepare<[], ForeignKeyListRow>(`PRAGMA foreign_key_list(${quoted})`).all()) {
        let entry = foreignKeys.get(fk.id);
        if (!entry) {
          entry = {
            columns: [],
            references_table: fk.table,
            references_columns: [],
            on_update: fk.on_update,
            on_delete: fk.on_delete,
          };
          foreignKeys.set(fk.id, entry);
        }
        entry.columns.push(fk.from);
        if (fk.to !== null) entry.references_columns.push(fk.to);
      }
      const indexes = this.db
        .prepare<[], IndexListRow>(`PRAGMA index_list(${quoted})`)
        .all()
        .map((index) => ({
          name: index.name,
          unique: index.unique === 1,
          origin: index.origin,
          partial: index.partial === 1,
          columns: this.db
            .prepare<[], IndexInfoRow>(`PRAGMA index_info(${quoteIdentifier(index.name)})`)
            .all()
            .sort((a, b) => a.seqno - b.seqno)
            .map((column) => column.name ?? '<expression>'),
        }));
      const listEntry = this.tableListEntry(name);
      const sql = this.db
        .prepare<[string], { sql: string | null }>("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
        .get(name);
      return {
        name,
        columns: columns.map((column) => ({
          name: column.name,
          type: column.type,
          not_null: column.notnull === 1,
          default: column.dflt_value,
          primary_key_position: column.pk,
          generated: column.hidden === 2 || column.hidden === 3,
        })),
        primary_key: columns
          .filter((column) => column.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((column) => column.name),
        foreign_keys: [...foreignKeys.values()],
        indexes,
        without_rowid: listEntry?.wr === 1,
        strict: listEntry?.strict === 1,
        sql: sql?.sql ?? null,
      };
    });
  }

  // ── create_table ──────────────────────────────────────────────────────────────────────────

  /** True when `column` alone is the primary key of `table` or carries a single-column UNIQUE index. */
  private isUniqueKey(table: string, column: string): boolean {
    const pk = this.columnInfo(table).filter((info) => info.pk > 0);
    if (pk.length === 1 && pk[0]?.name === column) return true;
    return this.db
      .prepare<[], IndexListRow>(`PRAGMA index_list(${quoteIdentifier(table)})`)
      .all()
      .some((index) => {
        if (index.unique !== 1 || index.partial === 1) return false;
        const columns = this.db.prepare<[], IndexInfoRow>(`PRAGMA index_info(${quoteIdentifier(index.name)})`).all();
        return columns.length === 1 && columns[0]?.name === column;
      });
  }

  /**
   * Resolves a REFERENCES target against the live schema, or against the table being created
   * (a self-reference). The target must be a primary key or UNIQUE, or SQLite would report a
   * "foreign key mismatch" on every later write instead of now.
   */
  private resolveReference(
    column: string,
    reference: ColumnReference,
    newTable: string,
    newColumns: ReadonlyMap<string, ColumnSpec>,
    primaryKey: readonly string[],
  ): ColumnReference {
    const where = `Column ${showName(column)}: REFERENCES ${showName(reference.table)}(${showName(reference.column)})`;
    if (findName([newTable], reference.table) !== undefined) {
      const target = findName([...newColumns.keys()], reference.column);
      if (target === undefined) throw new DatabaseError('INVALID_INPUT', `${where}: the new table has no such column`);
      const spec = newColumns.get(target);
      const unique =
        spec?.primaryKey !== undefined ||
        spec?.unique === true ||
        (primaryKey.length === 1 && primaryKey[0] === target);
      if (!unique)
        throw new DatabaseError('INVALID_INPUT', `${where}: the referenced column must be the primary key or UNIQUE`);
      return { ...reference, table: newTable, column: target };
    }
    const table = findName(this.tableNames(), reference.table);
    if (table === undefined) throw new DatabaseError('INVALID_INPUT', `${where}: no such table`);
    const target = findName(
      this.columnInfo(table).map((info) => info.name),
      reference.column,
    );
    if (target === undefined)
      throw new DatabaseError('INVALID_INPUT', `${where}: table ${showName(table)} has no such column`);
    if (!this.isUniqueKey(table, target)) {
      throw new DatabaseError('INVALID_INPUT', `${where}: the referenced column must be the primary key or UNIQUE`);
    }
    return { ...reference, table, column: target };
  }

  createTable(
    tableName: string,
    schema: Record<string, string>,
    primaryKey?: string | readonly string[],
  ): TableDescription {
    this.assertWritable();
    const table = checkNewIdentifier(tableName, 'table');
    const entries = Object.entries(schema);
    if (entries.length === 0) throw new DatabaseError('INVALID_INPUT', 'schema must define at least one column');

    const specs = new Map<string, ColumnSpec>();
    for (const [column, text] of entries) {
      checkNewIdentifier(column, 'column');
      const clash = findName([...specs.keys()], column);
      if (clash !== undefined) {
        throw new DatabaseError(
          'INVALID_INPUT',
          `Columns ${showName(clash)} and ${showName(column)} are the same name to SQLite`,
        );
      }
      specs.set(column, parseColumnSpec(column, text));
    }

    const keyColumns = primaryKey === undefined ? [] : typeof primaryKey === 'string' ? [primaryKey] : [...primaryKey];
    const resolvedKey = keyColumns.map((name) => {
      const found = findName([...specs.keys()], name);
      if (found === undefined) {
        throw new DatabaseError(
          'INVALID_INPUT',
          `primary_key names ${showName(name)}, which is not a column in schema`,
        );
      }
      return found;
    });
    if (primaryKey !== undefined && resolvedKey.length === 0) {
      throw new DatabaseError('INVALID_INPUT', 'primary_key must name at least one column');
    }
    if (new Set(resolvedKey).size !== resolvedKey.length) {
      throw new DatabaseError('INVALID_INPUT', 'primary_key names the same column twice');
    }
    const inlineKeys = [...specs].filter(([, spec]) => spec.primaryKey !== undefined).map(([name]) => name);
    if (inlineKeys.length > 1) {
      throw new DatabaseError(
        'INVALID_INPUT',
        `Several columns say PRIMARY KEY (${inlineKeys.join(', ')}); for a composite key use primary_key: [${inlineKeys
          .map((name) => `"${name}"`)
          .join(', ')}]`,
      );
    }
    if (inlineKeys.length === 1 && resolvedKey.length > 0) {
      throw new DatabaseError(
        'INVALID_INPUT',
        `The primary key is given twice: column ${showName(inlineKeys[0] ?? '')} says PRIMARY KEY and primary_key is set`,
      );
    }

    return this.write(() => {
      if (findName(this.tableNames(), table) !== undefined) {
        throw new DatabaseError('CONFLICT', `Table ${showName(table)} already exists`);
      }
      const definitions = [...specs].map(([column, spec]) => {
        const resolved: ColumnSpec = spec.references
          ? { ...spec, references: this.resolveReference(column, spec.references, table, specs, resolvedKey) }
          : spec;
        return columnDefinitionSql(column, resolved);
      });
      if (resolvedKey.length > 0) definitions.push(`PRIMARY KEY (${resolvedKey.map(quoteIdentifier).join(', ')})`);
      this.db.prepare(`CREATE TABLE ${quoteIdentifier(table)} (${definitions.join(', ')})`).run();
      return this.describeTable(table);
    });
  }

  // ── records ───────────────────────────────────────────────────────────────────────────────

  /** Resolves the columns of a data object and converts its values; refuses the same column twice. */
  private assignments(columns: ColumnResolver, data: Record<string, unknown>): { names: string[]; values: SqlValue[] } {
    const names: string[] = [];
    const values: SqlValue[] = [];
    for (const [key, value] of Object.entries(data)) {
      const column = columns.resolve(key);
      if (names.includes(column))
        throw new DatabaseError('INVALID_INPUT', `Column ${showName(column)} is given twice in data`);
      names.push(column);
      values.push(toSqlValue(value, `column ${showName(column)}`));
    }
    return { names, values };
  }

  private filtersOf(columns: ColumnResolver, filters: Record<string, unknown>, tool: string): SqlFragment {
    if (Object.keys(filters).length === 0) {
      throw new DatabaseError(
        'INVALID_INPUT',
        `${tool} needs at least one filter, so that a call cannot change every row by accident`,
      );
    }
    return buildWhere(filters, columns);
  }

  insertRecord(tableName: string, data: Record<string, unknown>): InsertResult {
    this.assertWritable();
    return this.write(() => {
      const table = this.resolveTable(tableName);
      const { names, values } = this.assignments(this.columnsOf(table), data);
      const target = quoteIdentifier(table);
      const sql =
        names.length === 0
          ? `INSERT INTO ${target} DEFAULT VALUES RETURNING *`
          : `INSERT INTO ${target} (${names.map(quoteIdentifier).join(', ')}) VALUES (${names.map(() => '?').join(', ')}) RETURNING *`;
      const statement = this.db.prepare(sql).safeIntegers(true).raw(true);
      const returned = statement.get(values) as unknown[];
      const row = toRow(
        statement.columns().map((column) => column.name),
        returned,
      );
      const withoutRowid = this.tableListEntry(table)?.wr === 1;
      const rowid = withoutRowid
        ? null
        : fromSqlInteger(this.db.prepare('SELECT last_insert_rowid()').safeIntegers(true).pluck().get());
      return { row, rowid };
    });
  }

  queryRecords(tableName: string, options: QueryOptions = {}): QueryResult {
    const max = this.options.maxQueryResults;
    const limit = Math.min(options.limit ?? max, max);
    const offset = options.offset ?? 0;
    return this.run(() =>
      // One read transaction: the count and the page come from the same snapshot.
      this.db.transaction(() => {
        const table = this.resolveTable(tableName);
        const columns = this.filterColumnsOf(table);
        const where = buildWhere(options.filters ?? {}, columns);
        const whereSql = where.sql ? ` WHERE ${where.sql}` : '';
        const orderSql = options.orderBy !== undefined ? ` ORDER BY ${buildOrderBy(options.orderBy, columns)}` : '';
        const target = quoteIdentifier(table);
        const counted = this.db
          .prepare(`SELECT count(*) FROM ${target}${whereSql}`)
          .pluck()
          .get(where.params) as number;
        const statement = this.db
          .prepare(`SELECT * FROM ${target}${whereSql}${orderSql} LIMIT ? OFFSET ?`)
          .safeIntegers(true)
          .raw(true);
        const names = statement.columns().map((column) => column.name);
        const rows = (statement.all([...where.params, limit, offset]) as unknown[][]).map((values) =>
          toRow(names, values),
        );
        return { rows, total: counted, count: rows.length, limit, offset, truncated: offset + rows.length < counted };
      })(),
    );
  }

  updateRecords(tableName: string, filters: Record<string, unknown>, data: Record<string, unknown>): number {
    this.assertWritable();
    return this.write(() => {
      const table = this.resolveTable(tableName);
      const where = this.filtersOf(this.filterColumnsOf(table), filters, 'update_record');
      const { names, values } = this.assignments(this.columnsOf(table), data);
      if (names.length === 0) {
        throw new DatabaseError('INVALID_INPUT', 'update_record needs at least one column in data');
      }
      const set = names.map((name) => `${quoteIdentifier(name)} = ?`).join(', ');
      return this.db
        .prepare(`UPDATE ${quoteIdentifier(table)} SET ${set} WHERE ${where.sql}`)
        .run([...values, ...where.params]).changes;
    });
  }

  deleteRecords(tableName: string, filters: Record<string, unknown>): number {
    this.assertWritable();
    return this.write(() => {
      const table = this.resolveTable(tableName);
      const where = this.filtersOf(this.filterColumnsOf(table), filters, 'delete_record');
      return this.db.prepare(`DELETE FROM ${quoteIdentifier(table)} WHERE ${where.sql}`).run(where.params).changes;
    });
  }

  // ── raw SQL ───────────────────────────────────────────────────────────────────────────────

  /**
   * Runs one statement, synchronously on this thread. With readOnly it runs on the read-only
   * connection (see runReadOnly). The tool uses executeRawAsync, which keeps read-only queries off
   * the event loop; this stays for writes and for callers that own the thread.
   */
  executeRaw(query: string, params: RawParams | undefined, readOnly: boolean): RawResult {
    const kind = classifyStatement(query);
    if (readOnly) return runReadOnly(this.reader, query, bindParams(params), kind, this.limits);
    this.assertRawWritable();
    const statement = prepareRaw(this.db, query, this.limits);
    return runPrepared(statement, bindParams(params), this.limits);
  }

  /**
   * Like executeRaw, but a read-only query runs in a query process: the event loop stays free, and
   * when `signal` fires the call rejects at once with its reason (the process running it is killed
   * and replaced when needed). Writes
   * (readOnly=false) run synchronously on the main connection, as with executeRaw.
   */
  async executeRawAsync(
    query: string,
    params: RawParams | undefined,
    readOnly: boolean,
    signal?: AbortSignal,
  ): Promise<RawResult> {
    if (!readOnly) return this.executeRaw(query, params, false);
    // Refusals of never-allowed kinds and of bad parameter values need no query process.
    const kind = classifyStatement(query);
    return this.readers.run({ query, bound: bindParams(params), kind }, signal);
  }

  // ── plumbing ──────────────────────────────────────────────────────────────────────────────

  private assertRawWritable(): void {
    if (this.options.readOnly) {
      throw new DatabaseError(
        'FORBIDDEN',
        'read_only=false is refused: the database is read-only on this server (READ_ONLY_MODE=true)',
      );
    }
  }

  private assertWritable(): void {
    if (this.options.readOnly) {
      throw new DatabaseError('FORBIDDEN', 'The database is read-only on this server (READ_ONLY_MODE=true)');
    }
  }

  /** Runs reads, translating driver errors. */
  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw translateSqliteError(error, this.options.readOnly);
    }
  }

  /**
   * Runs a write in one IMMEDIATE transaction (the write lock is taken up front, so concurrent
   * writers wait for busy_timeout instead of failing mid-way); all of it or nothing is applied.
   */
  private write<T>(fn: () => T): T {
    this.assertWritable();
    return this.run(() => this.db.transaction(fn).immediate());
  }
}

/** The settings the database reads; the service's config satisfies it. */
export interface DatabaseSettings {
  DATABASE_PATH: string;
  READ_ONLY_MODE: boolean;
  SQLITE_BUSY_TIMEOUT_MS: number;
  MAX_QUERY_RESULTS: number;
  /** Optional so that callers opening a database by hand get the default. */
  SQLITE_QUERY_WORKERS?: number;
}

/** Opens the database from the service settings: the one place that maps settings to options. */
export function openDatabase(settings: Readonly<DatabaseSettings>): SqliteDatabase {
  return SqliteDatabase.open({
    path: settings.DATABASE_PATH,
    readOnly: settings.READ_ONLY_MODE,
    busyTimeoutMs: settings.SQLITE_BUSY_TIMEOUT_MS,
    maxQueryResults: settings.MAX_QUERY_RESULTS,
    queryWorkers: settings.SQLITE_QUERY_WORKERS,
  });
}
