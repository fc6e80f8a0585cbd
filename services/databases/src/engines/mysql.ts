import mysql from 'mysql2';

import type { CatalogSnapshot, ConstraintKind } from '../catalog.js';
import { groupConstraints, groupIndexes, yieldToLoop } from '../catalog.js';
import { DatabasesError } from '../errors.js';
import { checkSql } from '../sql/guard.js';
import type { LexOptions } from '../sql/lexer.js';
import { type DriverOptions, type EngineDriver, networkCode, ServerUnavailableError, withAbort } from './engine.js';
import {
  type ExecuteRequest,
  type ExplainResult,
  type QueryResult,
  RowCollector,
  type SqlParam,
  uniqueNames,
} from './results.js';

type Connection = mysql.PoolConnection;

const TYPE_NAMES = new Map<number, string>(
  Object.entries(mysql.Types as unknown as Record<string, number>).map(([name, id]) => [id, name.toLowerCase()]),
);

/** Errors that mean the statement was stopped: KILL QUERY, MariaDB max_statement_time, MySQL max_execution_time. */
const INTERRUPTED = new Set([1317, 1969, 3024]);

function lexOptionsOf(sqlMode: string): LexOptions {
  const modes = sqlMode.toUpperCase().split(',');
  return { backslashEscapes: !modes.includes('NO_BACKSLASH_ESCAPES'), ansiQuotes: modes.includes('ANSI_QUOTES') };
}

function translate(
  error: unknown,
  server: string,
  timeoutMs: number,
  state: { aborted: boolean; timedOut: boolean },
): DatabasesError {
  if (error instanceof DatabasesError) return error;
  const errno = (error as { errno?: unknown }).errno;
  const code = (error as { code?: unknown }).code;
  const sqlMessage = (error as { sqlMessage?: unknown }).sqlMessage;
  if (state.aborted)
    return new DatabasesError('CANCELLED', `The statement on ${server} was cancelled.`, { cause: error });
  if (state.timedOut || (typeof errno === 'number' && INTERRUPTED.has(errno))) {
    return new DatabasesError(
      'TIMEOUT',
      `The statement ran longer than ${timeoutMs} ms on ${server} and was stopped on the server.`,
      {
        cause: error,
      },
    );
  }
  if (typeof errno === 'number' && [1044, 1045, 1129, 1130, 1040, 1203].includes(errno)) {
    return new ServerUnavailableError(`${server} refused the connection (error ${errno}).`, { cause: error });
  }
  const network = networkCode(error);
  if (network || code === 'PROTOCOL_CONNECTION_LOST') {
    return new ServerUnavailableError(`Cannot reach ${server} (${network ?? 'connection lost'}).`, { cause: error });
  }
  if (typeof errno === 'number' && typeof sqlMessage === 'string') {
    const kind = [1142, 1143, 1227, 1370, 1792, 1290, 1036].includes(errno)
      ? 'FORBIDDEN'
      : errno >= 1000 && errno < 2000
        ? 'INVALID_INPUT'
        : 'UPSTREAM_FAILED';
    return new DatabasesError(kind, `${server}: ${sqlMessage} (error ${errno})`, { cause: error });
  }
  return new DatabasesError('UPSTREAM_FAILED', `${server}: the query failed.`, { cause: error });
}

export class MysqlDriver implements EngineDriver {
  readonly engine = 'mysql' as const;
  private readonly pools = new Map<string, Promise<mysql.Pool>>();
  /** The server's sql_mode flags that change where strings end, as last seen on a connection. */
  private lex: LexOptions = { backslashEscapes: true, ansiQuotes: false };
  private mariadb: boolean | undefined;
  private closed = false;

  constructor(private readonly options: DriverOptions) {}

  private get server() {
    return this.options.server;
  }

  private async connectionOptions(database: string): Promise<mysql.ConnectionOptions> {
    const { server } = this;
    return {
      host: server.host,
      port: server.port,
      user: server.user,
      password: await this.options.password(),
      ...(database === '' ? {} : { database }),
      connectTimeout: server.connect_timeout_ms,
      ...(server.tls === 'off' ? {} : { ssl: { rejectUnauthorized: server.tls === 'verify' } }),
      multipleStatements: false,
      // No LOAD DATA LOCAL: the server could ask the client for any of its files.
      flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS'],
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      charset: 'utf8mb4',
      enableKeepAlive: true,
    };
  }

