import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Values bound to $1, $2, ...: JSON scalars, arrays of scalars (PostgreSQL arrays) or objects (json/jsonb). */
export const paramsSchema = z
  .array(z.union([scalar, z.array(scalar), z.record(z.string(), z.unknown())]))
  .max(1000)
  .default([])
  .describe('Values for $1, $2, ... in order. Arrays bind as PostgreSQL arrays, objects as JSON.');

export const sqlSchema = z.string().min(1).max(100_000);

/** A PostgreSQL identifier as written in the catalog (not quoted, case-sensitive). */
export const identifierSchema = z.string().min(1).max(128);

export const accessModeSchema = z.enum(['read_only', 'read_write']);
