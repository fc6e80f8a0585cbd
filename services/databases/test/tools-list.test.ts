import { toolsListOf } from '@mcp-sse/testing';
import { describe, expect, it } from 'vitest';

import { service } from '../src/service.js';

describe('tools/list', () => {
  // Listing needs no server, registry or Redis. A change to a tool's name, schema or annotations shows
  // up in review as a diff of this file (`pnpm exec vitest run -u` rewrites it).
  it('matches the reviewed snapshot (every toolset)', async () => {
    await expect(`${JSON.stringify(toolsListOf(service), null, 2)}\n`).toMatchFileSnapshot(
      '__snapshots__/tools-list.json',
    );
  });

  it('execute_sql is read-only unless DATABASES_ALLOW_WRITE=true', () => {
    const annotations = (env: Record<string, string>) =>
      toolsListOf(service, env).find((tool) => tool.name === 'execute_sql')?.annotations;
    expect(annotations({})).toEqual({
      title: 'Run SQL on a server',
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(annotations({ DATABASES_ALLOW_WRITE: 'true' })).toEqual({
      title: 'Run SQL on a server',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
      openWorldHint: false,
    });
  });
});
