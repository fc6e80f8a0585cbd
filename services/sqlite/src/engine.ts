/**
 * The SQLite engine behind the tools: every tool's SQL, run synchronously on one connection. It runs
 * inside the database processes (worker-entry.ts): readers hold a read-only connection, the one
 * writer holds the write connection. Plain domain code: no MCP, server or IPC imports.
 *
 * Guarantees kept here, for every call:
 * - Table and column names are resolved against the live schema and always quoted; values are
 *   always bound parameters.
 * - A write is one IMMEDIATE transaction: all of it or nothing. A raw write runs inside that
 *   transaction too, so the checks below happen before COMMIT and a refused write is rolled back.
 * - Raw statements are decided on what SQLite compiled (statement-guard.ts), PRAGMA before
 *   compiling (statement-head.ts).
 * - After every call the connection's settings (every readable pragma, attached databases, TEMP
 *   objects, an open transaction) are compared with those it had when opened. A difference refuses
 *   the call (rolled back when writing) and retires the engine: its process is replaced, so nothing
 *   a call changed survives into the next one.
 * - Answers stop at MAX_QUERY_RESULTS rows and at the byte budget (MCP_MAX_RESULT_BYTES), saying
 *   why (`truncated`, `truncated_reason`).
 */
import type Database from 'better-sqlite3';

import { columnDefinitionSql, type ColumnReference, type ColumnSpec, parseColumnSpec } from './column-spec.js';
import {
  changedSettings,
  type ConnectionState,
  durabilityOf,
  type DurabilitySettings,
  openReadConnection,
  openWriteConnection,
  StateReader,
} from './connection.js';
import { DatabaseError, showName, translateSqliteError } from './errors.js';
import { buildOrderBy, buildWhere, type SqlFragment } from './filters.js';
import { checkNewIdentifier, ColumnResolver, findName, isInternalTable, quoteIdentifier } from './identifiers.js';
import {
  type BoundParams,
  prepareOne,
  type RawLimits,
  type RawResult,
  readRows,
  runPrepared,
  translateBindError,
} from './raw-execute.js';
import { budgetReason, ByteBudget, jsonBytes } from './result-budget.js';
import { inspectStatement } from './statement-guard.js';
import { readStatementHead } from './statement-head.js';
import { fromSqlInteger, type Row, type SqlValue, toSqlValue } from './values.js';

export type EngineRole = 'reader' | 'writer';

export interface EngineOptions extends RawLimits {
  path: string;
  role: EngineRole;
  busyTimeoutMs: number;
}

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

export interface TableList {
  tables: TableSummary[];
  truncated: boolean;
  truncated_reason?: string;
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
  /** The CREATE TABLE statement as stored in sqlite_schema (null when it does not fit the budget). */
  sql: string | null;
  truncated: boolean;
  truncated_reason?: string;
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
  /** More matching rows exist after this page (the limit, MAX_QUERY_RESULTS or the byte budget cut it). */
  truncated: boolean;
  truncated_reason?: string;
}

export interface InsertResult {
  /** The row as stored; null when it alone is over the byte budget (then `truncated` says so). */
  row: Row | null;
  /** The new row's rowid; null for WITHOUT ROWID tables. */
  rowid: number | string | null;
  truncated?: true;
  truncated_reason?: string;
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

/** EXPLAIN's and EXPLAIN QUERY PLAN's columns: how SQLite shows it compiled an EXPLAIN. */
const EXPLAIN_COLUMNS = ['addr,opcode,p1,p2,p3,p4,p5,comment', 'id,parent,notused,detail'];

export class SqliteEngine {
  private connection: Database.Database | undefined;
  private stateReader: StateReader | undefined;
  private baseline: ConnectionState | undefined;
  /** The state read by the last check: what durability() reports, without reading it again. */
  private lastState: ConnectionState | undefined;
  private retiredFlag = false;

  constructor(readonly options: Readonly<EngineOptions>) {}

  /**
   * True once a call changed the connection in a way the engine could not undo: the process holding
   * it must not serve another call (the pool replaces it).
   */
  get retired(): boolean {
    return this.retiredFlag;
  }

  /** The connection, opened on first use so that a file problem is answered as that call's error. */
  private get db(): Database.Database {
    return this.connection ?? this.open();
  }

  private open(): Database.Database {
    const { path, role, busyTimeoutMs } = this.options;
    const connection =
      role === 'writer' ? openWriteConnection(path, busyTimeoutMs) : openReadConnection(path, busyTimeoutMs);
    this.connection = connection;
    this.stateReader = new StateReader(connection);
    this.baseline = this.stateReader.read();
    this.lastState = this.baseline;
    return connection;
  }

