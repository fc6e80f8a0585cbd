import { createHash } from 'node:crypto';

import pg from 'pg';

import type { CatalogSnapshot } from '../catalog.js';
import { yieldToLoop } from '../catalog.js';
import { DatabasesError } from '../errors.js';
import { PasswordCipher } from '../secrets.js';
import type { Engine, ServerConfig } from '../servers-file.js';
import { MIGRATIONS } from './migrations.js';

/**
 * The metadata registry in PostgreSQL: servers (with their passwords encrypted), and for each
 * included database its schemas, tables, columns, keys, indexes and row estimates, with the
 * outcome of every server's last sync. Its own schema; migrations applied at start-up.
 */

export interface RegistryOptions {
  url: string;
  schema: string;
  poolMax: number;
  applicationName: string;
  onWarning?: (message: string, error: Error) => void;
}

export interface ServerRow {
  name: string;
  engine: Engine;
  access: 'read_only' | 'read_write';
  tags: string[];
  description: string;
  generation: number;
  last_sync_started_at: string | null;
  last_sync_finished_at: string | null;
  last_sync_ok: boolean | null;
  last_sync_error: string | null;
  last_sync_ms: number | null;
  last_sync_databases: number | null;
  last_sync_tables: number | null;
}

export interface SyncOutcome {
  ok: boolean;
  error: string | null;
  durationMs: number;
  databases: number;
  tables: number;
}

/** Rows per INSERT ... SELECT FROM unnest(...): one round trip each, bounded memory. */
const CHUNK = 5000;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function catalogHash(snapshot: CatalogSnapshot): string {
  return createHash('sha256').update(JSON.stringify(snapshot)).digest('hex');
}

export class Registry {
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly s: string;

