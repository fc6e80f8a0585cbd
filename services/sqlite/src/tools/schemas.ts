import { z } from 'zod';

import { FILTER_OPERATORS } from '../filters.js';

export const tableNameSchema = z.string().min(1).max(256).describe('Name of an existing table');

export const rowSchema = z.record(z.string(), z.unknown());

export const filtersSchema = z
  .record(z.string(), z.unknown())
  .describe(
    `Conditions AND-ed together. {"column": value} matches equality (null matches IS NULL); ` +
      `{"column": {"op": value}} uses an operator: ${FILTER_OPERATORS.join(', ')} ` +
      `(in/not_in take an array, like takes a pattern with % and _, is_null takes true/false). ` +
      `"rowid" may be used on tables that have one.`,
  );

export const dataSchema = z
  .record(z.string(), z.unknown())
  .describe('Column → value. Booleans are stored as 1/0, objects and arrays as JSON text.');

export const readAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;
