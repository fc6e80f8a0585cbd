import { createRequire } from 'node:module';

import type pg from 'pg';

/**
 * One execute_sql call on the wire: every message of the call written at once, the way the extended
 * query protocol allows, instead of one round trip per statement.
 *
 *   read_only:  BEGIN READ ONLY · settings · [shadow check] · Parse/Bind/Describe/Execute(rows) · COMMIT · Sync
 *   read_only on a connection opened read-only (default_transaction_read_only=on, statement_timeout
 *   set at start-up): [shadow check] · Parse/Bind/Describe/Execute(rows) · Sync, one implicit
 *   transaction that the server starts READ ONLY
 *   read_write: BEGIN · settings · Parse/Bind/Describe/Execute(rows) · Flush, then COMMIT · Sync
 *
 * Each statement is its own Parse message, so the server still refuses several statements in the
 * caller's text. When one fails, the server skips everything up to Sync: nothing after the failure
 * runs (a failed shadow check stops the caller's statement before it is even parsed). read_write
 * mode waits for the statement's answer before it commits, so a call cut off mid-answer (see
 * `onOverflow`) is rolled back for sure instead of maybe committed.
 *
 * Rows are read one message at a time as they arrive: at most `rowLimit` are kept, and no more than
 * `byteBudget` bytes of them (as compact JSON); the ones past either limit are counted, not kept.
 */

const pgUtils = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (this: void, value: unknown) => unknown;
};
const { prepareValue } = pgUtils;

export interface ExchangeStep {
  text: string;
  values?: readonly unknown[];
}

export interface ExchangeOptions {
  /** Statements before the caller's (BEGIN, settings, shadow check). */
  before: ExchangeStep[];
  /** The caller's statement. */
  statement: ExchangeStep;
  /**
   * The statement that ends the transaction (COMMIT, or ROLLBACK for explain); none when the steps
   * run in the implicit transaction that Sync ends (then `pipelineEnd` must be true).
   */
  end: string | undefined;
  /** Writes `end` and Sync in the first write (read_only); otherwise after the statement answered. */
  pipelineEnd: boolean;
  rowLimit: number;
  /** Most bytes of the answer's rows and column list (compact JSON); rows past it are counted, not kept. */
  byteBudget: number;
  types: { getTypeParser: typeof pg.types.getTypeParser };
  /** Called once when the byte budget is spent (rows past it are counted, not kept). */
  onBudgetSpent?: () => void;
}

export interface ExchangeField {
  name: string;
  dataTypeID: number;
}

export interface ExchangeResult {
  fields: ExchangeField[];
  /** Unique keys for the fields (a, a_2, a_3 for repeated names). */
  keys: string[];
  rows: Record<string, unknown>[];
  /** The statement's command tag (SELECT 3, INSERT 0 2, ...) verb and count. */
  command: string | undefined;
  rowCount: number | null;
  truncatedBy: 'row_limit' | 'byte_limit' | null;
  /** Index of the step (in before, then statement, then end) a server error came from. */
  failedStep: number | undefined;
}

/** The part of pg's Connection (lib/connection.js) the exchange writes to; @types/pg describes an older API. */
export interface Connection {
  stream: { cork?: () => void; uncork?: () => void };
  parse(query: { text: string; name: string; types: number[] }): void;
  bind(config: {
    portal: string;
    statement: string;
    values: unknown[];
    valueMapper: (value: unknown, index: number) => unknown;
  }): void;
  describe(message: { type: 'P' | 'S'; name: string }): void;
  execute(config: { portal: string; rows: number }): void;
  flush(): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

interface RowDescriptionMessage {
  fields: { name: string; dataTypeID: number; format: string }[];
}
interface DataRowMessage {
  fields: (string | null)[];
}
interface CommandCompleteMessage {
  text: string;
}

/**
 * Values longer than this (as PostgreSQL's text) are returned as that text instead of being parsed
 * (json, jsonb and arrays become strings): parsing one takes the event loop about a millisecond per
 * 30-100 KiB, and no call may hold up the others for long.
 */
export const LARGE_VALUE_CHARS = 64 * 1024;

/** A pg "submittable": pg.Client queues it like a query and hands it the protocol messages. */
export class CallExchange {
  callback: ((error: Error | null, result?: ExchangeResult) => void) | undefined;
  private step = 0;
  private readonly statementStep: number;
  private syncSent = false;
  private parsers: ((value: string) => unknown)[] = [];
  private bytes = 2; // []
  /** The byte budget for rows: the call's, less what the column list will weigh in the answer. */
  private rowBudget: number;
  private done = false;
  readonly result: ExchangeResult = {
    fields: [],
    keys: [],
    rows: [],
    command: undefined,
    rowCount: null,
    truncatedBy: null,
    failedStep: undefined,
  };

  constructor(private readonly options: ExchangeOptions) {
    this.statementStep = options.before.length;
    this.rowBudget = options.byteBudget;
  }

  /** Steps in the exchange: before, the statement, the end. */
  stepCount(): number {
    return this.options.before.length + (this.options.end === undefined ? 1 : 2);
  }

  private budgetSpent(): void {
    this.result.truncatedBy = 'byte_limit';
    this.options.onBudgetSpent?.();
  }

