import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

import type { ClientConfig, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import pg from 'pg';

import { CallExchange, type ExchangeResult, type ExchangeStep } from './call-exchange.js';
import { DatabaseError } from './errors.js';
import { redact, safeCause, secretsOf, translatePgError } from './pg-errors.js';
import { type AccessMode, SHADOW_CHECK_SQL, shadowRefusal } from './sql-guard.js';
import { StatementGuard } from './statement-guard.js';

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
  /** MCP_MAX_RESULT_BYTES: the most one answer may weigh; rows past it are not kept, and reading stops soon after. */
  maxResultBytes: number;
  /** POSTGRES_ALLOWED_FUNCTIONS: functions read_only mode may call besides the safe built-ins. */
  allowedFunctions?: readonly string[];
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
  /** True when the statement produced more rows than the call returns; the rest were not kept. */
  truncated: boolean;
  /** Why: `row_limit` (max_rows / POSTGRES_MAX_ROWS) or `byte_limit` (MCP_MAX_RESULT_BYTES); null when complete. */
  truncated_reason: 'row_limit' | 'byte_limit' | null;
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
  /** Resets the connection afterwards (DISCARD ALL): the work ran something that may set session state. */
  reset?: boolean;
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

const DML_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

/**
 * A pg.Client that meters what it reads and remembers one server setting. The meter sits on the
 * socket, ahead of pg's parser: past `cap` bytes since `resetMeter()` it cuts the connection, so that
 * no answer (not even one huge value) is buffered whole. `standardConformingStrings` follows the
 * server's ParameterStatus reports, which PostgreSQL sends at start-up and on every change.
 */
class MeteredClient extends pg.Client {
  received = 0;
  cap = Number.POSITIVE_INFINITY;
  overflowed = false;
  standardConformingStrings: string | undefined;
  /**
   * default_transaction_read_only as the server reports it (PostgreSQL 14 and later report it at
   * start-up and on every change; older servers and some poolers never do: then it stays undefined).
   */
  defaultReadOnly: string | undefined;
  /** The transaction status of the last ReadyForQuery: I (idle), T (in a transaction block), E (failed block). */
  transactionStatus: string | undefined;
  /**
   * The server ended this session (pg_terminate_backend, a shutdown, an idle timeout: an error that
   * ends the session) or the connection closed. Set as the message is read, before the call's query
   * fails with it, so the lease destroys the connection instead of handing it back to the pool, where
   * the next checkout (a /health ping) could get it before pg sees the socket close.
   */
  lost = false;
  private metered: Socket | undefined;

  constructor(config?: ClientConfig) {
    super(config);
    const connection = (this as unknown as { connection: EventEmitter & { stream: Socket } }).connection;
    connection.on('parameterStatus', (message: { parameterName: string; parameterValue: string }) => {
      if (message.parameterName === 'standard_conforming_strings') {
        this.standardConformingStrings = message.parameterValue;
      } else if (message.parameterName === 'default_transaction_read_only') {
        this.defaultReadOnly = message.parameterValue;
      }
    });
    connection.on('readyForQuery', (message: { status: string }) => {
      this.transactionStatus = message.status;
    });
    connection.on('errorMessage', (message: { severity?: string; code?: string }) => {
      if (endsSession(message)) this.lost = true;
    });
    connection.on('end', () => {
      this.lost = true;
    });
    this.meter();
  }

  /**
   * Puts the meter on the connection's current stream: the socket at first, the TLS stream that
   * replaces it once sslmode negotiated TLS (called again after connecting).
   */
  meter(): void {
    const { stream } = (this as unknown as { connection: { stream: Socket } }).connection;
    if (stream === this.metered) return;
    this.metered = stream;
    stream.prependListener('data', (chunk: Buffer) => {
      if (stream !== this.metered) return;
      this.received += chunk.length;
      if (this.received > this.cap && !this.overflowed) {
        this.overflowed = true;
        stream.destroy();
      }
    });
  }

  resetMeter(cap: number): void {
    this.received = 0;
    this.cap = cap;
  }

  /** Lowers or raises the cap for the rest of this call; cuts at once when already past it. */
  capAt(cap: number): void {
    this.cap = cap;
    if (this.received > cap && !this.overflowed) {
      this.overflowed = true;
      this.metered?.destroy();
    }
  }
}

/** SQLSTATEs of errors after which the server closes the session (besides any FATAL or PANIC one). */
const SESSION_ENDING_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '25P03']);

/** Whether an ErrorResponse ends the session: FATAL or PANIC, a connection exception (08), a shutdown or timeout. */
function endsSession(message: { severity?: string; code?: string }): boolean {
  const code = message.code ?? '';
  return (
    message.severity === 'FATAL' ||
    message.severity === 'PANIC' ||
    code.startsWith('08') ||
    SESSION_ENDING_SQLSTATES.has(code)
  );
}

