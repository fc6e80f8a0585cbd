import sql from 'mssql';
import { type Connection, Request, TYPES } from 'tedious';

import type { CatalogSnapshot, ConstraintKind } from '../catalog.js';
import { groupConstraints, groupIndexes, yieldToLoop } from '../catalog.js';
import { DatabasesError } from '../errors.js';
import { checkSql } from '../sql/guard.js';
import { type DriverOptions, type EngineDriver, networkCode, ServerUnavailableError, withAbort } from './engine.js';
import {
  type ExecuteRequest,
  type ExplainResult,
  type QueryResult,
  RowCollector,
  type SqlParam,
  uniqueNames,
} from './results.js';

/**
 * SQL Server through the `mssql` pool and its tedious connections. Every batch runs inside a
 * transaction: on a read-only server it is always rolled back, whatever it did; the T-SQL guard
 * refuses beforehand what a rollback would not undo (EXEC, xp_/sp_ procedures, WAITFOR,
 * OPENROWSET, BULK INSERT, SELECT … INTO, DBCC, …). After each call the connection is reset
 * (sp_reset_connection: session settings, temporary tables and any open transaction are gone).
 */

/** The methods of mssql's ConnectionPool that hand out its tedious connections (not in @types/mssql). */
interface RawPool {
  acquire(requester: object): Promise<Connection>;
  release(connection: Connection): void;
}

/** Where the user's batch goes, between a transaction that is opened and always ended by the wrapper. */
export function wrapBatch(batch: string, readOnly: boolean): string {
  return [
    'SET XACT_ABORT ON;',
    'BEGIN TRANSACTION;',
    batch,
    ';',
    readOnly ? 'IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;' : 'IF @@TRANCOUNT > 0 COMMIT TRANSACTION;',
  ].join('\n');
}

/** A JSON value as a typed tedious parameter. */
export function parameterOf(value: SqlParam): { type: (typeof TYPES)[keyof typeof TYPES]; value: unknown } {
  if (value === null) return { type: TYPES.NVarChar, value: null };
  if (typeof value === 'boolean') return { type: TYPES.Bit, value };
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) return { type: TYPES.Int, value };
    if (Number.isSafeInteger(value)) return { type: TYPES.BigInt, value };
    return { type: TYPES.Float, value };
  }
  return { type: TYPES.NVarChar, value };
}

function translate(error: unknown, server: string, timeoutMs: number, state: { aborted: boolean }): DatabasesError {
  if (error instanceof DatabasesError) return error;
  const code = (error as { code?: unknown }).code;
  const number = (error as { number?: unknown }).number;
  const message = (error as { message?: unknown }).message;
  if (state.aborted) return new DatabasesError('CANCELLED', `The batch on ${server} was cancelled.`, { cause: error });
  if (code === 'ETIMEOUT' && typeof number !== 'number') {
    return new DatabasesError(
      'TIMEOUT',
      `The batch ran longer than ${timeoutMs} ms on ${server} and was cancelled (attention sent).`,
      {
        cause: error,
      },
    );
  }
  if (code === 'ELOGIN') return new ServerUnavailableError(`${server} refused the login.`, { cause: error });
  const network = networkCode(error);
  if (network || code === 'ESOCKET' || code === 'ECONNCLOSED') {
    return new ServerUnavailableError(`Cannot reach ${server} (${network ?? String(code)}).`, { cause: error });
  }
  if (typeof number === 'number' && typeof message === 'string') {
    const kind = [229, 230, 262, 297, 300, 3906].includes(number) ? 'FORBIDDEN' : 'INVALID_INPUT';
    return new DatabasesError(kind, `${server}: ${message} (error ${number})`, { cause: error });
  }
  return new DatabasesError('UPSTREAM_FAILED', `${server}: the batch failed.`, { cause: error });
}

export class MssqlDriver implements EngineDriver {
  readonly engine = 'mssql' as const;
  private readonly pools = new Map<string, Promise<sql.ConnectionPool>>();
  private closed = false;

  constructor(private readonly options: DriverOptions) {}

  private get server() {
    return this.options.server;
  }