  /** The connection's durability settings as SQLite reported them at the last check (opens it if needed). */
  durability(): DurabilitySettings {
    if (!this.connection) this.open();
    if (!this.lastState) throw new DatabaseError('INTERNAL', 'The connection is not open');
    return durabilityOf(this.lastState);
  }

  close(): void {
    this.connection?.close();
    this.connection = undefined;
  }

  // ── the checks around every call ──────────────────────────────────────────────────────────

  /**
   * Compares the connection with its state when opened; a difference retires the engine and refuses
   * the call. `inWrite` is true inside the engine's own write transaction.
   */
  private checkState(inWrite: boolean): void {
    const db = this.db;
    const reader = this.stateReader;
    const baseline = this.baseline;
    if (!reader || !baseline) throw new DatabaseError('INTERNAL', 'The connection is not open');
    this.lastState = reader.read();
    const changed = changedSettings(baseline, this.lastState);
    if (!inWrite && db.inTransaction) changed.push('an open transaction');
    if (changed.length > 0) {
      this.retiredFlag = true;
      throw new DatabaseError(
        'FORBIDDEN',
        `The call left the connection changed (${changed.join(', ')}), which is not allowed: it was refused` +
          `${this.options.role === 'writer' ? ' and rolled back' : ''}, and the connection is replaced`,
      );
    }
  }

  /** Runs a call that only reads, translating driver errors, then checks the connection. */
  private read<T>(fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (error) {
      // A connection that could not even be opened has nothing to check.
      if (this.connection?.inTransaction) this.connection.exec('ROLLBACK');
      if (this.connection) this.checkState(false);
      throw this.translate(error);
    }
    this.checkState(false);
    return result;
  }

  /**
   * Runs a write in one IMMEDIATE transaction (the write lock is taken up front, so concurrent
   * writers wait for busy_timeout instead of failing mid-way); the connection is checked before
   * COMMIT, so a statement that changed it is rolled back. All of it or nothing is applied.
   */
  private write<T>(fn: () => T): T {
    this.assertWriter();
    let db: Database.Database;
    try {
      db = this.db;
    } catch (error) {
      throw this.translate(error);
    }
    try {
      db.exec('BEGIN IMMEDIATE');
      const result = fn();
      this.checkState(true);
      // Only the engine ends its transaction: a statement that did (or that a trigger's RAISE(ROLLBACK) did) failed.
      if (!db.inTransaction) throw new DatabaseError('INTERNAL', 'The write transaction ended early');
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      if (!this.retiredFlag) this.checkState(false);
      throw this.translate(error);
    }
  }

  private translate(error: unknown): DatabaseError {
    return translateSqliteError(error, this.options.readOnlyMode);
  }

  private assertWriter(): void {
    if (this.options.role !== 'writer') {
      throw new DatabaseError('INTERNAL', 'A write reached a read-only database process');
    }
  }

  // ── schema ────────────────────────────────────────────────────────────────────────────────

  /** User tables, sorted by name (SQLite's internal sqlite_* tables excluded). */
  private tableNames(): string[] {
    const rows = this.db
      .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    return rows.filter((name) => !isInternalTable(name));
  }

