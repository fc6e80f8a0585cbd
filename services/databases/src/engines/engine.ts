import type { CatalogSnapshot } from '../catalog.js';
import { DatabasesError } from '../errors.js';
import type { Engine, ServerConfig } from '../servers-file.js';
import type { ExecuteRequest, ExplainResult, QueryResult } from './results.js';

/** One server's driver: pools, catalog reads, guarded statements. One implementation per engine. */
export interface EngineDriver {
  readonly engine: Engine;
  /** Every database on the server the login can see (include/exclude rules are applied by the caller). */
  listDatabases(signal?: AbortSignal): Promise<string[]>;
  /** Schemas, tables, columns, keys, indexes and row estimates of one database, in a few batch queries. */
  readCatalog(database: string, signal?: AbortSignal): Promise<CatalogSnapshot>;
  /** One guarded statement (one batch on SQL Server), rows read incrementally up to the limits. */
  execute(request: ExecuteRequest): Promise<QueryResult>;
  /** The engine's own plan of one statement, never executing it. */
  explain(request: Omit<ExecuteRequest, 'maxRows' | 'maxBytes'>): Promise<ExplainResult>;
  /** The server answers (a trivial query on the default database). */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface DriverOptions {
  server: ServerConfig;
  /** The password, decrypted from the registry when a pool is created (never kept in a message). */
  password: () => Promise<string>;
  applicationName: string;
  onWarning?: (message: string, error: Error) => void;
}

/** The server could not be reached or refused the login: what the circuit breaker counts. */
export class ServerUnavailableError extends DatabasesError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', message, options);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ESOCKET',
  'ECONNCLOSED',
]);

/** The network-level code of a driver error (pg, mysql2 and tedious spell them alike), if it is one. */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string') {
      if (/timeout expired|timed out|connection terminated|Connection terminated/i.test(message)) return 'ETIMEDOUT';
      if (/ECONNREFUSED/.test(message)) return 'ECONNREFUSED';
    }
    current =
      (current as { cause?: unknown; originalError?: unknown }).originalError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Quotes an identifier for PostgreSQL and standard SQL: "a""b". */
const quoteDouble = (name: string) => `"${name.replaceAll('"', '""')}"`;
/** MySQL: `a``b`. */
const quoteBacktick = (name: string) => `\`${name.replaceAll('`', '``')}\``;
/** SQL Server: [a]]b]. */
const quoteBracket = (name: string) => `[${name.replaceAll(']', ']]')}]`;

/** `SELECT * FROM <quoted schema.table>` limited to `limit` rows, in the engine's syntax. */
export function sampleSql(engine: Engine, schema: string, table: string, limit: number): string {
  const rows = Math.trunc(limit);
  switch (engine) {
    case 'postgres':
      return `SELECT * FROM ${quoteDouble(schema)}.${quoteDouble(table)} LIMIT ${rows}`;
    case 'mysql':
      return `SELECT * FROM ${quoteBacktick(schema)}.${quoteBacktick(table)} LIMIT ${rows}`;
    case 'mssql':
      return `SELECT TOP (${rows}) * FROM ${quoteBracket(schema)}.${quoteBracket(table)}`;
  }
}

/** Runs `work`, and `onAbort` when `signal` fires meanwhile. */
export async function withAbort<T>(
  signal: AbortSignal | undefined,
  onAbort: () => void,
  work: () => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw new DatabasesError('CANCELLED', 'The call was cancelled before it reached the server.');
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await work();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