  private pool(database: string): Promise<sql.ConnectionPool> {
    if (this.closed) return Promise.reject(new ServerUnavailableError('The service is shutting down.'));
    let pending = this.pools.get(database);
    if (!pending) {
      const { server } = this;
      pending = this.options.password().then(async (password) => {
        const pool = new sql.ConnectionPool({
          server: server.host,
          port: server.port,
          user: server.user,
          password,
          database,
          connectionTimeout: server.connect_timeout_ms,
          requestTimeout: server.statement_timeout_ms,
          options: {
            encrypt: server.tls !== 'off',
            trustServerCertificate: server.tls !== 'verify',
            appName: this.options.applicationName,
            enableArithAbort: true,
          },
          pool: { max: server.pool_max, min: 0, idleTimeoutMillis: 30_000 },
        });
        pool.on('error', (error: Error) => this.options.onWarning?.(`connection to ${server.name} failed`, error));
        await pool.connect();
        return pool;
      });
      pending.catch(() => this.pools.delete(database));
      this.pools.set(database, pending);
    }
    return pending;
  }

  /** One request on one connection: rows as they come, stopped (attention) when `onRow` returns false. */
  private static request(
    connection: Connection,
    text: string,
    params: readonly SqlParam[],
    timeoutMs: number,
    handlers: { onColumns?: (names: string[], types: string[]) => void; onRow?: (values: unknown[]) => boolean } = {},
  ): Promise<{ rowCount: number | undefined; stopped: boolean }> {
    return new Promise((resolve, reject) => {
      let stopped = false;
      const request = new Request(text, (error, rowCount) => {
        if (error && !(stopped && (error as { code?: unknown }).code === 'ECANCEL')) reject(error);
        else resolve({ rowCount, stopped });
      });
      request.setTimeout(timeoutMs);
      params.forEach((value, index) => {
        const parameter = parameterOf(value);
        request.addParameter(`p${index + 1}`, parameter.type, parameter.value);
      });
      request.on('columnMetadata', (columns) => {
        const list = Array.isArray(columns) ? columns : Object.values(columns);
        handlers.onColumns?.(
          list.map((column) => column.colName),
          list.map((column) => column.type.name.toLowerCase()),
        );
      });
      request.on('row', (columns: { value: unknown }[] | Record<string, { value: unknown }>) => {
        if (stopped) return;
        const list = Array.isArray(columns) ? columns : Object.values(columns);
        if (handlers.onRow && !handlers.onRow(list.map((column) => column.value))) {
          stopped = true;
          connection.cancel();
        }
      });
      // With parameters: an RPC (sp_executesql); without: a plain SQL batch.
      if (params.length > 0) connection.execSql(request);
      else connection.execSqlBatch(request);
    });
  }

  private static reset(connection: Connection): Promise<void> {
    return new Promise((resolve, reject) => connection.reset((error) => (error ? reject(error) : resolve())));
  }

  /** A connection for `work`, reset after it (sp_reset_connection) or, if that fails, closed. */
  private async withConnection<T>(
    database: string,
    signal: AbortSignal | undefined,
    work: (connection: Connection) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = this.server.statement_timeout_ms;
    const state = { aborted: false };
    let pool: sql.ConnectionPool;
    let connection: Connection;
    try {
      pool = await this.pool(database);
      connection = await (pool as unknown as RawPool).acquire(this);
    } catch (error) {
      throw translate(error, this.server.name, timeoutMs, state);
    }
    let healthy = false;
    try {
      const value = await withAbort(
        signal,
        () => {
          state.aborted = true;
          connection.cancel();
        },
        () => work(connection),
      );
      await MssqlDriver.reset(connection);
      healthy = true;
      return value;
    } catch (error) {
      healthy = await MssqlDriver.reset(connection).then(
        () => true,
        () => false,
      );
      throw translate(error, this.server.name, timeoutMs, state);
    } finally {
      if (!healthy) connection.close();
      (pool as unknown as RawPool).release(connection);
    }
  }

  private async rows<R>(
    database: string,
    text: string,
    params: readonly SqlParam[],
    signal?: AbortSignal,
  ): Promise<R[]> {
    return this.withConnection(database, signal, async (connection) => {
      let names: string[] = [];
      const out: R[] = [];
      await MssqlDriver.request(connection, text, params, this.server.statement_timeout_ms, {
        onColumns: (columns) => {
          names = columns;
        },
        onRow: (values) => {
          const row: Record<string, unknown> = {};
          names.forEach((name, index) => {
            row[name] = values[index];
          });
          out.push(row as R);
          return true;
        },
      });
      return out;
    });
  }

