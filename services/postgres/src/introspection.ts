import type { Querier } from './database.js';
import { DatabaseError } from './errors.js';

/** Comments are cut at this many characters, so that no catalog answer grows with what the schema stores. */
export const COMMENT_LIMIT = 2000;
/** View definitions are cut at this many characters. */
export const DEFINITION_LIMIT = 100_000;

/** Catalog queries for the introspection tools. Every number comes back as a JS number (sizes via float8). */

export interface DatabaseSummary {
  name: string;
  owner: string;
  encoding: string;
  collation: string;
  allow_connections: boolean;
  /** Null when the role lacks CONNECT on that database. */
  size_bytes: number | null;
  size: string | null;
  current: boolean;
}

export async function listDatabases(q: Querier): Promise<DatabaseSummary[]> {
  return q.query<DatabaseSummary>(`
    SELECT d.datname AS name,
           pg_get_userbyid(d.datdba) AS owner,
           pg_encoding_to_char(d.encoding) AS encoding,
           d.datcollate AS collation,
           d.datallowconn AS allow_connections,
           s.size::float8 AS size_bytes,
           pg_size_pretty(s.size) AS size,
           d.datname = current_database() AS current
      FROM pg_database d
      CROSS JOIN LATERAL (
        SELECT CASE WHEN d.datallowconn AND has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END AS size
      ) s
     WHERE NOT d.datistemplate
     ORDER BY d.datname`);
}

export interface SchemaSummary {
  name: string;
  owner: string;
  system: boolean;
  /** Whether the current role may use the schema (USAGE). */
  usable: boolean;
  /** Tables, views, materialized views and foreign tables in the schema. */
  relations: number;
  comment: string | null;
}

export async function listSchemas(q: Querier): Promise<SchemaSummary[]> {
  return q.query<SchemaSummary>(`
    SELECT n.nspname AS name,
           pg_get_userbyid(n.nspowner) AS owner,
           n.nspname IN ('pg_catalog', 'information_schema') AS system,
           has_schema_privilege(n.oid, 'USAGE') AS usable,
           (SELECT count(*)::int FROM pg_class c
             WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) AS relations,
           left(obj_description(n.oid, 'pg_namespace'), ${COMMENT_LIMIT}) AS comment
      FROM pg_namespace n
     WHERE n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp_'
     ORDER BY n.nspname IN ('pg_catalog', 'information_schema'), n.nspname`);
}

export type RelationType = 'table' | 'partitioned_table' | 'view' | 'materialized_view' | 'foreign_table';

export interface TableSummary {
  schema: string;
  name: string;
  type: RelationType;
  /** The planner's estimate (pg_class.reltuples); null for views and tables never analysed. */
  estimated_rows: number | null;
  /** Table + indexes + TOAST; null for views and foreign tables. */
  size_bytes: number | null;
  /** Number of partitions of a partitioned table (partitions themselves are not listed). */
  partitions: number | null;
  comment: string | null;
}

const RELKIND_SQL = `CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned_table' WHEN 'v' THEN 'view'
  WHEN 'm' THEN 'materialized_view' WHEN 'f' THEN 'foreign_table' END`;

export const LIST_TABLES_LIMIT = 1000;

/** Tables and views of one schema, or of every non-system schema when `schema` is omitted. */
export async function listTables(
  q: Querier,
  schema: string | undefined,
): Promise<{ tables: TableSummary[]; truncated: boolean }> {
  if (schema !== undefined) {
    const found = await q.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.length === 0) {
      throw new DatabaseError('NOT_FOUND', `Schema "${schema}" does not exist. list_schemas shows the schemas.`);
    }
  }
  const rows = await q.query<TableSummary>(
    `
    SELECT n.nspname AS schema,
           c.relname AS name,
           ${RELKIND_SQL} AS type,
           CASE WHEN c.relkind IN ('v', 'f') OR c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END AS estimated_rows,
           CASE WHEN c.relkind IN ('r', 'm', 'p') THEN pg_total_relation_size(c.oid)::float8 END AS size_bytes,
           CASE WHEN c.relkind = 'p' THEN (SELECT count(*)::int FROM pg_inherits i WHERE i.inhparent = c.oid) END
             AS partitions,
           left(obj_description(c.oid, 'pg_class'), ${COMMENT_LIMIT}) AS comment
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND NOT c.relispartition
       AND (CASE WHEN $1::text IS NULL
                 THEN n.nspname NOT IN ('pg_catalog', 'information_schema')
                      AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp_'
                 ELSE n.nspname = $1::text END)
     ORDER BY n.nspname, c.relname
     LIMIT ${LIST_TABLES_LIMIT + 1}`,
    [schema ?? null],
  );
  return { tables: rows.slice(0, LIST_TABLES_LIMIT), truncated: rows.length > LIST_TABLES_LIMIT };
}

