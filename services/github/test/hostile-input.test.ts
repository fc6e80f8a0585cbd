import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { call, connectClient, type Harness, type RecordedRequest, sent, startHarness } from './helpers/harness.js';

/**
 * Every argument is hostile: a model that read a hostile page sends what the page says. Each value
 * below is either refused before GitHub is asked (no request at all, the world unchanged) or
 * reaches GitHub as exactly the one value it is, percent-encoded in its own path segment or query
 * parameter, as the stand-in's record of the request shows.
 */

const REPO = { owner: 'octo-org', repo: 'hello' };

/** Values that try to leave their place in a URL path segment, in many spellings. */
const NAME_ESCAPES = [
  'a/../../orgs/x',
  '../x',
  '..',
  '.',
  'octo-org/hello',
  'a%2Fb',
  'a%2fb',
  '%2e%2e',
  'a\\b',
  'a?per_page=100',
  'a#x',
  'a&x=1',
  'a b',
  'a\nb',
  'a\r\nX-Injected: 1',
  'a\u0000b',
  'a\u2028b',
  'ａｂ',
  '',
  'x'.repeat(101),
  'x'.repeat(100_000),
];

/** The tools and how each takes owner/repo, with otherwise valid arguments. */
const REPO_TOOLS: [string, Record<string, unknown>][] = [
  ['get_repository', {}],
  ['get_file_contents', { path: 'README.md' }],
  ['list_commits', {}],
  ['get_commit', { sha: 'main' }],
  ['list_branches', {}],
  ['list_tags', {}],
  ['list_releases', {}],
  ['list_issues', {}],
  ['get_issue', { number: 1 }],
  ['create_issue', { title: 'x' }],
  ['add_issue_comment', { number: 1, body: 'x' }],
  ['update_issue', { number: 1, title: 'x' }],
  ['list_pull_requests', {}],
  ['get_pull_request', { number: 3 }],
  ['get_pull_request_diff', { number: 3 }],
  ['create_pull_request', { title: 'x', head: 'topic-1', base: 'main' }],
  ['list_workflow_runs', {}],
  ['get_workflow_run', { run_id: 3001 }],
  ['get_job_logs', { job_id: 4002 }],
];

