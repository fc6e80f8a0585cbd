/**
 * Hostile patterns through the real service, over /sse and /mcp: globs over every limit (brace
 * bombs, nesting, extglobs, globstars, classes) are refused before anything is read, so the sandbox
 * itself is untouched (not even listed: access times are compared) and so are the canary
 * directories around it. Accepted but costly patterns finish, change nothing, and leak nothing.
 */
import { type ClientTransportKind, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { differences, type Fingerprint, fingerprint, type Layout, makeLayout, SECRET } from './helpers/sandbox.js';

const BOMBS = [
  '{a,b}{c,d}{e,f}'.repeat(15),
  '{a,b}'.repeat(9),
  '{1..100000000}',
  '{0..9}{0..9}{0..9}',
  `${'{'.repeat(9)}a,b${'}'.repeat(9)}`,
  '{x}'.repeat(33),
  '+(a|aa)+(a|aa)+(a|aa)+(a|aa)b',
  '@(a|b)',
  '**/a/'.repeat(17),
  `[${'a'.repeat(65)}]`,
  'a'.repeat(1001),
];

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('hostile patterns over %s', (kind) => {
  let layout: Layout;
  let svc: StartedService;
  let client: Client;
  let before: Record<'ws' | 'outside' | 'sibling' | 'ro', Fingerprint>;
  const replies: string[] = [];

  beforeAll(async () => {
    layout = await makeLayout();
    svc = await startService(service, { env: { ALLOWED_PATHS: `${layout.ws}:rw,${layout.ro}:ro` } });
    client = await connectClient(svc.url, kind);
  });
  afterAll(async () => {
    await client.close();
    await svc.close();
    await layout.cleanup();
  });
  beforeEach(async () => {
    before = {
      ws: await fingerprint(layout.ws),
      outside: await fingerprint(layout.outside),
      sibling: await fingerprint(layout.sibling),
      ro: await fingerprint(layout.ro),
    };
  });
  afterEach(async () => {
    expect(await differences(layout.outside, before.outside)).toEqual([]);
    expect(await differences(layout.sibling, before.sibling)).toEqual([]);
    expect(await differences(layout.ro, before.ro)).toEqual([]);
    for (const reply of replies.splice(0)) expect(reply).not.toContain(SECRET);
  });

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as {
      isError?: boolean;
      content: { text?: string }[];
    };
    replies.push(JSON.stringify(result));
    return { isError: result.isError === true, text: result.content[0]?.text ?? '' };
  };

  it('globs over the limits are refused before the sandbox is even listed', async () => {
    for (const bomb of BOMBS) {
      for (const [name, args] of [
        ['search_files', { path: '.', pattern: bomb }],
        ['search_files', { path: '.', pattern: '*', exclude: ['x', bomb] }],
        ['directory_tree', { path: '.', max_depth: 5, exclude: [bomb] }],
        ['grep_files', { path: '.', regex: 'x', glob: bomb }],
      ] as const) {
        const reply = await call(name, args);
        expect(reply.isError, `${name} ${bomb.slice(0, 40)}`).toBe(true);
        expect(reply.text).toMatch(
          /brace groups|expands to more than|nest more than|Extended globs|\*\* segments|items|1 to 1000 characters|Too big|at most 1000/,
        );
      }
    }
    // Not read, not listed, not changed: access times included.
    expect(await differences(layout.ws, before.ws)).toEqual([]);
  });

  it('costly but accepted patterns and a catastrophic regex finish and change nothing', async () => {
    const costly = await call('search_files', {
      path: '.',
      pattern: `${'{*a,*b}'.repeat(8)}z`,
      exclude: ['{*x,*y}'.repeat(8)],
    });
    expect(costly.isError).toBe(false);
    const regex = await call('grep_files', { path: '.', regex: '^(\\w+\\s?)*$' });
    expect(regex.isError, regex.text).toBe(false);
    // The sandbox may have been read (these calls were allowed to), never changed.
    const changed = (await differences(layout.ws, before.ws)).filter((diff) => !/ read$| listed$/.test(diff));
    expect(changed).toEqual([]);
  });
});
