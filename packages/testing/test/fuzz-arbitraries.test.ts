/**
 * The fuzz harness's own checks: arguments generated as well-shaped pass the zod schema the JSON
 * Schema was made from, and those generated as ill-shaped fail it (a fuzzer whose "invalid" values
 * were valid would test nothing it claims to).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { invalidValue, type JsonSchema, seedFor, validValue } from '../src/index.js';

const schema = z
  .object({
    name: z.string().min(1).max(64),
    slug: z.string().regex(/^[a-z_]{1,16}$/),
    limit: z.number().int().min(1).max(100).optional(),
    ratio: z.number().min(0).max(1).optional(),
    mode: z.enum(['a', 'b']).optional(),
    tags: z.array(z.string().max(8)).max(3).optional(),
    filters: z.record(z.string().max(10), z.union([z.string().max(20), z.number()])).optional(),
    when: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
const jsonSchema = z.toJSONSchema(schema) as JsonSchema;

describe('schema arbitraries', () => {
  it('well-shaped values pass the schema they come from', () => {
    fc.assert(
      fc.property(validValue(jsonSchema), (value) => {
        const parsed = schema.safeParse(value);
        expect(parsed.success, `${JSON.stringify(value)}: ${parsed.error?.message}`).toBe(true);
      }),
      { numRuns: 300, seed: seedFor(16, 'valid') },
    );
  });

  it('ill-shaped values fail it', () => {
    fc.assert(
      fc.property(invalidValue(jsonSchema), (value) => {
        expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(false);
      }),
      { numRuns: 300, seed: seedFor(16, 'invalid') },
    );
  });

  it('mixes the known values in under their property names', () => {
    const seen = fc.sample(validValue(jsonSchema, { known: { name: ['users'] } }), { numRuns: 100, seed: 1 });
    expect(seen.filter((v) => (v as { name: string }).name === 'users').length).toBeGreaterThan(20);
  });
});
