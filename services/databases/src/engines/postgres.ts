import pg from 'pg';
import Cursor from 'pg-cursor';

import type { CatalogSnapshot, ConstraintKind, TableKind } from '../catalog.js';
import { yieldToLoop } from '../catalog.js';
import { DatabasesError } from '../errors.js';
import { checkSql } from '../sql/guard.js';
import { type DriverOptions, type EngineDriver, networkCode, ServerUnavailableError, withAbort } from './engine.js';
import { type ExecuteRequest, type ExplainResult, type QueryResult, RowCollector, uniqueNames } from './results.js';

/** Types returned as PostgreSQL's own text: JS Dates lose time zones and precision. */
const TEXT_TYPES = new Set([1082, 1083, 1114, 1184, 1186, 1266, 1182, 1183, 1115, 1185, 1187, 1270]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && TEXT_TYPES.has(oid)) return (value: string) => value;
    // @types/pg types this through pg-types, which it cannot always resolve (any): pin it down.
    const parse = pg.types.getTypeParser(oid, format ?? 'text') as unknown as (value: string) => unknown;
    return parse;
  }) as typeof pg.types.getTypeParser,
};

const BATCH = 200;

function translate(error: unknown, server: string, timeoutMs: number, aborted: boolean): DatabasesError {
  if (error instanceof DatabasesError) return error;
  const code = (error as { code?: unknown }).code;
  const message = (error as { message?: unknown }).message;
  const text = typeof message === 'string' ? message : 'unknown error';
  if (aborted) return new DatabasesError('CANCELLED', `The statement on ${server} was cancelled.`, { cause: error });
  if (code === '57014') {
    return new DatabasesError(
      'TIMEOUT',
      `The statement ran longer than ${timeoutMs} ms on ${server} and was cancelled by the server.`,
      {
        cause: error,
      },
    );
  }
  if (typeof code === 'string' && /^(28|08|53|57P)/.test(code)) {
    return new ServerUnavailableError(`${server} refused the connection (SQLSTATE ${code}).`, { cause: error });
  }
  const network = networkCode(error);
  if (network) return new ServerUnavailableError(`Cannot reach ${server} (${network}).`, { cause: error });
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const kind =
      code === '25006' || code === '42501'
        ? 'FORBIDDEN'
        : /^(42|22|21|23|2B|0A)/.test(code)
          ? 'INVALID_INPUT'
          : 'UPSTREAM_FAILED';
    return new DatabasesError(kind, `${server}: ${text} (SQLSTATE ${code})`, { cause: error });
  }
  return new DatabasesError('UPSTREAM_FAILED', `${server}: the query failed.`, { cause: error });
}

export class PostgresDriver implements EngineDriver {
  readonly engine = 'postgres' as const;
  private readonly pools = new Map<string, pg.Pool>();
  private readonly typeNames = new Map<number, string>();
  private closed = false;

  constructor(private readonly options: DriverOptions) {}

  private get server() {
    return this.options.server;
  }

  private clientConfig(database: string): pg.ClientConfig {
    const { server } = this;
    return {
      host: server.host,
      port: server.port,
      user: server.user,
      password: this.options.password,
      database,
      ssl: server.tls === 'off' ? false : { rejectUnauthorized: server.tls === 'verify' },
      connectionTimeoutMillis: server.connect_timeout_ms,
      // The server's statement_timeout stops statements; this ends a call whose server stopped answering.
      query_timeout: server.statement_timeout_ms + 3000,
      application_name: this.options.applicationName,
      keepAlive: true,
    };
  }

  private pool(database: string): pg.Pool {
    if (this.closed) throw new ServerUnavailableError('The service is shutting down.');
    let pool = this.pools.get(database);
    if (!pool) {
      pool = new pg.Pool({ ...this.clientConfig(database), max: this.server.pool_max, idleTimeoutMillis: 30_000 });
      pool.on('error', (error) => this.options.onWarning?.(`idle connection to ${this.server.name} failed`, error));
      this.pools.set(database, pool);
    }
    return pool;
  }

