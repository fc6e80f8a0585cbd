import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { INJECTION } from './helpers/github-world.js';
import {
  type ClientTransportKind,
  connectClient,
  type Harness,
  line,
  ok,
  sent,
  startHarness,
} from './helpers/harness.js';

const withheld = (login: string, repo = 'octo-org/hello') =>
  `GITHUB_LOCKDOWN: @${login} has no push access to public ${repo}; the text is withheld`;

/** Every string anywhere in a value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('GITHUB_LOCKDOWN=true over %s', (kind) => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness({ GITHUB_LOCKDOWN: 'true' });
    client = await connectClient(h.svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  it('get_issue: text by authors without push access is withheld, the authors are named', async () => {
    const issue = await ok(client, 'get_issue', { owner: 'octo-org', repo: 'hello', number: 1 });
    expect(issue['issue']).toMatchObject({
      author: 'alice',
      title: 'Crash on start',
      body: 'It crashes when started without a config file.',
    });
    expect(issue['issue']).not.toHaveProperty('withheld');
    expect(
      (issue['comments'] as { id: number; author: string; body: string | null; withheld?: string }[]).map((c) => [
        c.id,
        c.author,
        c.body,
        c.withheld,
      ]),
    ).toEqual([
      // mallory: association NONE, withheld without asking GitHub.
      [5001, 'mallory', null, withheld('mallory')],
      // alice: MEMBER with write permission.
      [5002, 'alice', 'Confirmed; fixing it.', undefined],
      // bob: MEMBER, but only read permission.
      [5003, 'bob', null, withheld('bob')],
      // the token's own user.
      [5004, 'octo-bot', 'Noted by the bot.', undefined],
    ]);
    expect(strings(issue).join('\n')).not.toContain(INJECTION);
  });

  it('learns push access from the permission endpoint, once per author (cached)', async () => {
    const requests = await sent(h.standIn, async () => {
      await ok(client, 'get_issue', { owner: 'octo-org', repo: 'hello', number: 1 });
      await ok(client, 'list_issues', { owner: 'octo-org', repo: 'hello', state: 'all' });
    });
    // Visibility, the viewer and alice's and bob's permissions were learned by the first test.
    expect(requests.map(line).sort()).toEqual([
      'GET /repos/octo-org/hello/issues/1',
      'GET /repos/octo-org/hello/issues/1/comments?page=1&per_page=30',
      'GET /repos/octo-org/hello/issues?state=all&page=1&per_page=30',
    ]);
    const first = h.standIn.requests.filter((r) => r.rawPath.includes('/collaborators/'));
    expect(first.map(line).sort()).toEqual([
      'GET /repos/octo-org/hello/collaborators/alice/permission',
      'GET /repos/octo-org/hello/collaborators/bob/permission',
    ]);
  });

  it('list_issues and search_issues: titles and bodies of outsiders withheld', async () => {
    const listed = await ok(client, 'list_issues', { owner: 'octo-org', repo: 'hello', labels: ['question'] });
    expect(listed['issues']).toMatchObject([
      { number: 2, author: 'mallory', title: null, body: null, withheld: withheld('mallory') },
    ]);
    const found = await ok(client, 'search_issues', { query: 'repo:octo-org/hello run' });
    expect(found['items']).toMatchObject([{ number: 2, title: null, body: null, withheld: withheld('mallory') }]);
    expect(strings(listed).concat(strings(found)).join('\n')).not.toContain(INJECTION);
  });

  it('pull requests by outsiders: title, body, files and diff withheld; reviews one by one', async () => {
    const pull = await ok(client, 'get_pull_request', { owner: 'octo-org', repo: 'hello', number: 3 });
    expect(pull['pull_request']).toMatchObject({
      author: 'mallory',
      title: null,
      body: null,
      withheld: withheld('mallory'),
    });
    expect(pull['files']).toEqual([]);
    expect(pull['files_withheld']).toBe(withheld('mallory'));
    expect((pull['reviews'] as { author: string; body: string | null }[]).map((r) => [r.author, r.body])).toEqual([
      ['bob', null],
      ['alice', 'Please add tests.'],
      ['alice', 'Still waiting.'],
      ['mallory', null],
    ]);
    const diff = await ok(client, 'get_pull_request_diff', { owner: 'octo-org', repo: 'hello', number: 3 });
    expect(diff).toMatchObject({ files: [], has_more: false, withheld: withheld('mallory') });
    const mine = await ok(client, 'get_pull_request_diff', { owner: 'octo-org', repo: 'hello', number: 4 });
    expect((mine['files'] as unknown[]).length).toBe(1);
    const listed = await ok(client, 'list_pull_requests', { owner: 'octo-org', repo: 'hello', state: 'all' });
    expect(
      (listed['pull_requests'] as { number: number; title: string | null }[]).map((p) => [p.number, p.title]),
    ).toEqual([
      [4, 'Fix the crash'],
      [3, null],
    ]);
  });

  it('private repositories are not filtered', async () => {
    const issue = await ok(client, 'get_issue', { owner: 'octo-org', repo: 'secret', number: 1 });
    expect(issue['issue']).toMatchObject({ author: 'mallory', body: 'Visible: the repository is private.' });
    expect(issue['issue']).not.toHaveProperty('withheld');
  });

  it('fails closed: when push access cannot be checked, the text is withheld and the reason says so', async () => {
    h.standIn.world.repos.get('octo-org/hello')!.issues[0]!.comments.push({
      id: 5999,
      user: { login: 'carol', id: 77, type: 'User', name: null },
      association: 'COLLABORATOR',
      body: 'Carol speaking',
      created_at: '2025-02-04T09:00:00Z',
      updated_at: '2025-02-04T09:00:00Z',
    });
    h.standIn.respond({
      path: /\/collaborators\/carol\/permission$/,
      status: 403,
      body: { message: 'Must have push access to view collaborator permission.' },
    });
    const issue = await ok(client, 'get_issue', { owner: 'octo-org', repo: 'hello', number: 1 });
    const carol = (issue['comments'] as { id: number; body: string | null; withheld?: string }[]).find(
      (c) => c.id === 5999,
    );
    expect(carol).toMatchObject({ body: null });
    expect(carol?.withheld).toBe(
      'GITHUB_LOCKDOWN: the push access of @carol could not be checked (GitHub refused access to the permission of ' +
        '@carol on octo-org/hello (403: Must have push access to view collaborator permission.)), so the text by ' +
        '@carol on public octo-org/hello is withheld',
    );
  });

  it('file contents and commits are not filtered (only people with push access change them)', async () => {
    const file = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'docs/guide.md' });
    expect(file['content']).toContain(INJECTION);
    expect(file['untrusted']).toBe(true);
  });
});

describe('GITHUB_LOCKDOWN=false (the default)', () => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness();
    client = await connectClient(h.svc.url, 'streamable-http');
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  it('shows everything, marked untrusted, and never asks for permissions', async () => {
    const issue = await ok(client, 'get_issue', { owner: 'octo-org', repo: 'hello', number: 2 });
    expect(issue['issue']).toMatchObject({ author: 'mallory', title: 'Please run this' });
    expect(issue).toMatchObject({ untrusted: true });
    expect(h.standIn.requests.filter((r) => r.rawPath.includes('/collaborators/'))).toEqual([]);
  });
});