  /** The table as the schema spells it; NOT_FOUND naming (some of) the tables that do exist. */
  private resolveTable(name: string): string {
    const tables = this.tableNames();
    const found = findName(tables, name);
    if (found === undefined) {
      const shown =
        tables.length === 0
          ? 'the database has no tables'
          : `tables: ${tables.slice(0, 50).join(', ')}${tables.length > 50 ? ', …' : ''}`;
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

  /** Every table with its columns, while the answer fits the byte budget. */
  listTables(): TableList {
    return this.read(() => {
      const names = this.tableNames();
      const budget = new ByteBudget(this.options.maxResultBytes, { tables: [], truncated: false });
      const tables: TableSummary[] = [];
      for (const name of names) {
        const table = {
          name,
          columns: this.columnInfo(name).map((column) => ({
            name: column.name,
            type: column.type,
            not_null: column.notnull === 1,
            primary_key: column.pk > 0,
          })),
        };
        if (!budget.take(jsonBytes(table))) {
          return {
            tables,
            truncated: true,
            truncated_reason: budgetReason(
              this.options.maxResultBytes,
              tables.length,
              `of ${names.length} tables`,
              `the rest are not listed; describe_table describes one table, and execute_raw_query can list names ` +
                `(SELECT name FROM sqlite_schema WHERE type = 'table' LIMIT 100 OFFSET ${tables.length})`,
            ),
          };
        }
        tables.push(table);
      }
      return { tables, truncated: false };
    });
  }

  describeTable(tableName: string): TableDescription {
    return this.read(() => this.describe(tableName));
  }

  /**
   * The table's description, filled in while it fits the byte budget: columns, then foreign keys,
   * then indexes, then the CREATE statement; what does not fit is left out and named.
   */
  private describe(tableName: string): TableDescription {
    const name = this.resolveTable(tableName);
    const quoted = quoteIdentifier(name);
    const info = this.columnInfo(name);
    const listEntry = this.tableListEntry(name);
    const description: TableDescription = {
      name,
      columns: [],
      primary_key: info
        .filter((column) => column.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((column) => column.name),
      foreign_keys: [],
      indexes: [],
      without_rowid: listEntry?.wr === 1,
      strict: listEntry?.strict === 1,
      sql: null,
      truncated: false,
    };
    const budget = new ByteBudget(this.options.maxResultBytes, description);
    const left: string[] = [];
    const fill = <T>(items: Iterable<T>, into: T[], what: string, total: number): void => {
      for (const item of items) {
        if (left.length > 0 || !budget.take(jsonBytes(item))) {
          left.push(`${total - into.length} of ${total} ${what}`);
          return;
        }
        into.push(item);
      }
    };

    fill(
      info.map((column) => ({
        name: column.name,
        type: column.type,
        not_null: column.notnull === 1,
        default: column.dflt_value,
        primary_key_position: column.pk,
        generated: column.hidden === 2 || column.hidden === 3,
      })),
      description.columns,
      'columns',
      info.length,
    );

    const foreignKeys = new Map<number, ForeignKeyDescription>();
    for (const fk of this.db.prepare<[], ForeignKeyListRow>(`PRAGMA foreign_key_list(${quoted})`).iterate()) {
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
    fill(foreignKeys.values(), description.foreign_keys, 'foreign keys', foreignKeys.size);

    const indexList = this.db.prepare<[], IndexListRow>(`PRAGMA index_list(${quoted})`).all();
    const indexInfo = this.db.prepare<[string], IndexInfoRow>('SELECT seqno, name FROM pragma_index_info(?)');
    fill(
      (function* () {
        for (const index of indexList) {
          yield {
            name: index.name,
            unique: index.unique === 1,
            origin: index.origin,
            partial: index.partial === 1,
            columns: indexInfo
              .all(index.name)
              .sort((a, b) => a.seqno - b.seqno)
              .map((column) => column.name ?? '<expression>'),
          };
        }
      })(),
      description.indexes,
      'indexes',
      indexList.length,
    );

    const sql = this.db
      .prepare<[string], string | null>("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
      .pluck()
      .get(name);
    if (typeof sql === 'string') {
      if (left.length === 0 && budget.take(jsonBytes(sql))) description.sql = sql;
      else left.push('the CREATE TABLE statement');
    }
    if (left.length > 0) {
      description.truncated = true;
      description.truncated_reason =
        `The answer stops at MCP_MAX_RESULT_BYTES (${this.options.maxResultBytes} bytes of JSON); left out: ` +
        `${left.join(', ')}. execute_raw_query can read them in parts (pragma_table_xinfo, pragma_index_list, sqlite_schema)`;
    }
    return description;
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
    this.assertWriter();
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
      return this.describe(table);
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
    return this.write(() => {
      const table = this.resolveTable(tableName);
      const { names, values } = this.assignments(this.columnsOf(table), data);
      const target = quoteIdentifier(table);
      const sql =
        names.length === 0
          ? `INSERT INTO ${target} DEFAULT VALUES RETURNING *`
          : `INSERT INTO ${target} (${names.map(quoteIdentifier).join(', ')}) VALUES (${names.map(() => '?').join(', ')}) RETURNING *`;
      const statement = this.db.prepare(sql);
      const read = readRows(
        statement,
        values,
        { ...this.options, maxQueryResults: 1 },
        { row: null, rowid: null },
        {
          more: () => '',
          oneRow: 'the row is stored; read it in parts with execute_raw_query (substr(), length())',
        },
      );
      const withoutRowid = this.tableListEntry(table)?.wr === 1;
      const rowid = withoutRowid
        ? null
        : fromSqlInteger(this.db.prepare('SELECT last_insert_rowid()').safeIntegers(true).pluck().get());
      const row = read.rows[0];
      if (row !== undefined) return { row, rowid };
      return {
        row: null,
        rowid,
        truncated: true,
        truncated_reason: read.reason ?? 'The stored row is over the byte budget',
      };
    });
  }

  queryRecords(tableName: string, options: QueryOptions = {}): QueryResult {
    const max = this.options.maxQueryResults;
    const limit = Math.min(options.limit ?? max, max);
    const offset = options.offset ?? 0;
    return this.read(() =>
      // One read transaction: the count and the page come from the same snapshot.
      this.db.transaction(() => {
        const table = this.resolveTable(tableName);
        const columns = this.filterColumnsOf(table);
        const where = buildWhere(options.filters ?? {}, columns);
        const whereSql = where.sql ? ` WHERE ${where.sql}` : '';
        const orderSql = options.orderBy !== undefined ? ` ORDER BY ${buildOrderBy(options.orderBy, columns)}` : '';
        const target = quoteIdentifier(table);
        const total = this.db.prepare(`SELECT count(*) FROM ${target}${whereSql}`).pluck().get(where.params) as number;
        const statement = this.db.prepare(`SELECT * FROM ${target}${whereSql}${orderSql} LIMIT ? OFFSET ?`);
        const envelope = { total, count: 0, limit, offset, truncated: false };
        const read = readRows(statement, [...where.params, limit, offset], this.options, envelope, {
          more: (kept) => `page on with offset=${offset + kept}`,
          oneRow: 'this row cannot be returned whole; read it in parts with execute_raw_query (substr(), length())',
        });
        const count = read.rows.length;
        const truncated = offset + count < total;
        const reason =
          read.reason ??
          `More rows follow: this page holds at most ${limit} rows (${limit === max ? 'MAX_QUERY_RESULTS' : 'limit'}); ` +
            `page on with offset=${offset + count}`;
        return {
          rows: read.rows,
          total,
          count,
          limit,
          offset,
          truncated,
          ...(truncated && { truncated_reason: reason }),
        };
      })(),
    );
  }

  updateRecords(tableName: string, filters: Record<string, unknown>, data: Record<string, unknown>): number {
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
    return this.write(() => {
      const table = this.resolveTable(tableName);
      const where = this.filtersOf(this.filterColumnsOf(table), filters, 'delete_record');
      return this.db.prepare(`DELETE FROM ${quoteIdentifier(table)} WHERE ${where.sql}`).run(where.params).changes;
    });
  }

  // ── raw SQL ───────────────────────────────────────────────────────────────────────────────

  /**
   * Runs one raw statement. A reader runs it only if it cannot write (better-sqlite3's
   * stmt.readonly, and the read-only connection besides); the writer runs it inside its own
   * transaction. Either way the statement is decided on its compiled program first.
   */
  executeRaw(query: string, bound: BoundParams, readOnly: boolean): RawResult {
    const head = readStatementHead(query);
    if (this.options.role === 'reader') {
      if (!readOnly) throw new DatabaseError('INTERNAL', 'A write reached a read-only database process');
      return this.read(() => this.runRaw(head.core, head.explain, head.keyword, bound, true));
    }
    return this.write(() => this.runRaw(head.core, head.explain, head.keyword, bound, readOnly));
  }

  private runRaw(core: string, explain: boolean, keyword: string, bound: BoundParams, readOnly: boolean): RawResult {
    const statement = prepareOne(this.db, core, this.options.readOnlyMode);
    // A statement whose compilation changed a setting never runs (PRAGMA is gated before this, too).
    this.checkState(this.options.role === 'writer');
    try {
      if (explain) {
        // EXPLAIN lists the program and never runs it; make sure SQLite compiled an EXPLAIN.
        const columns = statement
          .columns()
          .map((column) => column.name)
          .join(',');
        if (!EXPLAIN_COLUMNS.includes(columns))
          throw new DatabaseError('FORBIDDEN', 'The statement could not be inspected');
      } else {
        inspectStatement(this.db, core, bound);
      }
    } catch (error) {
      if (error instanceof DatabaseError) throw error;
      throw translateBindError(error) ?? this.translate(error);
    }
    if (readOnly && !statement.readonly && !explain) {
      const kind = keyword === '' ? 'statement' : `${keyword} statement`;
      throw new DatabaseError(
        'FORBIDDEN',
        this.options.readOnlyMode
          ? `This ${kind} would write, and the database is read-only on this server (READ_ONLY_MODE=true)`
          : `This ${kind} would write (or create temporary objects) and read_only is true; call again with read_only=false to write`,
      );
    }
    return runPrepared(statement, bound, this.options);
  }
}
