import { type BreakerSnapshot, CircuitBreaker } from './breaker.js';
import type { Cache } from './cache.js';
import { digest } from './cache.js';
import { yieldToLoop } from './catalog.js';
import { type DriverOptions, type EngineDriver, sampleSql, ServerUnavailableError } from './engines/engine.js';
import { LazyDriver } from './engines/load-driver.js';
import type { ExplainResult, QueryResult, SqlParam } from './engines/results.js';
import { DatabasesError } from './errors.js';
import type { Registry } from './registry/registry.js';
import { catalogHash, type ServerRow } from './registry/registry.js';
import type { PasswordCipher } from './secrets.js';
import { databaseIncluded, type Engine, type ServerConfig } from './servers-file.js';
import type { Access } from './sql/guard.js';

/**
 * The service's domain: the servers of the servers file, one driver and one circuit breaker each,
 * the registry, the cache, and the syncs. Tools call it; it imports nothing from MCP.
 */

export interface DatabasesOptions {
  servers: readonly ServerConfig[];
  registry: Registry;
  cipher: PasswordCipher;
  cache: Cache;
  applicationName: string;
  allowWrite: boolean;
  maxRows: number;
  cacheTtlSeconds: number;
  resultCacheTtlSeconds: number;
  resultCacheMaxBytes: number;
  syncConcurrency: number;
  syncTimeoutMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  /** Builds a server's driver (tests inject stand-ins); the engine's own driver by default. */
  driverFactory?: (options: DriverOptions) => EngineDriver;
  onWarning?: (message: string, error: Error) => void;
  onInfo?: (message: string, fields: Record<string, unknown>) => void;
}

export interface ServerStatus {
  server: string;
  engine: Engine;
  access: Access;
  tags: string[];
  description: string;
  health: 'up' | 'down' | 'unknown';
  breaker: BreakerSnapshot;
  last_sync: {
    started_at: string | null;
    finished_at: string | null;
    ok: boolean | null;
    error: string | null;
    duration_ms: number | null;
    databases: number | null;
    tables: number | null;
  };
}

export interface SyncResult {
  server: string;
  engine: Engine;
  ok: boolean;
  error: string | null;
  databases: number;
  tables: number;
  changed: boolean;
  duration_ms: number;
}

export interface Located {
  server: string;
  engine: Engine;
  database: string;
}

export function defaultDriver(options: DriverOptions): EngineDriver {
  return new LazyDriver(options);
}

interface ServerEntry {
  config: ServerConfig;
  driver: EngineDriver;
  breaker: CircuitBreaker;
  access: Access;
}

const FIND_LIMIT = 200;

