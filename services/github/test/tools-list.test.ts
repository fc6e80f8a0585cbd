import { toolsListOf } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { service } from '../src/service.js';

describe('tools/list', () => {
  // A change to a tool's name, schema or annotations shows up in review as a diff of this file
  // (`pnpm vitest run -u` rewrites it).
  it('matches the reviewed snapshot (every toolset)', async () => {
    await expect(`${JSON.stringify(toolsListOf(service, { GITHUB_TOKEN: 'unused' }), null, 2)}\n`).toMatchFileSnapshot(
      '__snapshots__/tools-list.json',
    );
  });
});
