import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { databaseName, defineDatabasesTool, engineSchema, schemaName, serverName, tableName } from './define.js';

const names = z.array(z.string());

export const describeTable = defineDatabasesTool({
  name: 'describe_table',
  title: 'Describe a table',
  toolset: 'catalog',
  description:
    'Describes one table or view from the registry: columns (type, nullable, default), primary key, foreign keys, ' +
    'unique constraints, indexes and the row estimate. The table may be given as "schema.table"; pass schema when ' +
    'the name exists in several schemas.',
  input: z.object({
    server: serverName,
    database: databaseName,
    table: tableName.describe('Table or view name as stored, or "schema.table".'),
    schema: schemaName.optional(),
  }),
  output: z.object({
    server: z.string(),
    engine: engineSchema,
    database: z.string(),
    schema: z.string(),
    table: z.string(),
    kind: z.string(),
    row_estimate: z.number().nullable(),
    comment: z.string().nullable(),
    columns: z.array(
      z.object({ name: z.string(), type: z.string(), nullable: z.boolean(), default: z.string().nullable() }),
    ),
    primary_key: z.object({ name: z.string(), columns: names }).nullable(),
    foreign_keys: z.array(
      z.object({
        name: z.string(),
        columns: names,
        references: z.object({ schema: z.string(), table: z.string(), columns: names }),
      }),
    ),
    unique_constraints: z.array(z.object({ name: z.string(), columns: names })),
    indexes: z.array(z.object({ name: z.string(), unique: z.boolean(), primary: z.boolean(), columns: names })),
    cached: z.boolean(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ server, database, table, schema }, ctx) =>
    ctx.deps.databases.describeTable(server, database, table, schema),
});