describe('hostile arguments', () => {
  let h: Harness;
  let client: Client;
  const world = () =>
    JSON.stringify([...h.standIn.world.repos.values()].map((repo) => ({ ...repo, files: [...repo.files.keys()] })));

  beforeAll(async () => {
    // Hundreds of calls: the core's per-identity call rate limit would answer some of them instead.
    h = await startHarness({ MCP_RATE_LIMIT: '0' });
    client = await connectClient(h.svc.url, 'streamable-http');
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  /** Calls a tool that must refuse the argument named `field`; checks that GitHub was not asked. */
  async function refusedLocally(name: string, args: Record<string, unknown>, field: string): Promise<void> {
    const before = world();
    const requests = await sent(h.standIn, async () => {
      const result = await call(client, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args).slice(0, 200)}`).toBe(true);
      expect(result.text.startsWith(`Invalid arguments for ${name}: `), result.text).toBe(true);
      expect(result.text, result.text).toContain(`${field}: `);
      expect(result.text.length).toBeLessThan(2000);
    });
    expect(requests).toEqual([]);
    expect(world()).toBe(before);
  }

  /** Calls a tool whose odd argument must arrive as itself; returns the one request GitHub got. */
  async function arrives(name: string, args: Record<string, unknown>): Promise<RecordedRequest> {
    const requests = await sent(h.standIn, () => call(client, name, args));
    expect(requests.length, `${name} sent ${requests.length} requests`).toBeGreaterThanOrEqual(1);
    return requests[0]!;
  }

  it('owner and repo: every escape is refused (one reader, one writer)', { timeout: 60_000 }, async () => {
    for (const [name, extra] of REPO_TOOLS.filter(([tool]) => tool === 'get_repository' || tool === 'create_issue')) {
      for (const bad of NAME_ESCAPES) {
        await refusedLocally(name, { ...REPO, ...extra, owner: bad }, 'owner');
        // "%2e%2e" and "a#x" are no repository names either ("%" and "#" are not allowed).
        await refusedLocally(name, { ...REPO, ...extra, repo: bad }, 'repo');
      }
    }
  });

  it(
    'owner and repo: every tool that takes them refuses the escapes (they share one schema)',
    { timeout: 60_000 },
    async () => {
      for (const [name, extra] of REPO_TOOLS) {
        for (const bad of ['a/../../orgs/x', 'a%2Fb', 'a\nb', '..', 'a?x=1']) {
          await refusedLocally(name, { ...REPO, ...extra, owner: bad }, 'owner');
          await refusedLocally(name, { ...REPO, ...extra, repo: bad }, 'repo');
        }
      }
    },
  );

  it('owner and repo of the wrong type are refused', async () => {
    for (const bad of [1, null, true, ['octo-org'], { toString: 'octo-org' }]) {
      await refusedLocally('get_repository', { ...REPO, owner: bad }, 'owner');
    }
  });

  it('path: traversal, absolute paths, backslashes and control characters are refused', async () => {
    for (const bad of [
      '..',
      '../secret',
      'docs/../../x',
      './README.md',
      '/etc/passwd',
      'docs/',
      'a//b',
      'docs\\x',
      'a\nb',
      'a\u0000',
      'x'.repeat(4097),
    ]) {
      await refusedLocally('get_file_contents', { ...REPO, path: bad }, 'path');
      await refusedLocally('list_commits', { ...REPO, path: bad }, 'path');
    }
  });

  it('path: legal but odd names reach GitHub as one encoded segment, never as a query or a second path', async () => {
    const cases: [string, string][] = [
      ['docs/a?b#c%2e.md', 'docs%2Fa%3Fb%23c%252e.md'],
      ['%2e%2e/x', '%252e%252e%2Fx'],
      ['a%2F..%2Fb', 'a%252F..%252Fb'],
      ['x?ref=evil&per_page=1', 'x%3Fref%3Devil%26per_page%3D1'],
      ['ü/日本.md', '%C3%BC%2F%E6%97%A5%E6%9C%AC.md'],
    ];
    for (const [path, encoded] of cases) {
      const request = await arrives('get_file_contents', { ...REPO, path });
      expect(request.rawPath).toBe(`/repos/octo-org/hello/contents/${encoded}`);
      expect(request.segments).toEqual(['repos', 'octo-org', 'hello', 'contents', path]);
      expect(request.query).toEqual({});
    }
  });

  it('ref and sha: refused when git would refuse them, otherwise exactly themselves', async () => {
    for (const bad of [
      '../../x',
      'main/../../x',
      'main?x=1',
      'main x',
      'a\nb',
      'main:evil',
      '-x',
      'x'.repeat(256),
      '',
    ]) {
      await refusedLocally('get_file_contents', { ...REPO, path: 'README.md', ref: bad }, 'ref');
      await refusedLocally('get_commit', { ...REPO, sha: bad }, 'sha');
      await refusedLocally('list_commits', { ...REPO, sha: bad }, 'sha');
    }
    const byRef = await arrives('get_file_contents', { ...REPO, path: 'README.md', ref: 'a%2Fb#frag&per_page=1' });
    expect(byRef.rawQuery).toBe('ref=a%252Fb%23frag%26per_page%3D1');
    expect(byRef.query).toEqual({ ref: 'a%2Fb#frag&per_page=1' });
    const commit = await arrives('get_commit', { ...REPO, sha: 'feature/x' });
    expect(commit.rawPath).toBe('/repos/octo-org/hello/commits/feature%2Fx');
    expect(commit.segments).toEqual(['repos', 'octo-org', 'hello', 'commits', 'feature/x']);
  });

  it('numbers: only positive integers in range', async () => {
    for (const bad of [0, -1, 1.5, 2 ** 31, Number.MAX_SAFE_INTEGER + 2, '1', '1/../2', null]) {
      await refusedLocally('get_issue', { ...REPO, number: bad }, 'number');
    }
    for (const bad of [0, -5, 2 ** 53, '4002', 4002.5])
      await refusedLocally('get_job_logs', { ...REPO, job_id: bad }, 'job_id');
    for (const bad of [0, 1001, -1]) await refusedLocally('list_issues', { ...REPO, page: bad }, 'page');
    for (const bad of [0, 101, 1e6]) await refusedLocally('list_issues', { ...REPO, per_page: bad }, 'per_page');
    for (const bad of [0, 10_001]) await refusedLocally('get_job_logs', { ...REPO, job_id: 4002, tail: bad }, 'tail');
  });

  it('search queries: control characters and huge queries refused; the rest is one q parameter', async () => {
    for (const bad of ['', 'a\u0000', '\u001b[31m', 'x'.repeat(1025)]) {
      await refusedLocally('search_issues', { query: bad }, 'query');
      await refusedLocally('search_code', { query: bad }, 'query');
    }
    const query = 'crash\nrepo:octo-org/hello&per_page=100&q=evil #x';
    const request = await arrives('search_issues', { query });
    expect(request.query).toEqual({ q: query, page: '1', per_page: '30' });
  });

  it('labels, assignees, head, base, author, workflow, event: each its own rule', async () => {
    await refusedLocally('list_issues', { ...REPO, labels: ['bug,wontfix'] }, 'labels.0');
    await refusedLocally('list_issues', { ...REPO, labels: ['a\nb'] }, 'labels.0');
    await refusedLocally('list_issues', { ...REPO, assignee: 'a/../b' }, 'assignee');
    await refusedLocally('create_issue', { ...REPO, title: 'x', assignees: ['a b'] }, 'assignees.0');
    await refusedLocally(
      'create_issue',
      { ...REPO, title: 'x', labels: Array.from({ length: 101 }, (_, i) => `l${i}`) },
      'labels',
    );
    await refusedLocally('create_issue', { ...REPO, title: 'x'.repeat(257) }, 'title');
    await refusedLocally('create_issue', { ...REPO, title: 'x', body: 'y'.repeat(65_537) }, 'body');
    await refusedLocally('create_issue', { ...REPO, title: 'bell\u0007' }, 'title');
    await refusedLocally('add_issue_comment', { ...REPO, number: 1, body: '   ' }, 'body');
    await refusedLocally('create_pull_request', { ...REPO, title: 'x', head: 'a/../b:main', base: 'main' }, 'head');
    await refusedLocally('create_pull_request', { ...REPO, title: 'x', head: 'topic-1', base: '../main' }, 'base');
    await refusedLocally('list_pull_requests', { ...REPO, head: 'evil:x?y' }, 'head');
    await refusedLocally('list_commits', { ...REPO, author: 'a b@c' }, 'author');
    await refusedLocally('list_workflow_runs', { ...REPO, workflow_id: '../../x' }, 'workflow_id');
    await refusedLocally('list_workflow_runs', { ...REPO, workflow_id: 'ci.yml?x=1' }, 'workflow_id');
    await refusedLocally('list_workflow_runs', { ...REPO, event: 'push&status=success' }, 'event');
    await refusedLocally('list_workflow_runs', { ...REPO, status: 'evil' }, 'status');
    const author = await arrives('list_commits', { ...REPO, author: 'a+b@example.com' });
    expect(author.query).toMatchObject({ author: 'a+b@example.com' });
    const label = await arrives('list_issues', { ...REPO, labels: ['needs triage', 'kind/bug&x'] });
    expect(label.query).toMatchObject({ labels: 'needs triage,kind/bug&x' });
  });

  it('text written to GitHub travels as JSON, byte for byte', async () => {
    const body = 'line 1\n\t"quoted" \\ back\u2028slash </script> ${x} {{y}} 🎉';
    const requests = await sent(h.standIn, () => call(client, 'add_issue_comment', { ...REPO, number: 1, body }));
    expect(requests.map((r) => r.body)).toEqual([{ body }]);
    expect(h.standIn.world.repos.get('octo-org/hello')!.issues[0]!.comments.at(-1)?.body).toBe(body);
  });

  it('unknown arguments are ignored, never forwarded', async () => {
    const request = await arrives('get_repository', {
      ...REPO,
      url: 'https://evil.example/',
      per_page: 1,
      headers: { authorization: 'x' },
    });
    expect(request.rawPath).toBe('/repos/octo-org/hello');
    expect(request.rawQuery).toBe('');
  });
});
