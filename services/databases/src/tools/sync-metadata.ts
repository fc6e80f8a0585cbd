import { z } from 'zod';

import { defineDatabasesTool, engineSchema, serverName } from './define.js';

export const syncMetadata = defineDatabasesTool({
  name: 'sync_metadata',
  title: 'Sync the metadata registry',
  toolset: 'admin',
  description:
    'Reads the catalog of one server (or of every server) now and updates the registry: databases, schemas, tables, ' +
    'columns, keys, indexes and row estimates. Cached answers that depended on what changed are invalidated. A server ' +
    'that cannot be reached is reported (and marked down) without holding up the others.',
  input: z.object({ server: serverName.optional().describe('One server (default: all).') }),
  output: z.object({
    results: z.array(
      z.object({
        server: z.string(),
        engine: engineSchema,
        ok: z.boolean(),
        error: z.string().nullable(),
        databases: z.number().int(),
        tables: z.number().int(),
        changed: z.boolean(),
        duration_ms: z.number(),
      }),
    ),
  }),
  // It writes the service's own registry, never the servers' data.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ server }, ctx) => {
    const { databases } = ctx.deps;
    return { results: server === undefined ? await databases.syncAll() : [await databases.sync(server)] };
  },
});
