import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresDatabase } from '../src/database.js';
import { DatabaseError } from '../src/errors.js';
import { listDatabases, listSchemas, listTables, tableInfo } from '../src/introspection.js';
import { startPgBackend } from './helpers/pg-backend.js';

const backend = await startPgBackend();
const db = new PostgresDatabase({
  connectionString: backend.url,
  accessMode: 'read_only',
  statementTimeoutMs: 5000,
  maxRows: 100,
  poolMax: 2,
  idleTimeoutMs: 10_000,
  connectTimeoutMs: 3000,
  applicationName: 'mcp-postgres-test',
  maxResultBytes: 4 * 1024 * 1024,
});

async function refusal(promise: Promise<unknown>): Promise<DatabaseError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DatabaseError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  for (const sql of [
    'CREATE SCHEMA shop',
    "COMMENT ON SCHEMA shop IS 'the shop'",
    `CREATE TABLE shop.customers (
       id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       email text NOT NULL UNIQUE,
       name text DEFAULT 'anonymous',
       created_at timestamptz NOT NULL DEFAULT now()
     )`,
    "COMMENT ON TABLE shop.customers IS 'people who buy'",
    "COMMENT ON COLUMN shop.customers.email IS 'login'",
    `CREATE TABLE shop.orders (
       id bigserial PRIMARY KEY,
       customer_id int NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
       quantity int NOT NULL CHECK (quantity > 0),
       unit_price numeric(10, 2) NOT NULL,
       total numeric(12, 2) GENERATED ALWAYS AS (quantity * unit_price) STORED
     )`,
    'CREATE INDEX orders_customer_idx ON shop.orders (customer_id)',
    'CREATE VIEW shop.big_orders AS SELECT id, total FROM shop.orders WHERE total > 100',
    'CREATE MATERIALIZED VIEW shop.order_totals AS SELECT customer_id, sum(total) AS total FROM shop.orders GROUP BY 1',
    'CREATE TABLE public.customers (id int PRIMARY KEY)',
    'CREATE TABLE shop.events (id int, at date) PARTITION BY RANGE (at)',
    "CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "INSERT INTO shop.customers (email) VALUES ('a@example.com'), ('b@example.com')",
    'INSERT INTO shop.orders (customer_id, quantity, unit_price) VALUES (1, 2, 10.00), (2, 1, 150.00)',
    'ANALYZE shop.customers',
  ]) {
    await backend.admin(sql);
  }
});

afterAll(async () => {
  await db.close();
  await backend.close();
});

