import { rpc } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ClientTransportKind, connectClient, type Harness, ok, startHarness } from './helpers/harness.js';

/** Every write tool, with arguments that would succeed on a writable server. */
const WRITES: [string, Record<string, unknown>][] = [
  ['create_issue', { owner: 'octo-org', repo: 'hello', title: 'Should not exist' }],
  ['add_issue_comment', { owner: 'octo-org', repo: 'hello', number: 1, body: 'Should not exist' }],
  ['update_issue', { owner: 'octo-org', repo: 'hello', number: 1, state: 'closed' }],
  ['create_pull_request', { owner: 'octo-org', repo: 'hello', title: 'Nope', head: 'topic-1', base: 'main' }],
];

/** What the writes would change: the stand-in's issues and pull requests, as JSON. */
const dump = (h: Harness) => JSON.stringify(h.standIn.world.repos.get('octo-org/hello')?.issues);

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('MCP_READ_ONLY=true over %s', (kind) => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness({ MCP_READ_ONLY: 'true' });
    client = await connectClient(h.svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  it('lists no write tool, in any toolset', async () => {
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(19);
    for (const [name] of WRITES) expect(tools.map((tool) => tool.name)).not.toContain(name);
    for (const tool of tools) expect(tool.annotations?.readOnlyHint).toBe(true);
  });

  it('refuses every write tool at call time, and nothing reaches GitHub', async () => {
    const before = dump(h);
    const requests = h.standIn.requests.length;
    for (const [name, args] of WRITES) {
      await expect(client.callTool({ name, arguments: args })).rejects.toThrow(`Unknown tool: ${name}`);
      const viaRpc = await rpc(h.svc.url, 'tools/call', { name, arguments: args });
      expect(viaRpc.body).toMatchObject({ error: { code: -32602, message: `Unknown tool: ${name}` } });
    }
    expect(h.standIn.requests.length).toBe(requests);
    expect(dump(h)).toBe(before);
  });

  it('still reads', async () => {
    expect(await ok(client, 'get_issue', { owner: 'octo-org', repo: 'hello', number: 1 })).toMatchObject({
      issue: { number: 1, state: 'open' },
    });
  });
});
