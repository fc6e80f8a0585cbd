import { z } from 'zod';

import { tableInfo as describeTable } from '../introspection.js';
import { definePostgresTool, readAnnotations } from './define.js';
import { relationTypeSchema } from './list-tables.js';
import { identifierSchema } from './schemas.js';

const names = z.array(z.string());

export const tableInfo = definePostgresTool({
  name: 'table_info',
  title: 'Describe a table',
  toolset: 'read',
  description:
    'Describes one table or view: columns (type, nullable, default, identity, generated expression, comment), ' +
    'primary key, foreign keys (outgoing and incoming), indexes (definition, unique, valid, size, scans), ' +
    'constraints, estimated rows, size and, for views, the definition. Without schema, the name resolves through ' +
    'search_path; "schema.table" also works.',
  input: z.object({
    table: identifierSchema.describe('Table or view name as stored (case-sensitive), e.g. "orders".'),
    schema: identifierSchema.optional().describe('Schema name; needed when the name exists in several schemas.'),
  }),
  output: z.object({
    schema: z.string(),
    name: z.string(),
    type: relationTypeSchema,
    comment: z.string().nullable(),
    estimated_rows: z.number().nullable(),
    size: z
      .object({ total_bytes: z.number(), table_bytes: z.number(), index_bytes: z.number(), total: z.string() })
      .nullable(),
    columns: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        nullable: z.boolean(),
        default: z.string().nullable(),
        identity: z.enum(['always', 'by_default']).nullable(),
        generated: z.string().nullable(),
        comment: z.string().nullable(),
      }),
    ),
    primary_key: z.object({ name: z.string(), columns: names }).nullable(),
    foreign_keys: z.array(
      z.object({
        name: z.string(),
        columns: names,
        references: z.object({ schema: z.string(), table: z.string(), columns: names }),
        on_update: z.string(),
        on_delete: z.string(),
      }),
    ),
    referenced_by: z.array(
      z.object({ name: z.string(), schema: z.string(), table: z.string(), columns: names, referenced_columns: names }),
    ),
    indexes: z.array(
      z.object({
        name: z.string(),
        definition: z.string(),
        unique: z.boolean(),
        primary: z.boolean(),
        valid: z.boolean(),
        size_bytes: z.number(),
        scans: z.number().nullable(),
      }),
    ),
    constraints: z.array(
      z.object({
        name: z.string(),
        type: z.enum(['primary_key', 'foreign_key', 'unique', 'check', 'exclusion', 'trigger']),
        columns: names,
        definition: z.string(),
      }),
    ),
    view_definition: z.string().nullable(),
  }),
  annotations: readAnnotations,
  handler: async ({ table, schema }, ctx) => ctx.deps.db.read((q) => describeTable(q, table, schema), ctx.signal),
});