export interface ColumnDetail {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  /** `always` or `by_default` for identity columns. */
  identity: 'always' | 'by_default' | null;
  /** The expression of a generated (stored) column. */
  generated: string | null;
  comment: string | null;
}

export interface ForeignKey {
  name: string;
  columns: string[];
  references: { schema: string; table: string; columns: string[] };
  on_update: string;
  on_delete: string;
}

export interface IncomingForeignKey {
  name: string;
  schema: string;
  table: string;
  columns: string[];
  referenced_columns: string[];
}

export interface IndexDetail {
  name: string;
  definition: string;
  unique: boolean;
  primary: boolean;
  valid: boolean;
  size_bytes: number;
  /** Index scans since statistics were reset (null when unknown). */
  scans: number | null;
}

export interface ConstraintDetail {
  name: string;
  type: 'primary_key' | 'foreign_key' | 'unique' | 'check' | 'exclusion' | 'trigger';
  columns: string[];
  definition: string;
}

export interface TableDetail {
  schema: string;
  name: string;
  type: RelationType;
  comment: string | null;
  estimated_rows: number | null;
  size: { total_bytes: number; table_bytes: number; index_bytes: number; total: string } | null;
  columns: ColumnDetail[];
  primary_key: { name: string; columns: string[] } | null;
  foreign_keys: ForeignKey[];
  referenced_by: IncomingForeignKey[];
  indexes: IndexDetail[];
  constraints: ConstraintDetail[];
  /** The SELECT behind a view or materialized view. */
  view_definition: string | null;
}

interface Candidate {
  oid: string;
  schema: string;
  name: string;
  visible: boolean;
}

async function findRelation(q: Querier, table: string, schema: string | undefined): Promise<Candidate[]> {
  return q.query<Candidate>(
    `SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name, pg_table_is_visible(c.oid) AS visible
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND ($2::text IS NULL OR n.nspname = $2::text)
      ORDER BY n.nspname`,
    [table, schema ?? null],
  );
}