  constructor(options: RegistryOptions) {
    this.schema = options.schema;
    this.s = quoteIdent(options.schema);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      application_name: options.applicationName,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    this.pool.on('error', (error) => options.onWarning?.('idle registry connection failed', error));
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      throw registryError(error);
    }
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw registryError(error);
    }
    try {
      await client.query('BEGIN');
      const value = await work(client);
      await client.query('COMMIT');
      client.release();
      return value;
    } catch (error) {
      // A failed ROLLBACK leaves the connection in an unknown state: destroy it.
      const broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      client.release(broken);
      throw error instanceof DatabasesError ? error : registryError(error);
    }
  }

  /** Applies the missing migrations in order, under a transaction-level advisory lock (several replicas may start at once). */
  async migrate(): Promise<{ applied: number[] }> {
    return this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`mcp-databases:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.s}.schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = await client.query<{ version: number; checksum: string }>(
        `SELECT version, checksum FROM ${this.s}.schema_migrations ORDER BY version`,
      );
      const applied = new Map(done.rows.map((row) => [row.version, row.checksum]));
      const newly: number[] = [];
      for (const migration of MIGRATIONS) {
        const checksum = createHash('sha256').update(migration.sql).digest('hex');
        const previous = applied.get(migration.version);
        if (previous !== undefined) {
          if (previous !== checksum) {
            throw new DatabasesError(
              'INTERNAL',
              `Registry migration ${migration.version} (${migration.name}) was changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await client.query(migration.sql.replaceAll('__SCHEMA__', this.s));
        await client.query(`INSERT INTO ${this.s}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
          migration.version,
          migration.name,
          checksum,
        ]);
        newly.push(migration.version);
      }
      const latest = Math.max(...MIGRATIONS.map((m) => m.version));
      const ahead = [...applied.keys()].filter((version) => version > latest);
      if (ahead.length > 0) {
        throw new DatabasesError(
          'INTERNAL',
          `The registry schema ${this.schema} has migration ${ahead.join(', ')}, newer than this service knows (${latest}): run the newer service version`,
        );
      }
      return { applied: newly };
    });
  }

  /**
   * Writes the servers of the servers file: their settings, and their passwords encrypted with the
   * current key (kept when unchanged, re-encrypted when stored under a previous key). Servers no
   * longer in the file are removed with their metadata. A password stored under a key this
   * instance does not have stops the start: another instance with another key would otherwise keep
   * overwriting it.
   */
  async saveServers(servers: readonly ServerConfig[], cipher: PasswordCipher): Promise<{ reencrypted: string[] }> {
    return this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `mcp-databases:servers:${this.schema}`,
      ]);
      const stored = await client.query<{ name: string; password_cipher: string | null }>(
        `SELECT name, password_cipher FROM ${this.s}.servers ORDER BY name`,
      );
      const existing = new Map(stored.rows.map((row) => [row.name, row.password_cipher]));
      const unknown = [...existing.entries()].filter(
        ([name, text]) => text !== null && !cipher.canDecrypt(text) && servers.some((server) => server.name === name),
      );
      if (unknown.length > 0) {
        const ids = [...new Set(unknown.map(([, text]) => PasswordCipher.keyIdOf(text ?? '') ?? 'unknown'))];
        throw new DatabasesError(
          'UNAVAILABLE',
          `The registry holds passwords of ${unknown.map(([name]) => name).join(', ')} encrypted with key ${ids.join(', ')}, ` +
            `which is neither DATABASES_ENCRYPTION_KEY (${cipher.currentKeyId}) nor in DATABASES_ENCRYPTION_KEY_PREVIOUS. ` +
            'After rotating the key, list the old key in DATABASES_ENCRYPTION_KEY_PREVIOUS until this instance has re-encrypted them.',
        );
      }
      const reencrypted: string[] = [];
      for (const server of servers) {
        const previous = existing.get(server.name) ?? null;
        let stored: string | null = null;
        if (server.password !== '') {
          const same = previous !== null && cipher.decrypt(previous, server.name) === server.password;
          const current = previous !== null && PasswordCipher.keyIdOf(previous) === cipher.currentKeyId;
          stored = same && current ? previous : cipher.encrypt(server.password, server.name);
          if (same && !current) reencrypted.push(server.name);
        }
        await client.query(
          `INSERT INTO ${this.s}.servers
             (name, engine, host, port, username, access, tags, include_patterns, exclude_patterns, description,
              password_cipher, password_key_id, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
           ON CONFLICT (name) DO UPDATE SET
             engine = EXCLUDED.engine, host = EXCLUDED.host, port = EXCLUDED.port, username = EXCLUDED.username,
             access = EXCLUDED.access, tags = EXCLUDED.tags, include_patterns = EXCLUDED.include_patterns,
             exclude_patterns = EXCLUDED.exclude_patterns, description = EXCLUDED.description,
             password_cipher = EXCLUDED.password_cipher, password_key_id = EXCLUDED.password_key_id,
             updated_at = now()`,
          [
            server.name,
            server.engine,
            server.host,
            server.port,
            server.user,
            server.access,
            server.tags,
            server.databases.include,
            server.databases.exclude,
            server.description,
            stored,
            stored === null ? null : PasswordCipher.keyIdOf(stored),
          ],
        );
      }
      await client.query(`DELETE FROM ${this.s}.servers WHERE NOT (name = ANY($1::text[]))`, [
        servers.map((server) => server.name),
      ]);
      return { reencrypted };
    });
  }

  /** The password a server connects with: decrypted from the registry ('' when it has none). */
  async passwordOf(server: string, cipher: PasswordCipher): Promise<string> {
    const rows = await this.query<{ password_cipher: string | null }>(
      `SELECT password_cipher FROM ${this.s}.servers WHERE name = $1`,
      [server],
    );
    const stored = rows[0]?.password_cipher ?? null;
    return stored === null ? '' : cipher.decrypt(stored, server);
  }

  /** Key ids of the stored passwords, per server (for rotation checks). */
  async passwordKeyIds(): Promise<Map<string, string | null>> {
    const rows = await this.query<{ name: string; password_key_id: string | null }>(
      `SELECT name, password_key_id FROM ${this.s}.servers ORDER BY name`,
    );
    return new Map(rows.map((row) => [row.name, row.password_key_id]));
  }

  async servers(): Promise<ServerRow[]> {
    return this.query<ServerRow>(
      `SELECT name, engine, access, tags, description, generation::float8 AS generation,
              to_char(last_sync_started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_sync_started_at,
              to_char(last_sync_finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_sync_finished_at,
              last_sync_ok, last_sync_error, last_sync_ms, last_sync_databases, last_sync_tables
         FROM ${this.s}.servers ORDER BY name`,
    );
  }

  async generations(): Promise<Map<string, number>> {
    const rows = await this.query<{ name: string; generation: number }>(
      `SELECT name, generation::float8 AS generation FROM ${this.s}.servers`,
    );
    return new Map(rows.map((row) => [row.name, row.generation]));
  }

  async syncStarted(server: string): Promise<void> {
    await this.query(`UPDATE ${this.s}.servers SET last_sync_started_at = now() WHERE name = $1`, [server]);
  }

  /** Records a sync's outcome; bumps the generation when the metadata changed. Returns the generation. */
  async syncFinished(server: string, outcome: SyncOutcome, changed: boolean): Promise<number> {
    const rows = await this.query<{ generation: number }>(
      `UPDATE ${this.s}.servers
          SET last_sync_finished_at = now(), last_sync_ok = $2, last_sync_error = $3, last_sync_ms = $4,
              last_sync_databases = CASE WHEN $2 THEN $5 ELSE last_sync_databases END,
              last_sync_tables = CASE WHEN $2 THEN $6 ELSE last_sync_tables END,
              generation = generation + CASE WHEN $7 THEN 1 ELSE 0 END
        WHERE name = $1
        RETURNING generation::float8 AS generation`,
      [server, outcome.ok, outcome.error, Math.round(outcome.durationMs), outcome.databases, outcome.tables, changed],
    );
    return rows[0]?.generation ?? 0;
  }

  async databaseHashes(server: string): Promise<Map<string, string>> {
    const rows = await this.query<{ name: string; catalog_hash: string }>(
      `SELECT name, catalog_hash FROM ${this.s}.databases WHERE server = $1`,
      [server],
    );
    return new Map(rows.map((row) => [row.name, row.catalog_hash]));
  }

  /** Removes the databases of `server` that are not in `keep` (dropped, or excluded now); returns how many. */
  async removeDatabasesExcept(server: string, keep: readonly string[]): Promise<number> {
    const rows = await this.query(
      `DELETE FROM ${this.s}.databases WHERE server = $1 AND NOT (name = ANY($2::text[])) RETURNING name`,
      [server, keep],
    );
    return rows.length;
  }

  /**
   * Replaces what the registry holds of one database with `snapshot`, in one transaction (readers
   * see the old catalog or the new one, never half), in bulk inserts of CHUNK rows, yielding the
   * event loop between chunks.
   */
  async replaceDatabase(server: string, database: string, snapshot: CatalogSnapshot, hash: string): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(`DELETE FROM ${this.s}.databases WHERE server = $1 AND name = $2`, [server, database]);
      await client.query(`INSERT INTO ${this.s}.databases (server, name, catalog_hash) VALUES ($1, $2, $3)`, [
        server,
        database,
        hash,
      ]);
      const insert = async <T>(rows: readonly T[], sql: string, columns: (row: T) => unknown[], types: string[]) => {
        for (let start = 0; start < rows.length; start += CHUNK) {
          const slice = rows.slice(start, start + CHUNK);
          const arrays: unknown[][] = types.map(() => []);
          for (const row of slice) columns(row).forEach((value, index) => arrays[index]?.push(value));
          // text[] columns travel as JSON (unnest of a 2-D array would flatten them); the server and
          // database are the two parameters after the arrays.
          const n = types.length;
          await client.query(sql.replaceAll('$S', `$${n + 1}`).replaceAll('$D', `$${n + 2}`), [
            ...arrays,
            server,
            database,
          ]);
          await yieldToLoop();
        }
      };
      const schemas = [...new Set([...snapshot.schemas, ...snapshot.tables.map((table) => table.schema)])];
      await client.query(
        `INSERT INTO ${this.s}.schemas (server, database, name) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
        [server, database, schemas],
      );
      await insert(
        snapshot.tables,
        `INSERT INTO ${this.s}.tables (server, database, schema, name, kind, row_estimate, comment)
         SELECT $S::text, $D::text, t.* FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[]) AS t
         ON CONFLICT DO NOTHING`,
        (t) => [t.schema, t.name, t.kind, t.rowEstimate, t.comment],
        ['text', 'text', 'text', 'float8', 'text'],
      );
      await insert(
        snapshot.columns,
        `INSERT INTO ${this.s}.columns (server, database, schema, table_name, name, ordinal, data_type, nullable, default_value)
         SELECT $S::text, $D::text, c.* FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::bool[], $7::text[])
                AS c(s, t, n, o, ty, nu, d)
         WHERE EXISTS (SELECT 1 FROM ${this.s}.tables t WHERE t.server = $S::text AND t.database = $D::text AND t.schema = c.s AND t.name = c.t)
         ON CONFLICT DO NOTHING`,
        (c) => [c.schema, c.table, c.name, c.ordinal, c.type, c.nullable, c.default],
        ['text', 'text', 'text', 'int', 'text', 'bool', 'text'],
      );
      await insert(
        snapshot.constraints,
        `INSERT INTO ${this.s}.constraints (server, database, schema, table_name, name, kind, columns, ref_schema, ref_table, ref_columns)
         SELECT $S::text, $D::text, c.s, c.t, c.n, c.k,
                ARRAY(SELECT jsonb_array_elements_text(c.cols)), c.rs, c.rt, ARRAY(SELECT jsonb_array_elements_text(c.rcols))
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $8::jsonb[])
                AS c(s, t, n, k, cols, rs, rt, rcols)
          WHERE EXISTS (SELECT 1 FROM ${this.s}.tables t WHERE t.server = $S::text AND t.database = $D::text AND t.schema = c.s AND t.name = c.t)
         ON CONFLICT DO NOTHING`,
        (c) => [
          c.schema,
          c.table,
          c.name,
          c.kind,
          JSON.stringify(c.columns),
          c.refSchema,
          c.refTable,
          JSON.stringify(c.refColumns),
        ],
        ['text', 'text', 'text', 'text', 'jsonb', 'text', 'text', 'jsonb'],
      );
      await insert(
        snapshot.indexes,
        `INSERT INTO ${this.s}.indexes (server, database, schema, table_name, name, is_unique, is_primary, columns)
         SELECT $S::text, $D::text, i.s, i.t, i.n, i.u, i.p, ARRAY(SELECT jsonb_array_elements_text(i.cols))
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::jsonb[]) AS i(s, t, n, u, p, cols)
          WHERE EXISTS (SELECT 1 FROM ${this.s}.tables t WHERE t.server = $S::text AND t.database = $D::text AND t.schema = i.s AND t.name = i.t)
         ON CONFLICT DO NOTHING`,
        (i) => [i.schema, i.table, i.name, i.unique, i.primary, JSON.stringify(i.columns)],
        ['text', 'text', 'text', 'bool', 'bool', 'jsonb'],
      );
    });
  }

  /** A read of the registry; `__SCHEMA__` in the text is its schema. */
  async select<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.query<R>(text.replaceAll('__SCHEMA__', this.s), values);
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function registryError(error: unknown): DatabasesError {
  if (error instanceof DatabasesError) return error;
  const code = (error as { code?: unknown }).code;
  const text = typeof code === 'string' ? code : 'error';
  return new DatabasesError('UNAVAILABLE', `The metadata registry (PostgreSQL) failed (${text}).`, { cause: error });
}
