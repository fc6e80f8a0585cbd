/**
 * The registry's schema, as numbered migrations applied in order at start-up (registry.ts,
 * migrate()). Each runs once, in one transaction, recorded with its checksum in
 * `<schema>.schema_migrations`; a changed migration that was already applied stops the start.
 * Never edit an applied migration: add the next number. `__SCHEMA__` is the registry schema.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'servers, databases, schemas, tables, columns, constraints, indexes',
    sql: `
CREATE TABLE __SCHEMA__.servers (
  name text PRIMARY KEY,
  engine text NOT NULL CHECK (engine IN ('postgres', 'mysql', 'mssql')),
  host text NOT NULL,
  port integer NOT NULL,
  username text NOT NULL,
  access text NOT NULL CHECK (access IN ('read_only', 'read_write')),
  tags text[] NOT NULL DEFAULT '{}',
  include_patterns text[] NOT NULL DEFAULT '{}',
  exclude_patterns text[] NOT NULL DEFAULT '{}',
  description text NOT NULL DEFAULT '',
  password_cipher text,
  password_key_id text,
  generation bigint NOT NULL DEFAULT 0,
  last_sync_started_at timestamptz,
  last_sync_finished_at timestamptz,
  last_sync_ok boolean,
  last_sync_error text,
  last_sync_ms integer,
  last_sync_databases integer,
  last_sync_tables integer,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE __SCHEMA__.databases (
  server text NOT NULL REFERENCES __SCHEMA__.servers (name) ON DELETE CASCADE,
  name text NOT NULL,
  catalog_hash text NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server, name)
);

CREATE TABLE __SCHEMA__.schemas (
  server text NOT NULL,
  database text NOT NULL,
  name text NOT NULL,
  PRIMARY KEY (server, database, name),
  FOREIGN KEY (server, database) REFERENCES __SCHEMA__.databases (server, name) ON DELETE CASCADE
);

CREATE TABLE __SCHEMA__.tables (
  server text NOT NULL,
  database text NOT NULL,
  schema text NOT NULL,
  name text NOT NULL,
  kind text NOT NULL,
  row_estimate double precision,
  comment text,
  PRIMARY KEY (server, database, schema, name),
  FOREIGN KEY (server, database, schema) REFERENCES __SCHEMA__.schemas (server, database, name) ON DELETE CASCADE
);
CREATE INDEX tables_lower_name ON __SCHEMA__.tables (lower(name));

CREATE TABLE __SCHEMA__.columns (
  server text NOT NULL,
  database text NOT NULL,
  schema text NOT NULL,
  table_name text NOT NULL,
  name text NOT NULL,
  ordinal integer NOT NULL,
  data_type text NOT NULL,
  nullable boolean NOT NULL,
  default_value text,
  PRIMARY KEY (server, database, schema, table_name, name),
  FOREIGN KEY (server, database, schema, table_name)
    REFERENCES __SCHEMA__.tables (server, database, schema, name) ON DELETE CASCADE
);
CREATE INDEX columns_lower_name ON __SCHEMA__.columns (lower(name));

CREATE TABLE __SCHEMA__.constraints (
  server text NOT NULL,
  database text NOT NULL,
  schema text NOT NULL,
  table_name text NOT NULL,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('primary_key', 'foreign_key', 'unique')),
  columns text[] NOT NULL,
  ref_schema text,
  ref_table text,
  ref_columns text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (server, database, schema, table_name, name),
  FOREIGN KEY (server, database, schema, table_name)
    REFERENCES __SCHEMA__.tables (server, database, schema, name) ON DELETE CASCADE
);

CREATE TABLE __SCHEMA__.indexes (
  server text NOT NULL,
  database text NOT NULL,
  schema text NOT NULL,
  table_name text NOT NULL,
  name text NOT NULL,
  is_unique boolean NOT NULL,
  is_primary boolean NOT NULL,
  columns text[] NOT NULL,
  PRIMARY KEY (server, database, schema, table_name, name),
  FOREIGN KEY (server, database, schema, table_name)
    REFERENCES __SCHEMA__.tables (server, database, schema, name) ON DELETE CASCADE
);
`,
  },
];