  /**
   * One transaction on one pooled connection: BEGIN [READ ONLY] with a local statement timeout,
   * `work`, then ROLLBACK (read-only, or when asked) or COMMIT, then DISCARD ALL so that nothing a
   * statement left in the session (settings, prepared statements, temporary tables, advisory locks)
   * reaches the next call. A connection that fails any of that is destroyed instead.
   */
  private async transaction<T>(
    database: string,
    readOnly: boolean,
    signal: AbortSignal | undefined,
    work: (client: pg.PoolClient) => Promise<T>,
    rollback = readOnly,
  ): Promise<T> {
    const timeoutMs = this.server.statement_timeout_ms;
    let aborted = false;
    let client: pg.PoolClient;
    try {
      client = await this.pool(database).connect();
    } catch (error) {
      throw translate(error, this.server.name, timeoutMs, false);
    }
    let destroy = false;
    try {
      return await withAbort(
        signal,
        () => {
          aborted = true;
          void this.cancel(database, client);
        },
        async () => {
          await client.query(
            `${readOnly ? 'BEGIN READ ONLY' : 'BEGIN'}; SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}; SET LOCAL standard_conforming_strings = on`,
          );
          const value = await work(client);
          await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
          await client.query('DISCARD ALL');
          return value;
        },
      );
    } catch (error) {
      destroy = await client
        .query('ROLLBACK')
        .then(() => client.query('DISCARD ALL').then(() => false))
        .catch(() => true);
      throw translate(error, this.server.name, timeoutMs, aborted);
    } finally {
      client.release(destroy);
    }
  }