/** Reading past the byte budget by this much more means the rest is not worth draining: the connection is cut. */
const DRAIN_SLACK_BYTES = 1024 * 1024;

/** Why a connection must not go back to the pool as it is. */
type Dirty = 'clean' | 'reset' | 'destroy';

/** One checked-out connection (metered) and what must happen to it on release. */
interface Lease {
  client: PoolClient & MeteredClient;
  aborted(): boolean;
  state: Dirty;
}

export class PostgresDatabase {
  readonly accessMode: AccessMode;
  readonly statementTimeoutMs: number;
  readonly maxRows: number;
  /** MCP_MAX_RESULT_BYTES: the most one answer may weigh. */
  readonly maxResultBytes: number;
  private readonly pool: pg.Pool;
  private readonly clientConfig: ClientConfig;
  private readonly secrets: string[];
  private readonly typeNames = new Map<number, string>();
  private readonly onWarning: (message: string, error: Error) => void;
  private readonly guard: StatementGuard;
  private readonly allowedFunctions: string[];
  private closed = false;

  constructor(options: DatabaseOptions) {
    this.accessMode = options.accessMode;
    this.statementTimeoutMs = options.statementTimeoutMs;
    this.maxRows = options.maxRows;
    this.maxResultBytes = options.maxResultBytes;
    this.secrets = secretsOf(options.connectionString);
    this.onWarning = options.onWarning ?? (() => undefined);
    this.allowedFunctions = [...(options.allowedFunctions ?? [])];
    this.guard = new StatementGuard(options.accessMode, new Set(this.allowedFunctions));
    this.clientConfig = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: options.applicationName,
      keepAlive: true,
    };
    this.pool = new pg.Pool({
      ...this.clientConfig,
      // read_only: every connection starts read-only, with the statement timeout, so that an
      // execute_sql call can run as one implicit transaction that the server itself starts READ ONLY
      // (see readOnlyByDefault). A connection string with its own `options` overrides this; calls on
      // it then take the BEGIN READ ONLY path.
      ...(this.accessMode === 'read_only' && {
        options: `-c default_transaction_read_only=on -c statement_timeout=${Math.trunc(this.statementTimeoutMs)}`,
      }),
      max: options.poolMax,
      idleTimeoutMillis: options.idleTimeoutMs,
      Client: MeteredClient as unknown as new () => pg.ClientBase,
    });
    // An idle connection that dies (server restart) emits here; without a listener the process would crash.
    this.pool.on('error', (error) => {
      this.onWarning('idle database connection failed', safeCause(error, this.secrets));
    });
    // A connection that dies while checked out emits 'error' on its client, where pg.Pool listens only
    // while it is idle: every client gets its own listener for life, so a lost connection fails the
    // call that used it (through the query's callback) and never the process.
    this.pool.on('connect', (client) => {
      (client as unknown as MeteredClient).meter();
      client.on('error', (error) => {
        this.onWarning('database connection lost', safeCause(error, this.secrets));
      });
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

  /** The hard cap on bytes read for one call: twice the answer's budget plus a margin (rows weigh more as JSON). */
  private defaultCap(): number {
    return 2 * this.maxResultBytes + DRAIN_SLACK_BYTES;
  }

  /**
   * Checks out a connection for one call and gives it back in a known state: an abort cancels the
   * running statement on the server; the connection is metered (cut past the byte cap, so that one
   * answer cannot fill the process's memory); on release it is reset (DISCARD ALL) when the call may
   * have left session state behind, and destroyed when it failed, was cut, or could not be reset.
   */
  private async lease<T>(signal: AbortSignal | undefined, work: (lease: Lease) => Promise<T>): Promise<T> {
    if (this.closed)
      throw new DatabaseError('UNAVAILABLE', 'The database pool is closed (the service is shutting down).');
    if (signal?.aborted) throw new DatabaseError('CANCELLED', 'The call was cancelled before it reached the database.');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    const metered = client as PoolClient & MeteredClient;
    metered.resetMeter(this.defaultCap());
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      void this.cancelBackend(client);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const lease: Lease = { client: metered, aborted: () => aborted, state: 'clean' };
    try {
      return await work(lease);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      metered.resetMeter(Number.POSITIVE_INFINITY);
      // A connection still inside a transaction block (a BEGIN that got through) never goes back.
      let destroy =
        lease.state === 'destroy' ||
        metered.overflowed ||
        metered.lost ||
        (metered.transactionStatus !== undefined && metered.transactionStatus !== 'I');
      if (!destroy && lease.state === 'reset') {
        try {
          // Settings, advisory locks, prepared statements, cursors, temporary objects, listeners.
          await client.query('DISCARD ALL');
        } catch {
          destroy = true;
        }
      }
      client.release(destroy);
    }
  }

  /** After a failed call: end the transaction, or give up the connection when even that fails. */
  private async rollback(lease: Lease): Promise<void> {
    if (lease.client.overflowed) return;
    try {
      await lease.client.query('ROLLBACK');
    } catch {
      lease.state = 'destroy';
    }
  }

  /**
   * Runs `work` in its own transaction on one pooled connection: BEGIN [READ ONLY], a local
   * statement_timeout, COMMIT (or ROLLBACK on failure or when asked). Used for the catalog and
   * statistics tools and explain_query, whose statements are the service's own.
   */
  async transaction<T>(options: TransactionOptions, work: (client: PoolClient, q: Querier) => Promise<T>): Promise<T> {
    return this.lease(options.signal, async (lease) => {
      const { client } = lease;
      if (options.reset) lease.state = 'reset';
      const q: Querier = {
        query: async <R extends QueryResultRow>(text: string, values: readonly unknown[] = []) => {
          const config = { text, values: [...values], queryMode: 'extended' } as QueryConfig<unknown[]>;
          const result = await client.query<R>(config);
          return result.rows;
        },
      };
      try {
        // One round trip; the integer is validated config, not input. standard_conforming_strings is
        // forced so that the server reads string literals the way the statement guard's parser did.
        await client.query(
          `${options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN'}; SET LOCAL statement_timeout = ${Math.trunc(this.statementTimeoutMs)}; SET LOCAL standard_conforming_strings = on`,
        );
        const value = await work(client, q);
        await client.query(options.rollback ? 'ROLLBACK' : 'COMMIT');
        return value;
      } catch (error) {
        await this.rollback(lease);
        if (lease.client.overflowed) throw this.tooLarge();
        throw this.translate(error, lease.aborted());
      }
    });
  }

  private tooLarge(): DatabaseError {
    return new DatabaseError(
      'PAYLOAD_TOO_LARGE',
      `The database sent more than this call may read (${this.defaultCap()} bytes, from MCP_MAX_RESULT_BYTES=${this.maxResultBytes}); the call was stopped. Ask for less (fewer rows or columns, shorter values).`,
    );
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
  private async typeNamesFor(client: PoolClient, oids: number[]): Promise<Map<number, string>> {
    if (oids.every((oid) => this.typeNames.has(oid))) return this.typeNames;
    const missing = [...new Set(oids)].filter((oid) => !this.typeNames.has(oid));
    if (missing.length > 0) {
      const { rows } = await client.query<{ oid: number; name: string }>(
        'SELECT oid::int AS oid, pg_catalog.format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])',
        [missing],
      );
      for (const row of rows) this.typeNames.set(row.oid, row.name);
    }
    return this.typeNames;
  }

  /**
   * Whether a read_only call may run on this connection as one implicit transaction, without BEGIN
   * READ ONLY, SET LOCAL and COMMIT: the server reported default_transaction_read_only=on (it does at
   * start-up and on every change, so a change by an earlier call is seen), the connection is idle
   * (not inside a transaction block), and string literals read as the guard read them. The implicit
   * transaction is then READ ONLY by the server's rule; a write in it fails with SQLSTATE 25006, and
   * transaction_read_only cannot be turned off once the statement has its snapshot. The statement
   * timeout comes from the connection's start-up options, which only a statement the guard refuses
   * in read_only mode could change, and DISCARD ALL after any statement that is not provably clean
   * puts back. Otherwise the call takes the BEGIN READ ONLY path.
   */
  private readOnlyByDefault(client: MeteredClient): boolean {
    return (
      client.defaultReadOnly === 'on' && client.transactionStatus === 'I' && client.standardConformingStrings === 'on'
    );
  }

  /** The statements every execute_sql call starts with, before the caller's. */
  private preamble(client: MeteredClient, readOnly: boolean, shadowable: string[]): ExchangeStep[] {
    if (readOnly && this.readOnlyByDefault(client)) {
      return shadowable.length > 0 ? [{ text: SHADOW_CHECK_SQL, values: [shadowable, this.allowedFunctions] }] : [];
    }
    const steps: ExchangeStep[] = [
      { text: readOnly ? 'BEGIN READ ONLY' : 'BEGIN' },
      // The integer is validated config, not input.
      { text: `SET LOCAL statement_timeout = ${Math.trunc(this.statementTimeoutMs)}` },
    ];
    // The server must read string literals the way the guard's parser did (standard_conforming_strings
    // on). The connection reports the setting whenever it changes; set it for the call when it is off.
    if (client.standardConformingStrings !== 'on') steps.push({ text: 'SET LOCAL standard_conforming_strings = on' });
    if (shadowable.length > 0) steps.push({ text: SHADOW_CHECK_SQL, values: [shadowable, this.allowedFunctions] });
    return steps;
  }

  /**
   * Runs one user statement: checked by the statement guard (sql-guard.ts), in a READ ONLY
   * transaction in read_only mode, through the extended protocol with bound parameters, reading at
   * most `rowLimit` rows and MCP_MAX_RESULT_BYTES of them.
   */
  async execute(
    sql: string,
    params: readonly SqlParam[],
    rowLimit: number,
    signal?: AbortSignal,
  ): Promise<ExecuteResult> {
    const analysis = await this.guard.check(sql, 'execute', signal);
    const limit = Math.max(1, Math.min(rowLimit, this.maxRows));
    const readOnly = this.accessMode === 'read_only';
    return this.lease(signal, async (lease) => {
      if (!analysis.sessionClean) lease.state = 'reset';
      const implicit = readOnly && this.readOnlyByDefault(lease.client);
      const before = this.preamble(lease.client, readOnly, analysis.shadowableFunctions);
      const exchange = new CallExchange({
        before,
        statement: { text: sql, values: params },
        end: implicit ? undefined : 'COMMIT',
        pipelineEnd: readOnly,
        rowLimit: limit,
        // The rest of the answer (command, counts, access mode) is a few hundred bytes.
        byteBudget: Math.max(0, this.maxResultBytes - 1024),
        types: resultTypes,
        // Once the budget is spent, drain at most DRAIN_SLACK_BYTES more, then cut the connection.
        onBudgetSpent: () => lease.client.capAt(lease.client.received + DRAIN_SLACK_BYTES),
      });
      // The shadow check, when there is one, is the last step before the caller's statement.
      const shadowStep = before.length - 1;
      let result: ExchangeResult;
      let cut = false;
      try {
        result = await new Promise<ExchangeResult>((resolve, reject) => {
          exchange.callback = (error, value) => {
            if (error) reject(error);
            else resolve(value as ExchangeResult);
          };
          void lease.client.query(exchange as unknown as QueryConfig);
        });
      } catch (error) {
        if (lease.client.overflowed && readOnly) {
          // Cut off past the budget: what was read before is the answer (nothing to commit in read-only mode).
          result = exchange.result;
          cut = true;
        } else {
          // An implicit transaction ended with the failure (the server skipped to Sync): nothing to roll back.
          if (!implicit) await this.rollback(lease);
          if (lease.client.overflowed) {
            throw new DatabaseError(
              'PAYLOAD_TOO_LARGE',
              `The statement's answer is larger than this call may read (MCP_MAX_RESULT_BYTES=${this.maxResultBytes}), so the connection was closed before COMMIT: the statement was rolled back and nothing was written. Ask for fewer rows or columns (LIMIT, a narrower RETURNING).`,
            );
          }
          const refusal =
            analysis.shadowableFunctions.length > 0 &&
            exchange.result.failedStep === shadowStep &&
            error instanceof Error
              ? shadowRefusal(error.message)
              : undefined;
          if (refusal) throw refusal;
          throw this.translate(error, lease.aborted());
        }
      }
      const types = cut
        ? new Map<number, string>()
        : await this.typeNamesFor(
            lease.client,
            result.fields.map((field) => field.dataTypeID),
          ).catch(() => new Map<number, string>());
      const truncatedBy = cut ? 'byte_limit' : result.truncatedBy;
      const command = result.command ?? analysis.verb;
      return {
        command,
        columns: result.fields.map((field, index) => ({
          name: result.keys[index] ?? field.name,
          type: types.get(field.dataTypeID) ?? this.typeNames.get(field.dataTypeID) ?? `oid ${field.dataTypeID}`,
        })),
        rows: result.rows,
        row_count: result.rows.length,
        truncated: truncatedBy !== null,
        truncated_reason: truncatedBy,
        affected_rows: !cut && DML_COMMANDS.has(command) ? result.rowCount : null,
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
    const analysis = await this.guard.check(sql, analyze ? 'explain_analyze' : 'explain', signal);
    const options = analyze ? 'FORMAT JSON, ANALYZE, BUFFERS' : 'FORMAT JSON';
    const readOnly = this.accessMode === 'read_only' || !analyze;
    // EXPLAIN ANALYZE runs the statement: a write fires triggers, which may set session state.
    const reset = analyze && !analysis.sessionClean;
    return this.transaction({ readOnly, rollback: true, reset, signal }, async (_client, q) => {
      if (analysis.shadowableFunctions.length > 0) {
        try {
          await q.query(SHADOW_CHECK_SQL, [analysis.shadowableFunctions, this.allowedFunctions]);
        } catch (error) {
          throw (error instanceof Error ? shadowRefusal(error.message) : undefined) ?? error;
        }
      }
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
    await Promise.all([this.pool.end(), this.guard.close()]);
  }
}