  submit(connection: Connection): Error | null {
    const { stream } = connection;
    stream.cork?.();
    try {
      for (const step of this.options.before) this.send(connection, step, false);
      this.send(connection, this.options.statement, true);
      if (this.options.pipelineEnd) {
        if (this.options.end !== undefined) this.send(connection, { text: this.options.end }, false);
        this.sync(connection);
      } else {
        connection.flush();
      }
    } catch (error) {
      // A parameter that cannot be serialised: end the exchange so the connection stays usable.
      this.sync(connection);
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      stream.uncork?.();
    }
    return null;
  }

  private send(connection: Connection, step: ExchangeStep, isStatement: boolean): void {
    connection.parse({ text: step.text, name: '', types: [] });
    connection.bind({
      portal: '',
      statement: '',
      values: [...(step.values ?? [])],
      valueMapper: (value: unknown) => prepareValue(value),
    });
    if (isStatement) connection.describe({ type: 'P', name: '' });
    connection.execute({ portal: '', rows: isStatement ? this.options.rowLimit + 1 : 0 });
  }

  private sync(connection: Connection): void {
    if (this.syncSent) return;
    this.syncSent = true;
    connection.sync();
  }

  handleRowDescription(message: RowDescriptionMessage): void {
    const { getTypeParser } = this.options.types;
    this.result.fields = message.fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID }));
    const seen = new Map<string, number>();
    this.result.keys = message.fields.map((field) => {
      const count = (seen.get(field.name) ?? 0) + 1;
      seen.set(field.name, count);
      return count === 1 ? field.name : `${field.name}_${count}`;
    });
    // Each column is listed in the answer as {"name":…,"type":…}; type names are at most ~30 characters.
    let columns = 0;
    for (const key of this.result.keys) columns += JSON.stringify(key).length + 64;
    this.rowBudget = this.options.byteBudget - columns;
    this.parsers = message.fields.map((field) => {
      const parse = getTypeParser(field.dataTypeID, field.format === 'binary' ? 'binary' : 'text') as unknown as (
        value: string,
      ) => unknown;
      return (value: string) => (value.length > LARGE_VALUE_CHARS ? value : parse(value));
    });
  }

  handleDataRow(message: DataRowMessage): void {
    if (this.step !== this.statementStep) return; // rows of the internal statements
    const { result } = this;
    if (result.truncatedBy !== null) return;
    if (result.rows.length >= this.options.rowLimit) {
      result.truncatedBy = 'row_limit';
      return;
    }
    // A row whose text alone cannot fit is not parsed at all (JSON of parsed values is at least about
    // half their text: jsonb's text has spaces that JSON.stringify drops).
    let raw = 0;
    for (const field of message.fields) raw += field === null ? 4 : field.length;
    if (this.bytes + raw / 2 > this.rowBudget) {
      this.budgetSpent();
      return;
    }
    const row: Record<string, unknown> = {};
    const { keys } = result;
    for (let i = 0; i < message.fields.length; i += 1) {
      const raw = message.fields[i];
      const parse = this.parsers[i];
      row[keys[i] ?? String(i)] = raw === null || raw === undefined ? null : parse ? parse(raw) : raw;
    }
    const size = JSON.stringify(row).length + 1;
    if (this.bytes + size > this.rowBudget) {
      this.budgetSpent();
      return;
    }
    this.bytes += size;
    result.rows.push(row);
  }

  handlePortalSuspended(connection: Connection): void {
    // More rows than rowLimit + 1: the portal holds the rest, which is never fetched.
    if (this.result.truncatedBy === null) this.result.truncatedBy = 'row_limit';
    this.finishStep(connection);
  }

  handleCommandComplete(message: CommandCompleteMessage, connection: Connection): void {
    if (this.step === this.statementStep) {
      const parts = message.text.split(' ');
      const last = parts[parts.length - 1] ?? '';
      const count = /^\d+$/.test(last) ? Number(last) : null;
      const verb = count === null ? message.text : parts.slice(0, parts[0] === 'INSERT' ? 1 : -1).join(' ');
      this.result.command = verb;
      this.result.rowCount = count;
    }
    this.finishStep(connection);
  }

  handleEmptyQuery(connection: Connection): void {
    this.finishStep(connection);
  }

  private finishStep(connection: Connection): void {
    const wasStatement = this.step === this.statementStep;
    this.step += 1;
    if (wasStatement && !this.options.pipelineEnd) {
      if (this.options.end !== undefined) this.send(connection, { text: this.options.end }, false);
      this.sync(connection);
    }
  }

  handleError(error: Error, connection: Connection): void {
    if (this.done) return;
    this.done = true;
    // A server error: the server skips to the next Sync, which read_write mode may not have sent yet.
    if ('severity' in error) {
      this.result.failedStep = this.step;
      this.sync(connection);
    }
    this.callback?.(error);
  }

  handleReadyForQuery(): void {
    if (this.done) return;
    this.done = true;
    this.callback?.(null, this.result);
  }

  handleCopyInResponse(connection: Connection): void {
    // The guard refuses COPY; should one slip through, the server gets a failure, not a hang.
    connection.sendCopyFail('COPY is not supported by this service');
  }

  handleCopyData(): void {
    // Nothing to do: COPY TO STDOUT data is never read.
  }
}