  async listDatabases(signal?: AbortSignal): Promise<string[]> {
    const rows = await this.rows<{ name: string }>(
      this.server.default_database ?? 'master',
      "SELECT name FROM sys.databases WHERE HAS_DBACCESS(name) = 1 AND state_desc = 'ONLINE' ORDER BY name",
      [],
      signal,
    );
    return rows.map((row) => row.name);
  }

  async readCatalog(database: string, signal?: AbortSignal): Promise<CatalogSnapshot> {
    const schemas = await this.rows<{ name: string }>(
      database,
      "SELECT s.name FROM sys.schemas s WHERE s.name NOT IN ('sys', 'INFORMATION_SCHEMA', 'guest') AND s.name NOT LIKE 'db[_]%' ORDER BY s.name",
      [],
      signal,
    );
    await yieldToLoop();
    const tables = await this.rows<{
      s: string;
      name: string;
      type: string;
      estimate: number | null;
      comment: string | null;
    }>(
      database,
      `SELECT s.name AS s, o.name, o.type,
              (SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)) AS estimate,
              CAST(ep.value AS nvarchar(4000)) AS comment
         FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id
         LEFT JOIN sys.extended_properties ep ON ep.major_id = o.object_id AND ep.minor_id = 0 AND ep.class = 1 AND ep.name = 'MS_Description'
        WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0
        ORDER BY s.name, o.name`,
      [],
      signal,
    );
    await yieldToLoop();
    const columns = await this.rows<{
      s: string;
      t: string;
      name: string;
      ordinal: number;
      type: string;
      max_length: number;
      precision: number;
      scale: number;
      nullable: boolean;
      dflt: string | null;
    }>(
      database,
      `SELECT s.name AS s, o.name AS t, c.name, c.column_id AS ordinal, ty.name AS type, c.max_length, c.precision, c.scale,
              c.is_nullable AS nullable, dc.definition AS dflt
         FROM sys.columns c JOIN sys.objects o ON o.object_id = c.object_id JOIN sys.schemas s ON s.schema_id = o.schema_id
         JOIN sys.types ty ON ty.user_type_id = c.user_type_id
         LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
        WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0
        ORDER BY s.name, o.name, c.column_id`,
      [],
      signal,
    );
    await yieldToLoop();
    const keys = await this.rows<{
      s: string;
      t: string;
      name: string;
      type: string;
      col: string;
      rs: string | null;
      rt: string | null;
      rc: string | null;
    }>(
      database,
      `SELECT s.name AS s, o.name AS t, kc.name, kc.type, c.name AS col, NULL AS rs, NULL AS rt, NULL AS rc
         FROM sys.key_constraints kc JOIN sys.objects o ON o.object_id = kc.parent_object_id JOIN sys.schemas s ON s.schema_id = o.schema_id
         JOIN sys.index_columns ic ON ic.object_id = kc.parent_object_id AND ic.index_id = kc.unique_index_id
         JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
       UNION ALL
       SELECT s.name, o.name, fk.name, 'F', c.name, rs.name, ro.name, rc.name
         FROM sys.foreign_keys fk JOIN sys.objects o ON o.object_id = fk.parent_object_id JOIN sys.schemas s ON s.schema_id = o.schema_id
         JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
         JOIN sys.columns c ON c.object_id = fkc.parent_object_id AND c.column_id = fkc.parent_column_id
         JOIN sys.objects ro ON ro.object_id = fk.referenced_object_id JOIN sys.schemas rs ON rs.schema_id = ro.schema_id
         JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
       ORDER BY 1, 2, 3`,
      [],
      signal,
    );
    await yieldToLoop();
    const indexes = await this.rows<{
      s: string;
      t: string;
      name: string;
      is_unique: boolean;
      is_primary_key: boolean;
      col: string;
    }>(
      database,
      `SELECT s.name AS s, o.name AS t, i.name, i.is_unique, i.is_primary_key, c.name AS col
         FROM sys.indexes i JOIN sys.objects o ON o.object_id = i.object_id JOIN sys.schemas s ON s.schema_id = o.schema_id
         JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.is_included_column = 0
         JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
        WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0 AND i.name IS NOT NULL
        ORDER BY s.name, o.name, i.name, ic.key_ordinal`,
      [],
      signal,
    );
    const kinds: Record<string, ConstraintKind> = { PK: 'primary_key', UQ: 'unique', F: 'foreign_key' };
    const constraints = groupConstraints(
      keys.map((row) => ({
        schema: row.s,
        table: row.t,
        name: row.name,
        kind: kinds[row.type.trim()] ?? 'unique',
        column: row.col,
        refSchema: row.rs,
        refTable: row.rt,
        refColumn: row.rc,
      })),
    );
    const indexList = groupIndexes(
      indexes.map((row) => ({
        schema: row.s,
        table: row.t,
        name: row.name,
        unique: row.is_unique,
        primary: row.is_primary_key,
        column: row.col,
      })),
    );
    const sized = (row: { type: string; max_length: number; precision: number; scale: number }) => {
      if (['varchar', 'char', 'varbinary', 'binary'].includes(row.type))
        return `${row.type}(${row.max_length === -1 ? 'max' : row.max_length})`;
      if (['nvarchar', 'nchar'].includes(row.type))
        return `${row.type}(${row.max_length === -1 ? 'max' : row.max_length / 2})`;
      if (['decimal', 'numeric'].includes(row.type)) return `${row.type}(${row.precision},${row.scale})`;
      return row.type;
    };
    return {
      schemas: schemas.map((row) => row.name),
      tables: tables.map((row) => ({
        schema: row.s,
        name: row.name,
        kind: row.type.trim() === 'V' ? 'view' : 'table',
        rowEstimate: row.estimate === null ? null : Number(row.estimate),
        comment: row.comment,
      })),
      columns: columns.map((row) => ({
        schema: row.s,
        table: row.t,
        name: row.name,
        ordinal: row.ordinal,
        type: sized(row),
        nullable: row.nullable,
        default: row.dflt,
      })),
      constraints,
      indexes: indexList,
    };
  }