export class Databases {
  readonly cache: Cache;
  readonly registry: Registry;
  private readonly entries = new Map<string, ServerEntry>();
  private readonly generations = new Map<string, number>();
  private readonly running = new Map<string, Promise<SyncResult>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: DatabasesOptions) {
    this.cache = options.cache;
    this.registry = options.registry;
    const factory = options.driverFactory ?? defaultDriver;
    for (const server of options.servers) {
      const driver = factory({
        server,
        password: () => options.registry.passwordOf(server.name, options.cipher),
        applicationName: options.applicationName,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
      this.entries.set(server.name, {
        config: server,
        driver,
        breaker: new CircuitBreaker(options.breakerThreshold, options.breakerCooldownMs),
        access: server.access === 'read_write' && options.allowWrite ? 'read_write' : 'read_only',
      });
    }
  }

  get maxRows(): number {
    return this.options.maxRows;
  }

  async loadGenerations(): Promise<void> {
    for (const [name, generation] of await this.registry.generations()) this.generations.set(name, generation);
  }

  /** The engine of a configured server (NOT_FOUND for any other name). */
  engineOf(server: string): Engine {
    return this.entry(server).config.engine;
  }

  serverNames(): string[] {
    return [...this.entries.keys()].sort();
  }

  private entry(server: string): ServerEntry {
    const entry = this.entries.get(server);
    if (!entry) {
      throw new DatabasesError(
        'NOT_FOUND',
        `No server named "${server}". Known servers: ${this.serverNames().join(', ') || 'none'} (list_servers).`,
      );
    }
    return entry;
  }

  /**
   * Runs `work` against a server through its circuit breaker: refused at once while it is open;
   * a failure to reach the server counts, anything the server answers (rows or an error) resets it.
   */
  private async guarded<T>(entry: ServerEntry, work: () => Promise<T>): Promise<T> {
    const permit = entry.breaker.tryAcquire();
    if (!permit.ok) {
      const snapshot = entry.breaker.snapshot();
      throw new ServerUnavailableError(
        `${entry.config.name} is unavailable: its circuit breaker is open after ${snapshot.consecutive_failures} failed attempts ` +
          `(last: ${snapshot.last_error ?? 'unknown'}); the next attempt is allowed in ${Math.ceil(permit.retryInMs / 1000)} s.`,
      );
    }
    try {
      const value = await work();
      entry.breaker.success();
      return value;
    } catch (error) {
      if (error instanceof ServerUnavailableError) entry.breaker.failure(error.message);
      else if (error instanceof DatabasesError && (error.code === 'CANCELLED' || error.code === 'TIMEOUT'))
        entry.breaker.release();
      else entry.breaker.success();
      throw error;
    }
  }

  /** Metadata answers go through the cache, keyed by the server's metadata generation. */
  private async cached<T>(parts: (string | number)[], load: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const key = this.cache.key('m', ...parts);
    const hit = await this.cache.get(key);
    if (hit !== undefined) return { value: JSON.parse(hit) as T, cached: true };
    const value = await load();
    await this.cache.set(key, JSON.stringify(value), this.options.cacheTtlSeconds);
    return { value, cached: false };
  }

  private generation(server: string): number {
    return this.generations.get(server) ?? 0;
  }

  // ── servers ──────────────────────────────────────────────────────────────────────────

  async listServers(): Promise<ServerStatus[]> {
    const rows = new Map((await this.registry.servers()).map((row) => [row.name, row]));
    return this.serverNames().map((name) => {
      const entry = this.entry(name);
      const row: ServerRow | undefined = rows.get(name);
      const breaker = entry.breaker.snapshot();
      const health =
        breaker.state !== 'closed'
          ? 'down'
          : row?.last_sync_ok === true
            ? 'up'
            : row?.last_sync_ok === false
              ? 'down'
              : 'unknown';
      return {
        server: name,
        engine: entry.config.engine,
        access: entry.access,
        tags: entry.config.tags,
        description: entry.config.description,
        health,
        breaker,
        last_sync: {
          started_at: row?.last_sync_started_at ?? null,
          finished_at: row?.last_sync_finished_at ?? null,
          ok: row?.last_sync_ok ?? null,
          error: row?.last_sync_error ?? null,
          duration_ms: row?.last_sync_ms ?? null,
          databases: row?.last_sync_databases ?? null,
          tables: row?.last_sync_tables ?? null,
        },
      };
    });
  }

  // ── registry reads (cached) ──────────────────────────────────────────────────────────

  async listDatabases(server: string) {
    const entry = this.entry(server);
    return this.cached([server, this.generation(server), 'databases'], () =>
      this.registry.select<{ name: string; schemas: number; tables: number; synced_at: string }>(
        `SELECT d.name,
                (SELECT count(*)::int FROM __SCHEMA__.schemas s WHERE s.server = d.server AND s.database = d.name) AS schemas,
                (SELECT count(*)::int FROM __SCHEMA__.tables t WHERE t.server = d.server AND t.database = d.name) AS tables,
                to_char(d.synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS synced_at
           FROM __SCHEMA__.databases d WHERE d.server = $1 ORDER BY d.name`,
        [entry.config.name],
      ),
    );
  }

  /** The database as the registry knows it: a name that is not there (not synced, excluded, made up) is refused. */
  async requireDatabase(server: string, database: string): Promise<Located> {
    const entry = this.entry(server);
    const { value: databases } = await this.listDatabases(server);
    if (!databases.some((row) => row.name === database)) {
      const known = databases.map((row) => row.name);
      const why = !databaseIncluded(entry.config, database)
        ? 'the servers file excludes it'
        : known.length === 0
          ? 'the server has not been synced yet (sync_metadata, or list_servers for the last sync)'
          : 'it does not exist on the server, or the last sync did not see it';
      throw new DatabasesError(
        'NOT_FOUND',
        `Database "${database}" of ${server} is not in the registry: ${why}. Known: ${known.join(', ') || 'none'}.`,
      );
    }
    return { server, engine: entry.config.engine, database };
  }

  async listSchemas(server: string, database: string) {
    const located = await this.requireDatabase(server, database);
    const { value, cached } = await this.cached([server, this.generation(server), 'schemas', digest(database)], () =>
      this.registry.select<{ name: string; tables: number; views: number }>(
        `SELECT s.name,
                (SELECT count(*)::int FROM __SCHEMA__.tables t WHERE t.server = s.server AND t.database = s.database AND t.schema = s.name AND t.kind <> 'view') AS tables,
                (SELECT count(*)::int FROM __SCHEMA__.tables t WHERE t.server = s.server AND t.database = s.database AND t.schema = s.name AND t.kind = 'view') AS views
           FROM __SCHEMA__.schemas s WHERE s.server = $1 AND s.database = $2 ORDER BY s.name`,
        [server, database],
      ),
    );
    return { ...located, schemas: value, cached };
  }

  async listTables(server: string, database: string, schema: string | undefined, maxBytes = Number.POSITIVE_INFINITY) {
    const located = await this.requireDatabase(server, database);
    if (schema !== undefined) {
      const { schemas } = await this.listSchemas(server, database);
      if (!schemas.some((row) => row.name === schema)) {
        throw new DatabasesError(
          'NOT_FOUND',
          `Schema "${schema}" is not in ${server}/${database}. Schemas: ${schemas.map((row) => row.name).join(', ') || 'none'}.`,
        );
      }
    }
    const { value, cached } = await this.cached(
      [server, this.generation(server), 'tables', digest([database, schema ?? null])],
      () =>
        this.registry.select<{
          schema: string;
          name: string;
          kind: string;
          row_estimate: number | null;
          columns: number;
          comment: string | null;
        }>(
          `SELECT t.schema, t.name, t.kind, t.row_estimate, t.comment,
                  (SELECT count(*)::int FROM __SCHEMA__.columns c
                    WHERE c.server = t.server AND c.database = t.database AND c.schema = t.schema AND c.table_name = t.name) AS columns
             FROM __SCHEMA__.tables t
            WHERE t.server = $1 AND t.database = $2 AND ($3::text IS NULL OR t.schema = $3::text)
            ORDER BY t.schema, t.name LIMIT 5001`,
          [server, database, schema ?? null],
        ),
    );
    // At most 5000 entries, and no more than the answer's byte budget.
    const tables: typeof value = [];
    let bytes = 0;
    for (const table of value.slice(0, 5000)) {
      bytes += JSON.stringify(table).length + 1;
      if (bytes > maxBytes) break;
      tables.push(table);
    }
    return { ...located, tables, truncated: tables.length < value.length, cached };
  }

  /** A table by name (`table`, or `schema.table` when schema is omitted), as the registry knows it. */
  async requireTable(server: string, database: string, table: string, schema: string | undefined) {
    const located = await this.requireDatabase(server, database);
    const candidates = async (name: string, inSchema: string | undefined) =>
      this.registry.select<{ schema: string; name: string }>(
        `SELECT schema, name FROM __SCHEMA__.tables
          WHERE server = $1 AND database = $2 AND name = $3 AND ($4::text IS NULL OR schema = $4::text) ORDER BY schema`,
        [server, database, name, inSchema ?? null],
      );
    let found = await candidates(table, schema);
    const dot = table.indexOf('.');
    if (found.length === 0 && schema === undefined && dot > 0)
      found = await candidates(table.slice(dot + 1), table.slice(0, dot));
    if (found.length > 1) {
      throw new DatabasesError(
        'INVALID_INPUT',
        `Table "${table}" exists in several schemas of ${server}/${database} (${found.map((row) => row.schema).join(', ')}); pass schema.`,
      );
    }
    const [only] = found;
    if (!only) {
      const similar = await this.registry.select<{ name: string }>(
        `SELECT schema || '.' || name AS name FROM __SCHEMA__.tables
          WHERE server = $1 AND database = $2 AND strpos(lower(name), lower($3)) > 0 ORDER BY length(name) LIMIT 5`,
        [server, database, table.slice(dot + 1)],
      );
      const hint = similar.length > 0 ? ` Similar: ${similar.map((row) => row.name).join(', ')}.` : '';
      throw new DatabasesError('NOT_FOUND', `No table "${table}" in ${server}/${database} in the registry.${hint}`);
    }
    return { ...located, schema: only.schema, table: only.name };
  }

  async describeTable(server: string, database: string, table: string, schema: string | undefined) {
    const found = await this.requireTable(server, database, table, schema);
    const { value, cached } = await this.cached(
      [server, this.generation(server), 'describe', digest([database, found.schema, found.table])],
      async () => {
        const args = [server, database, found.schema, found.table];
        const [head] = await this.registry.select<{
          kind: string;
          row_estimate: number | null;
          comment: string | null;
        }>(
          `SELECT kind, row_estimate, comment FROM __SCHEMA__.tables WHERE server = $1 AND database = $2 AND schema = $3 AND name = $4`,
          args,
        );
        const columns = await this.registry.select<{
          name: string;
          type: string;
          nullable: boolean;
          default: string | null;
          ordinal: number;
        }>(
          `SELECT name, data_type AS type, nullable, default_value AS default, ordinal FROM __SCHEMA__.columns
            WHERE server = $1 AND database = $2 AND schema = $3 AND table_name = $4 ORDER BY ordinal`,
          args,
        );
        const constraints = await this.registry.select<{
          name: string;
          kind: string;
          columns: string[];
          ref_schema: string | null;
          ref_table: string | null;
          ref_columns: string[];
        }>(
          `SELECT name, kind, columns, ref_schema, ref_table, ref_columns FROM __SCHEMA__.constraints
            WHERE server = $1 AND database = $2 AND schema = $3 AND table_name = $4 ORDER BY kind, name`,
          args,
        );
        const indexes = await this.registry.select<{
          name: string;
          unique: boolean;
          primary: boolean;
          columns: string[];
        }>(
          `SELECT name, is_unique AS unique, is_primary AS primary, columns FROM __SCHEMA__.indexes
            WHERE server = $1 AND database = $2 AND schema = $3 AND table_name = $4 ORDER BY name`,
          args,
        );
        const primary = constraints.find((row) => row.kind === 'primary_key');
        return {
          kind: head?.kind ?? 'table',
          row_estimate: head?.row_estimate ?? null,
          comment: head?.comment ?? null,
          columns: columns.map(({ ordinal: _ordinal, ...column }) => column),
          primary_key: primary ? { name: primary.name, columns: primary.columns } : null,
          foreign_keys: constraints
            .filter((row) => row.kind === 'foreign_key')
            .map((row) => ({
              name: row.name,
              columns: row.columns,
              references: { schema: row.ref_schema ?? '', table: row.ref_table ?? '', columns: row.ref_columns },
            })),
          unique_constraints: constraints
            .filter((row) => row.kind === 'unique')
            .map((row) => ({ name: row.name, columns: row.columns })),
          indexes,
        };
      },
    );
    return { server, engine: found.engine, database, schema: found.schema, table: found.table, ...value, cached };
  }

  /** Tables and columns whose name matches `pattern` (`*` and `?` wildcards, else a substring), across servers. */
  async findObjects(pattern: string, kind: 'table' | 'column' | 'any', servers: readonly string[] | undefined) {
    const names = servers === undefined ? this.serverNames() : [...new Set(servers)];
    for (const name of names) this.entry(name);
    const like = likePattern(pattern);
    const generations = names.map((name) => `${name}@${this.generation(name)}`);
    const { value, cached } = await this.cached(['find', digest([generations, like, kind])], async () => {
      const tables =
        kind === 'column'
          ? []
          : await this.registry.select<{
              server: string;
              database: string;
              schema: string;
              table: string;
              kind: string;
            }>(
              `SELECT server, database, schema, name AS table, kind FROM __SCHEMA__.tables
                WHERE server = ANY($1::text[]) AND lower(name) LIKE $2 ESCAPE '\\'
                ORDER BY server, database, schema, name LIMIT ${FIND_LIMIT + 1}`,
              [names, like],
            );
      const columns =
        kind === 'table'
          ? []
          : await this.registry.select<{
              server: string;
              database: string;
              schema: string;
              table: string;
              column: string;
              type: string;
            }>(
              `SELECT server, database, schema, table_name AS table, name AS column, data_type AS type FROM __SCHEMA__.columns
                WHERE server = ANY($1::text[]) AND lower(name) LIKE $2 ESCAPE '\\'
                ORDER BY server, database, schema, table_name, name LIMIT ${FIND_LIMIT + 1}`,
              [names, like],
            );
      return { tables, columns };
    });
    const engineOf = (server: string) => this.entry(server).config.engine;
    return {
      pattern,
      kind,
      servers: names,
      tables: value.tables.slice(0, FIND_LIMIT).map((row) => ({ ...row, engine: engineOf(row.server) })),
      columns: value.columns.slice(0, FIND_LIMIT).map((row) => ({ ...row, engine: engineOf(row.server) })),
      truncated: value.tables.length > FIND_LIMIT || value.columns.length > FIND_LIMIT,
      cached,
    };
  }

  // ── live queries ─────────────────────────────────────────────────────────────────────

  async execute(input: {
    server: string;
    database: string;
    sql: string;
    params: readonly SqlParam[];
    maxRows: number | undefined;
    maxBytes: number;
    signal?: AbortSignal;
  }): Promise<Located & QueryResult & { access: Access; row_limit: number; cached: boolean }> {
    const entry = this.entry(input.server);
    const located = await this.requireDatabase(input.server, input.database);
    const rowLimit = Math.max(1, Math.min(input.maxRows ?? this.options.maxRows, this.options.maxRows));
    const ttl = this.options.resultCacheTtlSeconds;
    const key =
      ttl > 0 && entry.access === 'read_only'
        ? this.cache.key(
            'r',
            input.server,
            this.generation(input.server),
            digest([input.database, input.sql, input.params, rowLimit, input.maxBytes]),
          )
        : undefined;
    if (key) {
      const hit = await this.cache.get(key);
      if (hit !== undefined)
        return {
          ...located,
          ...(JSON.parse(hit) as QueryResult),
          access: entry.access,
          row_limit: rowLimit,
          cached: true,
        };
    }
    const result = await this.guarded(entry, () =>
      entry.driver.execute({
        database: input.database,
        sql: input.sql,
        params: input.params,
        maxRows: rowLimit,
        maxBytes: input.maxBytes,
        access: entry.access,
        signal: input.signal,
      }),
    );
    if (key) {
      const text = JSON.stringify(result);
      if (text.length <= this.options.resultCacheMaxBytes) await this.cache.set(key, text, ttl);
    }
    return { ...located, ...result, access: entry.access, row_limit: rowLimit, cached: false };
  }

  async sample(input: {
    server: string;
    database: string;
    table: string;
    schema: string | undefined;
    limit: number;
    maxBytes: number;
    signal?: AbortSignal;
  }) {
    const entry = this.entry(input.server);
    const found = await this.requireTable(input.server, input.database, input.table, input.schema);
    const limit = Math.max(1, Math.min(input.limit, this.options.maxRows));
    // Names come from the registry, quoted by the engine's rules; the statement still goes through the guard.
    const sql = sampleSql(entry.config.engine, found.schema, found.table, limit);
    const result = await this.guarded(entry, () =>
      entry.driver.execute({
        database: input.database,
        sql,
        params: [],
        maxRows: limit,
        maxBytes: input.maxBytes,
        access: 'read_only',
        signal: input.signal,
      }),
    );
    return {
      server: input.server,
      engine: found.engine,
      database: input.database,
      schema: found.schema,
      table: found.table,
      ...result,
    };
  }

  async explain(input: {
    server: string;
    database: string;
    sql: string;
    params: readonly SqlParam[];
    signal?: AbortSignal;
  }): Promise<Located & ExplainResult> {
    const entry = this.entry(input.server);
    const located = await this.requireDatabase(input.server, input.database);
    const plan = await this.guarded(entry, () =>
      entry.driver.explain({
        database: input.database,
        sql: input.sql,
        params: input.params,
        access: entry.access,
        signal: input.signal,
      }),
    );
    return { ...located, ...plan };
  }

  // ── sync ─────────────────────────────────────────────────────────────────────────────

  /** Syncs one server; a sync of the same server already running is joined, not repeated. */
  sync(server: string): Promise<SyncResult> {
    const entry = this.entry(server);
    const running = this.running.get(server);
    if (running) return running;
    const promise = this.syncEntry(entry).finally(() => this.running.delete(server));
    this.running.set(server, promise);
    return promise;
  }

  /** Syncs every server, `syncConcurrency` at a time: a slow or dead server holds up only its own slot. */
  async syncAll(names: readonly string[] = this.serverNames()): Promise<SyncResult[]> {
    const queue = [...names];
    const results: SyncResult[] = [];
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        if (this.closed) return;
        results.push(await this.sync(next));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.syncConcurrency, queue.length) }, worker));
    return results.sort((a, b) => a.server.localeCompare(b.server));
  }

  private async syncEntry(entry: ServerEntry): Promise<SyncResult> {
    const { name, engine } = entry.config;
    const started = performance.now();
    const signal = AbortSignal.timeout(this.options.syncTimeoutMs);
    let databases = 0;
    let tables = 0;
    let changed = false;
    try {
      await this.registry.syncStarted(name);
      const all = await this.guarded(entry, () => entry.driver.listDatabases(signal));
      const included = all.filter((database) => databaseIncluded(entry.config, database));
      const hashes = await this.registry.databaseHashes(name);
      for (const database of included) {
        if (signal.aborted)
          throw new DatabasesError('TIMEOUT', `The sync of ${name} ran past DATABASES_SYNC_TIMEOUT_MS.`);
        const snapshot = await this.guarded(entry, () => entry.driver.readCatalog(database, signal));
        await yieldToLoop();
        const hash = catalogHash(snapshot);
        if (hashes.get(database) !== hash) {
          await this.registry.replaceDatabase(name, database, snapshot, hash);
          changed = true;
        }
        databases += 1;
        tables += snapshot.tables.length;
      }
      if ((await this.registry.removeDatabasesExcept(name, included)) > 0) changed = true;
      const duration = performance.now() - started;
      await this.finishSync(name, { ok: true, error: null, durationMs: duration, databases, tables }, changed);
      this.options.onInfo?.('sync finished', {
        server: name,
        databases,
        tables,
        changed,
        duration_ms: Math.round(duration),
      });
      return {
        server: name,
        engine,
        ok: true,
        error: null,
        databases,
        tables,
        changed,
        duration_ms: Math.round(duration),
      };
    } catch (error) {
      const message = signal.aborted
        ? `The sync of ${name} ran past DATABASES_SYNC_TIMEOUT_MS (${this.options.syncTimeoutMs} ms) and was stopped.`
        : error instanceof DatabasesError
          ? error.message
          : `${name}: the sync failed (${(error as Error).name ?? 'error'}).`;
      const duration = performance.now() - started;
      if (!(error instanceof DatabasesError)) this.options.onWarning?.(`sync of ${name} failed`, error as Error);
      await this.finishSync(
        name,
        { ok: false, error: message, durationMs: duration, databases, tables },
        changed,
      ).catch(() => undefined);
      return {
        server: name,
        engine,
        ok: false,
        error: message,
        databases,
        tables,
        changed,
        duration_ms: Math.round(duration),
      };
    }
  }

  private async finishSync(
    name: string,
    outcome: Parameters<Registry['syncFinished']>[1],
    changed: boolean,
  ): Promise<void> {
    const generation = await this.registry.syncFinished(name, outcome, changed);
    this.generations.set(name, generation);
    if (changed) {
      // New keys use the new generation already; the old entries are deleted so they do not wait for their TTL.
      await this.cache.deleteUnder('m', name);
      await this.cache.deleteUnder('r', name);
    }
  }

  /** Syncs every server every `seconds` (0: never); the timer does not keep the process alive. */
  schedule(seconds: number): void {
    if (seconds <= 0) return;
    this.timer = setInterval(() => {
      void this.syncAll().catch((error: unknown) => this.options.onWarning?.('scheduled sync failed', error as Error));
    }, seconds * 1000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.running.values()]);
    await Promise.all([...this.entries.values()].map((entry) => entry.driver.close().catch(() => undefined)));
    await this.cache.close();
    await this.registry.close();
  }
}

/** `*`/`?` wildcards (or a plain substring) as a lower-case LIKE pattern with `\` escapes. */
export function likePattern(pattern: string): string {
  const escaped = pattern.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`);
  if (!/[*?]/.test(pattern)) return `%${escaped}%`;
  return escaped.replaceAll('*', '%').replaceAll('?', '_');
}