  /** pg_cancel_backend from a short-lived second connection: the statement stops on the server. */
  private async cancel(database: string, client: pg.PoolClient): Promise<void> {
    const pid = (client as unknown as { processID?: unknown }).processID;
    if (typeof pid !== 'number') return;
    const canceller = new pg.Client(this.clientConfig(database));
    canceller.on('error', () => undefined);
    try {
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch (error) {
      this.options.onWarning?.(`could not cancel a statement on ${this.server.name}`, error as Error);
    } finally {
      await canceller.end().catch(() => undefined);
    }
  }

  async listDatabases(signal?: AbortSignal): Promise<string[]> {
    const database = this.server.default_database ?? 'postgres';
    return this.transaction(database, true, signal, async (client) => {
      const { rows } = await client.query<{ name: string }>(
        `SELECT datname AS name FROM pg_database
          WHERE NOT datistemplate AND datallowconn AND has_database_privilege(datname, 'CONNECT')
          ORDER BY datname`,
      );
      return rows.map((row) => row.name);
    });
  }

  async readCatalog(database: string, signal?: AbortSignal): Promise<CatalogSnapshot> {
    return this.transaction(database, true, signal, async (client) => {
      const hidden = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'`;
      const schemas = await client.query<{ name: string }>(
        `SELECT n.nspname AS name FROM pg_namespace n WHERE ${hidden} AND has_schema_privilege(n.oid, 'USAGE') ORDER BY 1`,
      );
      await yieldToLoop();
      const tables = await client.query<{
        schema: string;
        name: string;
        relkind: string;
        estimate: number | null;
        comment: string | null;
      }>(
        `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
                CASE WHEN c.relkind IN ('r', 'p', 'm') AND c.reltuples >= 0 THEN c.reltuples::float8 END AS estimate,
                obj_description(c.oid, 'pg_class') AS comment
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND ${hidden}
          ORDER BY 1, 2`,
      );
      await yieldToLoop();
      const columns = await client.query<{
        schema: string;
        table: string;
        name: string;
        ordinal: number;
        type: string;
        nullable: boolean;
        default: string | null;
      }>(
        `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, a.attnum::int AS ordinal,
                format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
                pg_get_expr(d.adbin, d.adrelid) AS default
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped AND ${hidden}
          ORDER BY 1, 2, 4`,
      );
      await yieldToLoop();
      const names = (relation: string, keys: string) =>
        `ARRAY(SELECT a.attname::text FROM unnest(${keys}) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = ${relation} AND a.attnum = k.attnum ORDER BY k.ord)`;
      const constraints = await client.query<{
        schema: string;
        table: string;
        name: string;
        contype: string;
        columns: string[];
        ref_schema: string | null;
        ref_table: string | null;
        ref_columns: string[];
      }>(
        `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.contype::text AS contype,
                ${names('con.conrelid', 'con.conkey')} AS columns,
                fn.nspname AS ref_schema, fc.relname AS ref_table,
                CASE WHEN con.contype = 'f' THEN ${names('con.confrelid', 'con.confkey')} ELSE '{}'::text[] END AS ref_columns
           FROM pg_constraint con
           JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
          WHERE con.contype IN ('p', 'f', 'u') AND ${hidden}
          ORDER BY 1, 2, 3`,
      );
      await yieldToLoop();
      const indexes = await client.query<{
        schema: string;
        table: string;
        name: string;
        unique: boolean;
        primary: boolean;
        columns: string[];
      }>(
        `SELECT n.nspname AS schema, c.relname AS table, ic.relname AS name, i.indisunique AS unique, i.indisprimary AS primary,
                ARRAY(SELECT coalesce(a.attname::text, '(expression)') FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                        LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE ${hidden}
          ORDER BY 1, 2, 3`,
      );
      const kinds: Record<string, TableKind> = {
        r: 'table',
        p: 'partitioned_table',
        v: 'view',
        m: 'materialized_view',
        f: 'foreign_table',
      };
      const constraintKinds: Record<string, ConstraintKind> = { p: 'primary_key', f: 'foreign_key', u: 'unique' };
      return {
        schemas: schemas.rows.map((row) => row.name),
        tables: tables.rows.map((row) => ({
          schema: row.schema,
          name: row.name,
          kind: kinds[row.relkind] ?? 'table',
          rowEstimate: row.estimate,
          comment: row.comment,
        })),
        columns: columns.rows.map((row) => ({ ...row })),
        constraints: constraints.rows.map((row) => ({
          schema: row.schema,
          table: row.table,
          name: row.name,
          kind: constraintKinds[row.contype] ?? 'unique',
          columns: row.columns,
          refSchema: row.ref_schema,
          refTable: row.ref_table,
          refColumns: row.ref_columns,
        })),
        indexes: indexes.rows.map((row) => ({ ...row })),
      };
    });
  }

  private async typeNamesFor(client: pg.PoolClient, oids: number[]): Promise<Map<number, string>> {
    const missing = [...new Set(oids)].filter((oid) => !this.typeNames.has(oid));
    if (missing.length > 0) {
      const { rows } = await client.query<{ oid: number; name: string }>(
        'SELECT oid::int AS oid, format_type(oid, NULL) AS name FROM pg_type WHERE oid = ANY($1::oid[])',
        [missing],
      );
      for (const row of rows) this.typeNames.set(row.oid, row.name);
    }
    return this.typeNames;
  }

  /**
   * One guarded statement through a cursor (the extended protocol: one statement, bound
   * parameters), read BATCH rows at a time until the row or byte limit; the cursor is then closed
   * and the rest never leaves the server.
   */
  async execute(request: ExecuteRequest): Promise<QueryResult> {
    checkSql(request.sql, { dialect: 'postgres', access: request.access });
    const readOnly = request.access === 'read_only';
    return this.transaction(request.database, readOnly, request.signal, async (client) => {
      const cursor = client.query(new Cursor(request.sql, [...request.params], { rowMode: 'array', types }));
      const read = (count: number) =>
        new Promise<{ rows: unknown[][]; result: pg.QueryResult }>((resolve, reject) => {
          cursor.read(count, (error, rows, result) =>
            error ? reject(error) : resolve({ rows: rows as unknown as unknown[][], result }),
          );
        });
      let collector: RowCollector | undefined;
      let fields: pg.FieldDef[] = [];
      let result: pg.QueryResult | undefined;
      try {
        for (;;) {
          const batch = await read(BATCH);
          result = batch.result;
          if (!collector) {
            fields = batch.result.fields ?? [];
            collector = new RowCollector(
              uniqueNames(fields.map((field) => field.name)),
              request.maxRows,
              request.maxBytes,
            );
          }
          for (const row of batch.rows) if (!collector.add(row)) break;
          if (collector.full || batch.rows.length < BATCH) break;
          await yieldToLoop();
        }
      } finally {
        await new Promise<void>((resolve) => cursor.close(() => resolve()));
      }
      const names = await this.typeNamesFor(
        client,
        fields.map((field) => field.dataTypeID),
      );
      const keys = uniqueNames(fields.map((field) => field.name));
      const done = collector;
      const command = result?.command ?? '';
      return {
        columns: fields.map((field, index) => ({
          name: keys[index] ?? field.name,
          type: names.get(field.dataTypeID) ?? `oid ${field.dataTypeID}`,
        })),
        rows: done.rows,
        row_count: done.rows.length,
        truncated: done.full,
        truncated_by: done.truncatedBy,
        affected_rows:
          !done.full && ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(command) ? (result?.rowCount ?? null) : null,
      };
    });
  }

  /** EXPLAIN (FORMAT JSON), never ANALYZE: planned in a READ ONLY transaction, rolled back. */
  async explain(request: Omit<ExecuteRequest, 'maxRows' | 'maxBytes'>): Promise<ExplainResult> {
    checkSql(request.sql, { dialect: 'postgres', access: request.access, purpose: 'explain' });
    return this.transaction(request.database, true, request.signal, async (client) => {
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>({
        text: `EXPLAIN (FORMAT JSON) ${request.sql}`,
        values: [...request.params],
      });
      const raw = rows[0]?.['QUERY PLAN'];
      const plan: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
      return { format: 'json', plan: Array.isArray(plan) ? (plan as unknown[])[0] : plan };
    });
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.transaction(this.server.default_database ?? 'postgres', true, signal, async (client) => {
      await client.query('SELECT 1');
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  }
}
