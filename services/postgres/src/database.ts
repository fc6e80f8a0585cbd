import type { ClientConfig, Connection, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import pg from 'pg';

import { DatabaseError } from './errors.js';
import { redact, safeCause, secretsOf, translatePgError } from './pg-errors.js';
import type { AccessMode } from './sql-guard.js';
import { checkStatement } from './sql-guard.js';

export interface DatabaseOptions {
  connectionString: string;
  accessMode: AccessMode;
  statementTimeoutMs: number;
  /** Upper bound for rows returned by one call; a call may ask for fewer. */
  maxRows: number;
  poolMax: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
  /** Receives redacted driver problems that no call is waiting for (idle connection errors, failed cancels). */
  onWarning?: (message: string, error: Error) => void;
}

/** Runs one internal query inside the call's transaction and returns its rows. */
export interface Querier {
  query<R extends QueryResultRow = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<R[]>;
}

/** A bound parameter: JSON values; arrays become PostgreSQL arrays, objects become JSON text. */
export type SqlParam = string | number | boolean | null | readonly (string | number | boolean | null)[] | object;

export interface ColumnInfo {
  name: string;
  /** PostgreSQL type name, e.g. `integer`, `text`, `timestamp with time zone`. */
  type: string;
}

export interface ExecuteResult {
  /** The statement's command tag verb: SELECT, INSERT, UPDATE, DELETE, CREATE TABLE, ... */
  command: string;
  columns: ColumnInfo[];
  rows: Record<string, unknown>[];
  /** Rows returned in `rows`. */
  row_count: number;
  /** True when the statement produced more rows than the limit; the rest were never fetched. */
  truncated: boolean;
  /** Rows inserted, updated, deleted or merged (null for SELECT and when truncated). */
  affected_rows: number | null;
  /** The row limit that applied to this call. */
  row_limit: number;
}

export interface TransactionOptions {
  /** Runs in a READ ONLY transaction (always true for introspection, true in read_only mode). */
  readOnly: boolean;
  /** Rolls back even on success (explain_query: EXPLAIN ANALYZE of a write leaves nothing behind). */
  rollback?: boolean;
  signal?: AbortSignal;
}

/** Types returned as PostgreSQL's own text: JS Dates lose time zones and precision, intervals become objects. */
const TEXT_TYPES = new Set([
  17, // bytea (\x... hex)
  1082, // date
  1083, // time
  1114, // timestamp
  1184, // timestamptz
  1186, // interval
  1266, // timetz
  1001, // bytea[]
  1182, // date[]
  1183, // time[]
  1115, // timestamp[]
  1185, // timestamptz[]
  1187, // interval[]
  1270, // timetz[]
]);
const FLOAT_TYPES = new Set([700, 701]);

const identity = (value: string) => value;
/** float4/float8 as numbers, except NaN and ±Infinity, which JSON cannot carry: those stay text. */
const parseFloatSafe = (value: string) => {
  const number = Number.parseFloat(value);
  return Number.isFinite(number) ? number : value;
};

const resultTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (TEXT_TYPES.has(oid)) return identity;
      if (FLOAT_TYPES.has(oid)) return parseFloatSafe;
    }
    // @types/pg types this through pg-types, which it cannot always resolve (any): pin it down.
    const parse = pg.types.getTypeParser(oid, format ?? 'text') as unknown as (value: string) => unknown;
    return parse;
  }) as typeof pg.types.getTypeParser,
};

type ExtendedQueryConfig = QueryConfig<unknown[]> & {
  queryMode: 'extended';
  rows?: number;
  rowMode?: 'array';
};

/**
 * A query that fetches at most `rows` rows through a portal and then stops: the server keeps the rest,
 * so a `SELECT *` on a large table costs `rows` rows of memory, not the whole table. Always the
 * extended protocol (Parse/Bind/Execute), so the server itself refuses several statements in one text.
 */
class CappedQuery extends pg.Query {
  truncated = false;

  handlePortalSuspended(connection: Connection): void {
    // More rows exist: record it and end the exchange instead of fetching the next batch.
    this.truncated = true;
    connection.sync();
  }

  handleError(error: Error, connection: Connection): void {
    // With a row limit pg does not pipeline Sync; after a server error the backend waits for one.
    if ('severity' in error) connection.sync();
    (pg.Query.prototype as unknown as { handleError(e: Error, c: Connection): void }).handleError.call(
      this,
      error,
      connection,
    );
  }
}