  private pool(database: string): Promise<mysql.Pool> {
    if (this.closed) return Promise.reject(new ServerUnavailableError('The service is shutting down.'));
    let pool = this.pools.get(database);
    if (!pool) {
      pool = this.connectionOptions(database).then((options) => {
        const created = mysql.createPool({
          ...options,
          connectionLimit: this.server.pool_max,
          maxIdle: 2,
          idleTimeout: 30_000,
        });
        created.on('connection', (connection) => connection.on('error', () => undefined));
        return created;
      });
      pool.catch(() => this.pools.delete(database));
      this.pools.set(database, pool);
    }
    return pool;
  }

  private async connection(database: string): Promise<Connection> {
    const pool = await this.pool(database);
    return new Promise((resolve, reject) => {
      pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection)));
    });
  }

  private static run(connection: Connection, sql: string, values?: readonly SqlParam[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const callback = (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result));
      if (values && values.length > 0) connection.execute(sql, [...values], callback);
      else connection.query(sql, callback);
    });
  }

  /** KILL QUERY <id> from a separate, short-lived connection: the statement stops on the server. */
  private async kill(threadId: number): Promise<void> {
    try {
      const options = await this.connectionOptions('');
      await new Promise<void>((resolve, reject) => {
        const killer = mysql.createConnection(options);
        killer.on('error', () => undefined);
        killer.query(`KILL QUERY ${Math.trunc(threadId)}`, (error) => {
          killer.destroy();
          if (error) reject(error);
          else resolve();
        });
      });
    } catch (error) {
      this.options.onWarning?.(`could not stop a statement on ${this.server.name}`, error as Error);
    }
  }

  /**
   * One transaction on one pooled connection: the session's statement time limit, START
   * TRANSACTION READ ONLY (or read-write), `work`, ROLLBACK (or COMMIT), then COM_RESET_CONNECTION
   * so that user variables, temporary tables, locks and settings never reach the next call. A
   * connection that fails any of that is destroyed. A call that is cancelled or runs past the
   * server's statement timeout gets KILL QUERY.
   */
  private async transaction<T>(
    database: string,
    readOnly: boolean,
    signal: AbortSignal | undefined,
    work: (connection: Connection, lex: LexOptions, discard: () => void) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = this.server.statement_timeout_ms;
    const state = { aborted: false, timedOut: false };
    let connection: Connection;
    try {
      connection = await this.connection(database);
    } catch (error) {
      throw translate(error, this.server.name, timeoutMs, state);
    }
    let healthy = false;
    let discarded = false;
    const threadId = connection.threadId;
    let timer: NodeJS.Timeout | undefined;
    let hardTimer: NodeJS.Timeout | undefined;
    // If KILL cannot reach the server (a connection that died mid-call), the call still ends: after a
    // grace period it fails, and the connection is destroyed.
    const giveUp = new Promise<never>((_resolve, reject) => {
      const fail = () =>
        reject(new DatabasesError(state.aborted ? 'CANCELLED' : 'TIMEOUT', 'no answer after KILL QUERY'));
      hardTimer = setTimeout(fail, timeoutMs + 3000);
      signal?.addEventListener('abort', () => setTimeout(fail, 2000).unref(), { once: true });
    });
    giveUp.catch(() => undefined);
    try {
      return await withAbort(
        signal,
        () => {
          state.aborted = true;
          void this.kill(threadId);
        },
        () =>
          Promise.race([
            giveUp,
            (async () => {
              const [session] = (await MysqlDriver.run(
                connection,
                'SELECT @@SESSION.sql_mode AS m, VERSION() AS v',
              )) as {
                m: string;
                v: string;
              }[];
              this.lex = lexOptionsOf(session?.m ?? '');
              this.mariadb = /mariadb/i.test(session?.v ?? '');
              // The server stops the statement itself; the timer (with a margin) is for what it does not cover.
              await MysqlDriver.run(
                connection,
                this.mariadb
                  ? `SET SESSION max_statement_time = ${(timeoutMs / 1000).toFixed(3)}`
                  : `SET SESSION max_execution_time = ${Math.trunc(timeoutMs)}`,
              );
              timer = setTimeout(() => {
                state.timedOut = true;
                void this.kill(threadId);
              }, timeoutMs + 500);
              await MysqlDriver.run(connection, readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION');
              const value = await work(connection, this.lex, () => {
                discarded = true;
              });
              clearTimeout(timer);
              // A statement stopped by KILL QUERY: the session ends with the connection, and its transaction with it.
              if (discarded) return value;
              await MysqlDriver.run(connection, readOnly ? 'ROLLBACK' : 'COMMIT');
              await new Promise<void>((resolve, reject) =>
                connection.reset((error) => (error ? reject(error) : resolve())),
              );
              healthy = true;
              return value;
            })(),
          ]),
      );
    } catch (error) {
      clearTimeout(timer);
      if (!healthy && !discarded && !state.aborted && !state.timedOut) {
        // Roll back and reset; any failure there and the connection is destroyed below.
        healthy = await MysqlDriver.run(connection, 'ROLLBACK')
          .then(() => new Promise<void>((resolve, reject) => connection.reset((e) => (e ? reject(e) : resolve()))))
          .then(() => true)
          .catch(() => false);
      }
      throw translate(error, this.server.name, timeoutMs, state);
    } finally {
      clearTimeout(hardTimer);
      if (healthy) connection.release();
      else connection.destroy();
    }
  }

  async listDatabases(signal?: AbortSignal): Promise<string[]> {
    return this.transaction(this.server.default_database ?? '', true, signal, async (connection) => {
      const rows = (await MysqlDriver.run(
        connection,
        'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME',
      )) as { name: string }[];
      return rows.map((row) => row.name);
    });
  }

  /** MySQL's database is its schema: one schema per database, named like it. */
  async readCatalog(database: string, signal?: AbortSignal): Promise<CatalogSnapshot> {
    return this.transaction(database, true, signal, async (connection) => {
      const tables = (await MysqlDriver.run(
        connection,
        `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS estimate, TABLE_COMMENT AS comment
           FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
        [database],
      )) as { name: string; type: string; estimate: string | number | null; comment: string | null }[];
      await yieldToLoop();
      const columns = (await MysqlDriver.run(
        connection,
        `SELECT TABLE_NAME AS t, COLUMN_NAME AS name, ORDINAL_POSITION AS ordinal, COLUMN_TYPE AS type,
                IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt
           FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
        [database],
      )) as {
        t: string;
        name: string;
        ordinal: number | string;
        type: string;
        nullable: string;
        dflt: string | null;
      }[];
      await yieldToLoop();
      const keys = (await MysqlDriver.run(
        connection,
        `SELECT tc.TABLE_NAME AS t, tc.CONSTRAINT_NAME AS name, tc.CONSTRAINT_TYPE AS type, k.COLUMN_NAME AS col,
                k.REFERENCED_TABLE_SCHEMA AS rs, k.REFERENCED_TABLE_NAME AS rt, k.REFERENCED_COLUMN_NAME AS rc
           FROM information_schema.TABLE_CONSTRAINTS tc
           JOIN information_schema.KEY_COLUMN_USAGE k
             ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND k.TABLE_NAME = tc.TABLE_NAME
          WHERE tc.TABLE_SCHEMA = ? AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
          ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
        [database],
      )) as {
        t: string;
        name: string;
        type: string;
        col: string;
        rs: string | null;
        rt: string | null;
        rc: string | null;
      }[];
      await yieldToLoop();
      const stats = (await MysqlDriver.run(
        connection,
        `SELECT TABLE_NAME AS t, INDEX_NAME AS name, NON_UNIQUE AS nonunique, COLUMN_NAME AS col
           FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
        [database],
      )) as { t: string; name: string; nonunique: number | string; col: string | null }[];

      const kinds: Record<string, ConstraintKind> = {
        'PRIMARY KEY': 'primary_key',
        UNIQUE: 'unique',
        'FOREIGN KEY': 'foreign_key',
      };
      const constraints = groupConstraints(
        keys.map((row) => ({
          schema: database,
          table: row.t,
          name: row.name,
          kind: kinds[row.type] ?? 'unique',
          column: row.col,
          refSchema: row.rs,
          refTable: row.rt,
          refColumn: row.rc,
        })),
      );
      const indexes = groupIndexes(
        stats.map((row) => ({
          schema: database,
          table: row.t,
          name: row.name,
          unique: Number(row.nonunique) === 0,
          primary: row.name === 'PRIMARY',
          column: row.col ?? '(expression)',
        })),
      );
      return {
        schemas: [database],
        tables: tables.map((row) => ({
          schema: database,
          name: row.name,
          kind: /VIEW/.test(row.type) ? 'view' : 'table',
          rowEstimate: row.estimate === null || /VIEW/.test(row.type) ? null : Number(row.estimate),
          comment: row.comment === null || row.comment === '' || row.comment === 'VIEW' ? null : row.comment,
        })),
        columns: columns.map((row) => ({
          schema: database,
          table: row.t,
          name: row.name,
          ordinal: Number(row.ordinal),
          type: row.type,
          nullable: row.nullable === 'YES',
          default: row.dflt,
        })),
        constraints,
        indexes,
      };
    });
  }

  /**
   * One guarded statement, its rows taken as they arrive. At the row or byte limit the connection
   * is paused and the statement killed on the server; the connection then drains, rolls back and
   * resets as after any call.
   */
  async execute(request: ExecuteRequest): Promise<QueryResult> {
    checkSql(request.sql, { dialect: 'mysql', access: request.access, lex: this.lex });
    return this.transaction(
      request.database,
      request.access === 'read_only',
      request.signal,
      async (connection, lex, discard) => {
        // The session's sql_mode decides where strings end: check again with it.
        checkSql(request.sql, { dialect: 'mysql', access: request.access, lex });
        return new Promise<QueryResult>((resolve, reject) => {
          const options = { sql: request.sql, rowsAsArray: true };
          const query =
            request.params.length > 0
              ? connection.execute({ ...options, values: [...request.params] })
              : connection.query(options);
          let collector: RowCollector | undefined;
          let columns: QueryResult['columns'] = [];
          let affected: number | null = null;
          let stopped = false;
          let killed: Promise<void> = Promise.resolve();
          const stop = () => {
            if (stopped) return;
            stopped = true;
            discard();
            connection.pause();
            killed = this.kill(connection.threadId).finally(() => connection.resume());
          };
          // mysql2 announces fields (undefined) for statements without a result set too.
          query.on('fields', (fields: mysql.FieldPacket[] | undefined) => {
            if (!fields) return;
            const keys = uniqueNames(fields.map((field) => field.name));
            columns = fields.map((field, index) => ({
              name: keys[index] ?? field.name,
              type: TYPE_NAMES.get(field.type ?? field.columnType ?? -1) ?? `type ${field.type ?? '?'}`,
            }));
            collector = new RowCollector(keys, request.maxRows, request.maxBytes);
          });
          query.on('result', (row: unknown) => {
            if (!collector) {
              const header = row as { affectedRows?: number };
              affected = typeof header.affectedRows === 'number' ? header.affectedRows : null;
              return;
            }
            if (!stopped && !collector.add(row as unknown[])) stop();
          });
          const finish = () => {
            const done = collector ?? new RowCollector([], request.maxRows, request.maxBytes);
            // The connection is destroyed after a KILL; wait for it so that the kill never meets a later statement.
            void killed.then(() =>
              resolve({
                columns,
                rows: done.rows,
                row_count: done.rows.length,
                truncated: done.full,
                truncated_by: done.truncatedBy,
                affected_rows: collector ? null : affected,
              }),
            );
          };
          query.on('error', (error: Error & { errno?: unknown }) => {
            if (stopped && error.errno === 1317) finish();
            else reject(error);
          });
          query.on('end', () => {
            if (request.params.length > 0) connection.unprepare(request.sql);
            finish();
          });
        });
      },
    );
  }

  /** EXPLAIN FORMAT=JSON: the statement is planned, never run, in a READ ONLY transaction rolled back. */
  async explain(request: Omit<ExecuteRequest, 'maxRows' | 'maxBytes'>): Promise<ExplainResult> {
    checkSql(request.sql, { dialect: 'mysql', access: request.access, purpose: 'explain', lex: this.lex });
    return this.transaction(request.database, true, request.signal, async (connection, lex) => {
      checkSql(request.sql, { dialect: 'mysql', access: request.access, purpose: 'explain', lex });
      const sql = `EXPLAIN FORMAT=JSON ${request.sql}`;
      const rows = (await MysqlDriver.run(connection, sql, request.params)) as Record<string, unknown>[];
      if (request.params.length > 0) connection.unprepare(sql);
      const raw = rows[0] ? Object.values(rows[0])[0] : null;
      return { format: 'json', plan: typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw };
    });
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.transaction(this.server.default_database ?? '', true, signal, async (connection) => {
      await MysqlDriver.run(connection, 'SELECT 1');
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map((pending) =>
        pending.then(
          (pool) => new Promise<void>((resolve) => pool.end(() => resolve())),
          () => undefined,
        ),
      ),
    );
  }
}