  /**
   * One guarded batch inside the rollback (read-only) or commit (read-write) wrapper; parameters
   * bind to @p1, @p2, … through sp_executesql. At the row or byte limit the request is cancelled
   * (attention), and the transaction with it.
   */
  async execute(request: ExecuteRequest): Promise<QueryResult> {
    checkSql(request.sql, { dialect: 'tsql', access: request.access });
    const readOnly = request.access === 'read_only';
    return this.withConnection(request.database, request.signal, async (connection) => {
      let collector: RowCollector | undefined;
      let columns: QueryResult['columns'] = [];
      const { rowCount } = await MssqlDriver.request(
        connection,
        wrapBatch(request.sql, readOnly),
        request.params,
        this.server.statement_timeout_ms,
        {
          onColumns: (names, types) => {
            if (collector) return; // the first result set is the answer
            const keys = uniqueNames(names.map((name, index) => name || `column_${index + 1}`));
            columns = keys.map((name, index) => ({ name, type: types[index] ?? 'unknown' }));
            collector = new RowCollector(keys, request.maxRows, request.maxBytes);
          },
          onRow: (values) => collector?.add(values) ?? true,
        },
      );
      const done = collector ?? new RowCollector([], request.maxRows, request.maxBytes);
      return {
        columns,
        rows: done.rows,
        row_count: done.rows.length,
        truncated: done.full,
        truncated_by: done.truncatedBy,
        affected_rows: collector || readOnly ? null : (rowCount ?? null),
      };
    });
  }

  /** SET SHOWPLAN_XML ON: the batch is compiled, not run, and its plan comes back as XML. */
  async explain(request: Omit<ExecuteRequest, 'maxRows' | 'maxBytes'>): Promise<ExplainResult> {
    checkSql(request.sql, { dialect: 'tsql', access: request.access, purpose: 'explain' });
    return this.withConnection(request.database, request.signal, async (connection) => {
      const timeoutMs = this.server.statement_timeout_ms;
      await MssqlDriver.request(connection, 'SET SHOWPLAN_XML ON', [], timeoutMs);
      const plans: string[] = [];
      try {
        await MssqlDriver.request(connection, request.sql, request.params, timeoutMs, {
          onRow: (values) => {
            plans.push(typeof values[0] === 'string' ? values[0] : '');
            return true;
          },
        });
      } finally {
        await MssqlDriver.request(connection, 'SET SHOWPLAN_XML OFF', [], timeoutMs);
      }
      return { format: 'xml', plan: plans.join('\n') };
    });
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.rows(this.server.default_database ?? 'master', 'SELECT 1 AS ok', [], signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map((pending) =>
        pending
          .then(
            (pool) => pool.close(),
            () => undefined,
          )
          .catch(() => undefined),
      ),
    );
  }
}