/** Runs one statement through a CappedQuery; exported so that tests can show the protocol refuses stacking. */
export function runCapped(
  client: PoolClient,
  text: string,
  values: readonly unknown[],
  rowLimit: number,
): Promise<{ result: QueryResult<unknown[]>; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const config: ExtendedQueryConfig = {
      text,
      values: [...values],
      queryMode: 'extended',
      rows: rowLimit + 1 > 0 ? rowLimit + 1 : 1,
      rowMode: 'array',
      types: resultTypes,
    };
    const query = new CappedQuery(config, (error, result) => {
      if (error) reject(error);
      else resolve({ result: result as unknown as QueryResult<unknown[]>, truncated: query.truncated });
    });
    void client.query(query);
  });
}

const DML_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

export class PostgresDatabase {
  readonly accessMode: AccessMode;
  readonly statementTimeoutMs: number;
  readonly maxRows: number;
  private readonly pool: pg.Pool;
  private readonly clientConfig: ClientConfig;
  private readonly secrets: string[];
  private readonly typeNames = new Map<number, string>();
  private readonly onWarning: (message: string, error: Error) => void;
  private closed = false;

  constructor(options: DatabaseOptions) {
    this.accessMode = options.accessMode;
    this.statementTimeoutMs = options.statementTimeoutMs;
    this.maxRows = options.maxRows;
    this.secrets = secretsOf(options.connectionString);
    this.onWarning = options.onWarning ?? (() => undefined);
    this.clientConfig = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: options.applicationName,
      keepAlive: true,
    };
    this.pool = new pg.Pool({
      ...this.clientConfig,
      max: options.poolMax,
      idleTimeoutMillis: options.idleTimeoutMs,
    });
    // An idle connection that dies (server restart) emits here; without a listener the process would crash.
    this.pool.on('error', (error) => {
      this.onWarning('idle database connection failed', safeCause(error, this.secrets));
    });
  }

  /** Redacts the connection string and its password from a text. */
  redact(text: string): string {
    return redact(text, this.secrets);
  }

  translate(error: unknown, aborted = false): DatabaseError {
    return translatePgError(error, {
      accessMode: this.accessMode,
      statementTimeoutMs: this.statementTimeoutMs,
      aborted,
      secrets: this.secrets,
    });
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /**
   * Runs `work` in its own transaction on one pooled connection: BEGIN [READ ONLY], a local
   * statement_timeout, COMMIT (or ROLLBACK on failure or when asked). The connection goes back to the
   * pool clean; one whose ROLLBACK fails is destroyed instead.
   */
  async transaction<T>(options: TransactionOptions, work: (client: PoolClient, q: Querier) => Promise<T>): Promise<T> {
    if (this.closed)
      throw new DatabaseError('UNAVAILABLE', 'The database pool is closed (the service is shutting down).');
    const { signal } = options;
    if (signal?.aborted) throw new DatabaseError('CANCELLED', 'The call was cancelled before it reached the database.');

    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }

    let aborted = false;
    const onAbort = () => {
      aborted = true;
      void this.cancelBackend(client);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const q: Querier = {
      query: async <R extends QueryResultRow>(text: string, values: readonly unknown[] = []) => {
        const config: ExtendedQueryConfig = { text, values: [...values], queryMode: 'extended' };
        const result = await client.query<R>(config);
        return result.rows;
      },
    };

    let destroy = false;
    try {
      // One round trip; the integer is validated config, not input. standard_conforming_strings is
      // forced so that the SQL guard and the server agree on where string literals end.
      await client.query(
        `${options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN'}; SET LOCAL statement_timeout = ${Math.trunc(this.statementTimeoutMs)}; SET LOCAL standard_conforming_strings = on`,
      );
      const value = await work(client, q);
      await client.query(options.rollback ? 'ROLLBACK' : 'COMMIT');
      return value;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        destroy = true;
      }
      throw this.translate(error, aborted);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      client.release(destroy);
    }
  }

  /** Asks the server to cancel the statement running on `client` (a separate, short-lived connection). */
  private async cancelBackend(client: PoolClient): Promise<void> {
    const pid = (client as unknown as { processID?: unknown }).processID;
    if (typeof pid !== 'number' || pid <= 0) return;
    const canceller = new pg.Client(this.clientConfig);
    canceller.on('error', () => undefined);
    try {
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch (error) {
      this.onWarning('could not cancel a running statement', safeCause(error, this.secrets));
    } finally {
      await canceller.end().catch(() => undefined);
    }
  }

  /** Names of the result's column types, cached per process (type OIDs are stable). */
  private async typeNamesFor(q: Querier, oids: number[]): Promise<Map<number, string>> {
    const missing = [...new Set(oids)].filter((oid) => !this.typeNames.has(oid));
    if (missing.length > 0) {
      const rows = await q.query<{ oid: number; name: string }>(
        'SELECT oid::int AS oid, format_type(oid, NULL) AS name FROM pg_type WHERE oid = ANY($1::oid[])',
        [missing],
      );
      for (const row of rows) this.typeNames.set(row.oid, row.name);
    }
    return this.typeNames;
  }

  /**
   * Runs one user statement: guarded (sql-guard.ts), in a READ ONLY transaction in read_only mode,
   * through the extended protocol with bound parameters, fetching at most `rowLimit` rows.
   */
  async execute(
    sql: string,
    params: readonly SqlParam[],
    rowLimit: number,
    signal?: AbortSignal,
  ): Promise<ExecuteResult> {
    const checked = checkStatement(sql, this.accessMode, 'execute');
    const limit = Math.max(1, Math.min(rowLimit, this.maxRows));
    return this.transaction({ readOnly: this.accessMode === 'read_only', signal }, async (client, q) => {
      const { result, truncated } = await runCapped(client, sql, params, limit);
      const fields = result.fields ?? [];
      const types = await this.typeNamesFor(
        q,
        fields.map((field) => field.dataTypeID),
      );
      const seen = new Map<string, number>();
      const keys = fields.map((field) => {
        const count = (seen.get(field.name) ?? 0) + 1;
        seen.set(field.name, count);
        return count === 1 ? field.name : `${field.name}_${count}`;
      });
      const allRows = result.rows ?? [];
      const rows = allRows.slice(0, limit).map((values) => {
        const row: Record<string, unknown> = {};
        keys.forEach((key, index) => {
          row[key] = values[index] ?? null;
        });
        return row;
      });
      const command = result.command || checked.verb.toUpperCase();
      return {
        command,
        columns: fields.map((field, index) => ({
          name: keys[index] ?? field.name,
          type: types.get(field.dataTypeID) ?? `oid ${field.dataTypeID}`,
        })),
        rows,
        row_count: rows.length,
        truncated: truncated || allRows.length > limit,
        affected_rows: !truncated && DML_COMMANDS.has(command) ? (result.rowCount ?? null) : null,
        row_limit: limit,
      };
    });
  }

  /**
   * EXPLAIN (FORMAT JSON) of one statement; with `analyze`, the statement really runs (EXPLAIN ANALYZE,
   * BUFFERS), always inside a transaction that is rolled back. In read_only mode that transaction is
   * READ ONLY, so analysing a write is refused by the server.
   */
  async explain(
    sql: string,
    params: readonly SqlParam[],
    analyze: boolean,
    signal?: AbortSignal,
  ): Promise<{ plan: unknown; analyzed: boolean }> {
    checkStatement(sql, this.accessMode, 'explain');
    const options = analyze ? 'FORMAT JSON, ANALYZE, BUFFERS' : 'FORMAT JSON';
    const readOnly = this.accessMode === 'read_only' || !analyze;
    return this.transaction({ readOnly, rollback: true, signal }, async (_client, q) => {
      const rows = await q.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (${options}) ${sql}`, params);
      const raw = rows[0]?.['QUERY PLAN'];
      const plan: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
      // EXPLAIN (FORMAT JSON) answers a one-element array.
      return { plan: Array.isArray(plan) ? (plan as unknown[])[0] : plan, analyzed: analyze };
    });
  }

  /** Runs read-only internal queries (introspection, statistics) in a READ ONLY transaction. */
  read<T>(work: (q: Querier) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.transaction({ readOnly: true, signal }, (_client, q) => work(q));
  }

  /** `SELECT 1` within `timeoutMs`, for /health. Throws a DatabaseError with a safe message. */
  async ping(
    timeoutMs: number,
  ): Promise<{ latency_ms: number; pool: { total: number; idle: number; waiting: number } }> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new DatabaseError('UNAVAILABLE', `The database did not answer SELECT 1 within ${timeoutMs} ms.`)),
        timeoutMs,
      );
    });
    const query = this.pool.query('SELECT 1');
    // When the deadline wins, the query may still fail later: that must not become an unhandled rejection.
    query.catch(() => undefined);
    try {
      await Promise.race([query, deadline]);
    } catch (error) {
      throw this.translate(error);
    } finally {
      clearTimeout(timer);
    }
    return { latency_ms: Math.round((performance.now() - started) * 10) / 10, pool: this.poolStats() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