/** Resolves a table name as a user means it: exact name, search_path first, `schema.table` as a fallback. */
async function resolveRelation(q: Querier, table: string, schema: string | undefined): Promise<Candidate> {
  let candidates = await findRelation(q, table, schema);
  const dot = table.indexOf('.');
  if (candidates.length === 0 && schema === undefined && dot > 0) {
    candidates = await findRelation(q, table.slice(dot + 1), table.slice(0, dot));
  }
  if (candidates.length > 1) {
    const visible = candidates.filter((candidate) => candidate.visible);
    if (visible.length === 1 && visible[0]) return visible[0];
    throw new DatabaseError(
      'INVALID_INPUT',
      `Table "${table}" exists in several schemas (${candidates.map((c) => c.schema).join(', ')}); pass schema to choose one.`,
    );
  }
  const [only] = candidates;
  if (only) return only;
  const similar = await q.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND strpos(lower(c.relname), lower($1)) > 0
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      ORDER BY length(c.relname) LIMIT 5`,
    [table.slice(dot + 1)],
  );
  const where = schema === undefined ? '' : ` in schema "${schema}"`;
  const hint = similar.length > 0 ? ` Similar: ${similar.map((row) => row.name).join(', ')}.` : '';
  throw new DatabaseError('NOT_FOUND', `Table or view "${table}"${where} does not exist.${hint}`);
}

const CONSTRAINT_TYPES: Record<string, ConstraintDetail['type']> = {
  p: 'primary_key',
  f: 'foreign_key',
  u: 'unique',
  c: 'check',
  x: 'exclusion',
  t: 'trigger',
};

const FK_ACTIONS: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

const columnNames = (relation: string, keys: string) => `ARRAY(
  SELECT a.attname::text FROM unnest(${keys}) WITH ORDINALITY k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = ${relation} AND a.attnum = k.attnum ORDER BY k.ord)`;

export async function tableInfo(q: Querier, table: string, schema: string | undefined): Promise<TableDetail> {
  const relation = await resolveRelation(q, table, schema);
  const oid = relation.oid;

  const [head] = await q.query<{
    type: RelationType;
    comment: string | null;
    estimated_rows: number | null;
    total_bytes: number | null;
    table_bytes: number | null;
    index_bytes: number | null;
    total: string | null;
    view_definition: string | null;
  }>(
    `SELECT ${RELKIND_SQL} AS type,
            left(obj_description(c.oid, 'pg_class'), ${COMMENT_LIMIT}) AS comment,
            CASE WHEN c.relkind IN ('v', 'f') OR c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END AS estimated_rows,
            CASE WHEN c.relkind IN ('r', 'm', 'p') THEN pg_total_relation_size(c.oid)::float8 END AS total_bytes,
            CASE WHEN c.relkind IN ('r', 'm', 'p') THEN pg_relation_size(c.oid)::float8 END AS table_bytes,
            CASE WHEN c.relkind IN ('r', 'm', 'p') THEN pg_indexes_size(c.oid)::float8 END AS index_bytes,
            CASE WHEN c.relkind IN ('r', 'm', 'p') THEN pg_size_pretty(pg_total_relation_size(c.oid)) END AS total,
            CASE WHEN c.relkind IN ('v', 'm') THEN left(pg_get_viewdef(c.oid, true), ${DEFINITION_LIMIT}) END AS view_definition
       FROM pg_class c WHERE c.oid = $1::oid`,
    [oid],
  );

  const columns = await q.query<{
    name: string;
    type: string;
    nullable: boolean;
    expression: string | null;
    identity: string;
    generated: string;
    comment: string | null;
  }>(
    `SELECT a.attname AS name,
            format_type(a.atttypid, a.atttypmod) AS type,
            NOT a.attnotnull AS nullable,
            pg_get_expr(d.adbin, d.adrelid) AS expression,
            a.attidentity::text AS identity,
            a.attgenerated::text AS generated,
            left(col_description(a.attrelid, a.attnum), ${COMMENT_LIMIT}) AS comment
       FROM pg_attribute a
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );

  const constraints = await q.query<{
    name: string;
    contype: string;
    definition: string;
    columns: string[];
    ref_schema: string | null;
    ref_table: string | null;
    ref_columns: string[];
    on_update: string;
    on_delete: string;
  }>(
    `SELECT con.conname AS name,
            con.contype::text AS contype,
            pg_get_constraintdef(con.oid, true) AS definition,
            ${columnNames('con.conrelid', 'con.conkey')} AS columns,
            fn.nspname AS ref_schema,
            fc.relname AS ref_table,
            ${columnNames('con.confrelid', 'con.confkey')} AS ref_columns,
            con.confupdtype::text AS on_update,
            con.confdeltype::text AS on_delete
       FROM pg_constraint con
       LEFT JOIN pg_class fc ON fc.oid = con.confrelid
       LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
      WHERE con.conrelid = $1::oid AND con.contype <> 'n'
      ORDER BY con.contype, con.conname`,
    [oid],
  );

  const referencedBy = await q.query<IncomingForeignKey>(
    `SELECT con.conname AS name, n.nspname AS schema, c.relname AS table,
            ${columnNames('con.conrelid', 'con.conkey')} AS columns,
            ${columnNames('con.confrelid', 'con.confkey')} AS referenced_columns
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE con.confrelid = $1::oid AND con.contype = 'f'
      ORDER BY n.nspname, c.relname, con.conname`,
    [oid],
  );

  const indexes = await q.query<IndexDetail>(
    `SELECT ic.relname AS name,
            pg_get_indexdef(i.indexrelid) AS definition,
            i.indisunique AS unique,
            i.indisprimary AS primary,
            i.indisvalid AS valid,
            pg_relation_size(i.indexrelid)::float8 AS size_bytes,
            s.idx_scan::float8 AS scans
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
      WHERE i.indrelid = $1::oid
      ORDER BY ic.relname`,
    [oid],
  );

  const primary = constraints.find((row) => row.contype === 'p');
  return {
    schema: relation.schema,
    name: relation.name,
    type: head?.type ?? 'table',
    comment: head?.comment ?? null,
    estimated_rows: head?.estimated_rows ?? null,
    size:
      head?.total_bytes == null
        ? null
        : {
            total_bytes: head.total_bytes,
            table_bytes: head.table_bytes ?? 0,
            index_bytes: head.index_bytes ?? 0,
            total: head.total ?? '',
          },
    columns: columns.map((column) => ({
      name: column.name,
      type: column.type,
      nullable: column.nullable,
      default: column.generated ? null : column.expression,
      identity: column.identity === 'a' ? 'always' : column.identity === 'd' ? 'by_default' : null,
      generated: column.generated ? column.expression : null,
      comment: column.comment,
    })),
    primary_key: primary ? { name: primary.name, columns: primary.columns } : null,
    foreign_keys: constraints
      .filter((row) => row.contype === 'f')
      .map((row) => ({
        name: row.name,
        columns: row.columns,
        references: { schema: row.ref_schema ?? '', table: row.ref_table ?? '', columns: row.ref_columns },
        on_update: FK_ACTIONS[row.on_update] ?? row.on_update,
        on_delete: FK_ACTIONS[row.on_delete] ?? row.on_delete,
      })),
    referenced_by: referencedBy,
    indexes,
    constraints: constraints.map((row) => ({
      name: row.name,
      type: CONSTRAINT_TYPES[row.contype] ?? 'check',
      columns: row.columns,
      definition: row.definition,
    })),
    view_definition: head?.view_definition ?? null,
  };
}
