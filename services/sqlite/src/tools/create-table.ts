import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { describeTable } from './describe-table.js';

export const createTable = defineSqliteTool({
  name: 'create_table',
  title: 'Create a table',
  toolset: 'write',
  description:
    'Creates a table. `schema` maps each column name to its type and constraints, e.g. ' +
    '{"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "email": "TEXT NOT NULL UNIQUE", "owner_id": "INTEGER REFERENCES users(id) ON DELETE CASCADE"}. ' +
    'Allowed: a type (INTEGER, TEXT, REAL, BLOB, NUMERIC, VARCHAR(n), …), PRIMARY KEY [ASC|DESC] [AUTOINCREMENT], ' +
    "NOT NULL, NULL, UNIQUE, DEFAULT (number, 'string', NULL, TRUE, FALSE, CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME), " +
    'COLLATE BINARY|NOCASE|RTRIM, REFERENCES table(column) [ON DELETE|ON UPDATE action]. CHECK is not supported. ' +
    'Use primary_key for a composite key. Names: letters, digits and underscores, up to 64 characters.',
  input: z.object({
    table_name: z
      .string()
      .min(1)
      .max(64)
      .describe('New table name: ^[A-Za-z_][A-Za-z0-9_]{0,63}$, not starting with sqlite_'),
    schema: z
      .record(z.string(), z.string().max(1000))
      .describe('Column name → "TYPE constraints…", e.g. {"name": "TEXT NOT NULL"}'),
    primary_key: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe('Column or columns of the primary key, when no column says PRIMARY KEY'),
  }),
  output: describeTable.output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handler: async ({ table_name, schema, primary_key }, ctx) =>
    ctx.deps.db.createTable(table_name, schema, primary_key, ctx.signal),
});