describe(`introspection on ${backend.kind}`, () => {
  it('lists databases with owner, encoding and size, marking the current one', async () => {
    const databases = await db.read((q) => listDatabases(q));
    const current = databases.filter((database) => database.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ encoding: 'UTF8', allow_connections: true });
    expect(current[0]?.size_bytes).toBeGreaterThan(0);
    expect(current[0]?.size).toMatch(/\d+ (bytes|kB|MB)/);
    expect(typeof current[0]?.owner).toBe('string');
  });

  it('lists schemas, system ones last, with relation counts and comments', async () => {
    const schemas = await db.read((q) => listSchemas(q));
    const shop = schemas.find((schema) => schema.name === 'shop');
    expect(shop).toMatchObject({ system: false, usable: true, comment: 'the shop' });
    // customers, orders, big_orders, order_totals, events, events_2024
    expect(shop?.relations).toBe(6);
    const names = schemas.map((schema) => schema.name);
    expect(names.indexOf('public')).toBeLessThan(names.indexOf('pg_catalog'));
    expect(names.some((name) => name.startsWith('pg_toast'))).toBe(false);
  });

  it('lists the tables and views of one schema with types, estimates and sizes', async () => {
    const { tables, truncated } = await db.read((q) => listTables(q, 'shop'));
    expect(truncated).toBe(false);
    expect(tables.map((table) => [table.name, table.type])).toEqual([
      ['big_orders', 'view'],
      ['customers', 'table'],
      ['events', 'partitioned_table'],
      ['order_totals', 'materialized_view'],
      ['orders', 'table'],
    ]);
    const customers = tables.find((table) => table.name === 'customers');
    expect(customers).toMatchObject({ schema: 'shop', estimated_rows: 2, comment: 'people who buy' });
    expect(customers?.size_bytes).toBeGreaterThan(0);
    expect(tables.find((table) => table.name === 'big_orders')).toMatchObject({
      estimated_rows: null,
      size_bytes: null,
    });
    expect(tables.find((table) => table.name === 'events')?.partitions).toBe(1);
  });

  it('lists every non-system schema when no schema is given', async () => {
    const { tables } = await db.read((q) => listTables(q, undefined));
    const names = tables.map((table) => `${table.schema}.${table.name}`);
    expect(names).toContain('public.customers');
    expect(names).toContain('shop.orders');
    expect(names.some((name) => name.startsWith('pg_catalog.') || name.startsWith('information_schema.'))).toBe(false);
  });

  it('says which schema does not exist', async () => {
    const error = await refusal(db.read((q) => listTables(q, 'nope')));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('Schema "nope" does not exist. list_schemas shows the schemas.');
  });

  it('describes a table: columns, keys, indexes, constraints, size', async () => {
    const info = await db.read((q) => tableInfo(q, 'orders', 'shop'));
    expect(info).toMatchObject({ schema: 'shop', name: 'orders', type: 'table', view_definition: null });
    expect(info.columns).toEqual([
      {
        name: 'id',
        type: 'bigint',
        nullable: false,
        default: "nextval('shop.orders_id_seq'::regclass)",
        identity: null,
        generated: null,
        comment: null,
      },
      {
        name: 'customer_id',
        type: 'integer',
        nullable: false,
        default: null,
        identity: null,
        generated: null,
        comment: null,
      },
      {
        name: 'quantity',
        type: 'integer',
        nullable: false,
        default: null,
        identity: null,
        generated: null,
        comment: null,
      },
      {
        name: 'unit_price',
        type: 'numeric(10,2)',
        nullable: false,
        default: null,
        identity: null,
        generated: null,
        comment: null,
      },
      {
        name: 'total',
        type: 'numeric(12,2)',
        nullable: true,
        default: null,
        identity: null,
        generated: '((quantity)::numeric * unit_price)',
        comment: null,
      },
    ]);
    expect(info.primary_key).toEqual({ name: 'orders_pkey', columns: ['id'] });
    expect(info.foreign_keys).toEqual([
      {
        name: 'orders_customer_id_fkey',
        columns: ['customer_id'],
        references: { schema: 'shop', table: 'customers', columns: ['id'] },
        on_update: 'no action',
        on_delete: 'cascade',
      },
    ]);
    expect(info.constraints.map((constraint) => [constraint.type, constraint.name])).toEqual([
      ['check', 'orders_quantity_check'],
      ['foreign_key', 'orders_customer_id_fkey'],
      ['primary_key', 'orders_pkey'],
    ]);
    expect(info.constraints[0]?.definition).toBe('CHECK (quantity > 0)');
    expect(info.indexes.map((index) => [index.name, index.unique, index.primary, index.valid])).toEqual([
      ['orders_customer_idx', false, false, true],
      ['orders_pkey', true, true, true],
    ]);
    expect(info.indexes[0]?.definition).toBe(
      'CREATE INDEX orders_customer_idx ON shop.orders USING btree (customer_id)',
    );
    expect(info.size?.total_bytes).toBeGreaterThan(0);
  });

  it('shows identity columns, column comments and incoming foreign keys', async () => {
    const info = await db.read((q) => tableInfo(q, 'customers', 'shop'));
    expect(info.columns[0]).toMatchObject({ name: 'id', identity: 'always', default: null });
    expect(info.columns.find((column) => column.name === 'email')?.comment).toBe('login');
    expect(info.columns.find((column) => column.name === 'name')?.default).toBe("'anonymous'::text");
    expect(info.referenced_by).toEqual([
      {
        name: 'orders_customer_id_fkey',
        schema: 'shop',
        table: 'orders',
        columns: ['customer_id'],
        referenced_columns: ['id'],
      },
    ]);
    expect(info.estimated_rows).toBe(2);
  });

  it('describes a view with its definition', async () => {
    const info = await db.read((q) => tableInfo(q, 'big_orders', 'shop'));
    expect(info).toMatchObject({ type: 'view', size: null, primary_key: null });
    // PostgreSQL 15 qualifies column names in view definitions, 16 and later do not.
    expect(info.view_definition).toMatch(/WHERE (orders\.)?total > 100/);
  });

  it('resolves names through search_path, schema.table, or asks to disambiguate', async () => {
    // public.customers is visible through search_path, so the bare name picks it.
    expect((await db.read((q) => tableInfo(q, 'customers', undefined))).schema).toBe('public');
    expect((await db.read((q) => tableInfo(q, 'shop.orders', undefined))).name).toBe('orders');
    await backend.admin('CREATE SCHEMA other');
    await backend.admin('CREATE TABLE other.twin (a int)');
    await backend.admin('CREATE TABLE shop.twin (a int)');
    const error = await refusal(db.read((q) => tableInfo(q, 'twin', undefined)));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe('Table "twin" exists in several schemas (other, shop); pass schema to choose one.');
  });

  it('suggests similar names for a missing table', async () => {
    const error = await refusal(db.read((q) => tableInfo(q, 'order', undefined)));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe(
      'Table or view "order" does not exist. Similar: shop.orders, shop.big_orders, shop.order_totals.',
    );
    const inSchema = await refusal(db.read((q) => tableInfo(q, 'orders', 'public')));
    expect(inSchema.message).toBe(
      'Table or view "orders" in schema "public" does not exist. Similar: shop.orders, shop.big_orders.',
    );
  });
});
