import { toolsListOf } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { service } from '../src/service.js';

describe('tools/list', () => {
  // Listing needs no database: the URL is only there to pass the config.
  // A change to a tool's name, schema or annotations shows up in review as a diff of this file
  // (`pnpm vitest run -u` rewrites it).
  it('matches the reviewed snapshot (every toolset)', async () => {
    await expect(
      `${JSON.stringify(toolsListOf(service, { DATABASE_URL: 'postgres://snapshot@127.0.0.1/none' }), null, 2)}\n`,
    ).toMatchFileSnapshot('__snapshots__/tools-list.json');
  });
});
