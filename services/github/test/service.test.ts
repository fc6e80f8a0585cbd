import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UNTRUSTED_NOTICE } from '../src/text.js';
import { blobSha } from './helpers/github-stand-in.js';
import { BIG_FILE, commitSha, INJECTION, PNG, README } from './helpers/github-world.js';
import {
  type ClientTransportKind,
  connectClient,
  type Harness,
  line,
  ok,
  sent,
  startHarness,
  TOKEN,
} from './helpers/harness.js';

const UNTRUSTED = { untrusted: true, notice: UNTRUSTED_NOTICE };

const HELLO = {
  full_name: 'octo-org/hello',
  owner: 'octo-org',
  name: 'hello',
  description: 'A public test repository',
  private: false,
  visibility: 'public',
  fork: false,
  archived: false,
  default_branch: 'main',
  language: 'TypeScript',
  topics: ['mcp', 'testing'],
  stargazers_count: 42,
  forks_count: 1,
  open_issues_count: 2,
  license: 'MIT',
  html_url: 'https://github.test/octo-org/hello',
  created_at: '2021-05-01T10:00:00Z',
  updated_at: '2025-03-02T10:00:00Z',
  pushed_at: '2025-03-01T10:00:00Z',
};

const ALL_TOOLS = [
  'get_me',
  'search_repositories',
  'get_repository',
  'get_file_contents',
  'list_commits',
  'get_commit',
  'search_code',
  'list_branches',
  'list_tags',
  'list_releases',
  'list_issues',
  'get_issue',
  'search_issues',
  'create_issue',
  'add_issue_comment',
  'update_issue',
  'list_pull_requests',
  'get_pull_request',
  'get_pull_request_diff',
  'create_pull_request',
  'list_workflow_runs',
  'get_workflow_run',
  'get_job_logs',
];

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('every tool over %s, against the stand-in', (kind) => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness();
    client = await connectClient(h.svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  it('lists every tool (MCP_TOOLSETS=all) with GitHub as an open world', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(ALL_TOOLS);
    const writes = tools.filter((tool) => tool.annotations?.readOnlyHint === false).map((tool) => tool.name);
    expect(writes).toEqual(['create_issue', 'add_issue_comment', 'update_issue', 'create_pull_request']);
    for (const tool of tools) expect(tool.annotations?.openWorldHint).toBe(true);
  });

  it('get_me: GET /user, the scopes from x-oauth-scopes and the quota from the answer', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => (result = await ok(client, 'get_me')));
    expect(requests.map(line)).toEqual(['GET /user']);
    const core = h.standIn.quota('core');
    expect(result).toEqual({
      login: 'octo-bot',
      id: 1,
      type: 'User',
      name: 'Octo Bot',
      html_url: 'https://github.test/octo-bot',
      scopes: ['repo', 'read:org', 'workflow'],
      rate_limit: {
        core: {
          limit: 5000,
          remaining: core.remaining,
          used: 5000 - core.remaining,
          resets_at: new Date(core.reset * 1000).toISOString(),
        },
      },
    });
  });

  it('search_repositories: the query, sort, order and paging; has_more from the Link header', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'search_repositories', {
        query: 'test repository',
        sort: 'stars',
        order: 'desc',
        per_page: 1,
      });
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: 'GET',
      rawPath: '/search/repositories',
      query: { q: 'test repository', sort: 'stars', order: 'desc', page: '1', per_page: '1' },
      body: undefined,
    });
    expect(result).toEqual({
      repositories: [HELLO],
      total_count: 2,
      incomplete_results: false,
      page: 1,
      per_page: 1,
      has_more: true,
      next_page: 2,
      last_page: 2,
      truncated: false,
      ...UNTRUSTED,
    });
  });

  it('get_repository: the metadata and the token permissions', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_repository', { owner: 'octo-org', repo: 'hello' });
    });
    expect(requests.map(line)).toEqual(['GET /repos/octo-org/hello']);
    expect(result).toEqual({ ...HELLO, permissions: { admin: true, push: true, pull: true }, ...UNTRUSTED });
  });

  it('get_file_contents: a text file with its sha, decoded from base64', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'README.md' });
    });
    expect(requests.map(line)).toEqual(['GET /repos/octo-org/hello/contents/README.md']);
    expect(result).toEqual({
      type: 'file',
      path: 'README.md',
      sha: blobSha(Buffer.from(README)),
      size: Buffer.byteLength(README),
      html_url: 'https://github.test/octo-org/hello/blob/main/README.md',
      encoding: 'utf-8',
      content: README,
      truncated: false,
      ...UNTRUSTED,
    });
  });

  it('get_file_contents: a name with ?, # and % at a ref travels as one encoded path segment', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_file_contents', {
        owner: 'octo-org',
        repo: 'hello',
        path: 'docs/a?b#c%2e.md',
        ref: 'feature/x',
      });
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      rawPath: '/repos/octo-org/hello/contents/docs%2Fa%3Fb%23c%252e.md',
      segments: ['repos', 'octo-org', 'hello', 'contents', 'docs/a?b#c%2e.md'],
      query: { ref: 'feature/x' },
    });
    expect(result).toMatchObject({
      type: 'file',
      path: 'docs/a?b#c%2e.md',
      ref: 'feature/x',
      content: 'an odd name\n',
    });
  });

  it('get_file_contents: a directory as a listing, the root as ""', async () => {
    const root = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello' });
    expect(root).toMatchObject({ type: 'dir', path: '', truncated: false, ...UNTRUSTED });
    expect((root['entries'] as { name: string; type: string }[]).map((e) => `${e.type}:${e.name}`)).toEqual([
      'file:README.md',
      'dir:assets',
      'dir:data',
      'dir:docs',
      'symlink:link-to-readme',
      'dir:src',
      'dir:vendor',
    ]);
    const docs = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'docs' });
    expect(docs['entries']).toEqual([
      {
        name: 'a?b#c%2e.md',
        path: 'docs/a?b#c%2e.md',
        type: 'file',
        size: 12,
        sha: blobSha(Buffer.from('an odd name\n')),
      },
      { name: 'empty.txt', path: 'docs/empty.txt', type: 'file', size: 0, sha: blobSha(Buffer.alloc(0)) },
      {
        name: 'guide.md',
        path: 'docs/guide.md',
        type: 'file',
        size: Buffer.byteLength(`# Guide\n\n${INJECTION}\n`),
        sha: blobSha(Buffer.from(`# Guide\n\n${INJECTION}\n`)),
      },
    ]);
  });

  it('get_file_contents: binary files are described, not dumped; an empty file is ""', async () => {
    const png = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'assets/logo.png' });
    expect(png).toEqual({
      type: 'file',
      path: 'assets/logo.png',
      sha: blobSha(PNG),
      size: PNG.length,
      html_url: 'https://github.test/octo-org/hello/blob/main/assets/logo.png',
      binary: true,
      content: null,
      media_type: 'image/png',
      truncated: false,
      ...UNTRUSTED,
    });
    const latin1 = await ok(client, 'get_file_contents', {
      owner: 'octo-org',
      repo: 'hello',
      path: 'assets/latin1.txt',
    });
    expect(latin1).toMatchObject({ binary: true, content: null, media_type: 'text/plain' });
    const empty = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'docs/empty.txt' });
    expect(empty).toMatchObject({ encoding: 'utf-8', content: '', size: 0, truncated: false });
  });

  it('get_file_contents: a file over 1 MB is read raw, up to GITHUB_MAX_FILE_BYTES', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'data/big.txt' });
    });
    expect(requests.map((r) => `${line(r)} ${r.headers.accept}`)).toEqual([
      'GET /repos/octo-org/hello/contents/data%2Fbig.txt application/vnd.github.v3+json',
      'GET /repos/octo-org/hello/contents/data%2Fbig.txt application/vnd.github.v3.raw',
    ]);
    expect(result).toMatchObject({ type: 'file', size: BIG_FILE.length, encoding: 'utf-8', truncated: true });
    expect(result['content']).toBe(BIG_FILE.slice(0, 1024 * 1024));
  });

  it('get_file_contents: symlinks and submodules say what they are', async () => {
    const link = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'link-to-readme' });
    expect(link).toMatchObject({ type: 'symlink', target: 'README.md' });
    const sub = await ok(client, 'get_file_contents', { owner: 'octo-org', repo: 'hello', path: 'vendor/lib' });
    expect(sub).toMatchObject({ type: 'submodule', submodule_git_url: 'https://github.test/octo-org/lib.git' });
  });

  it('list_commits: every filter reaches GitHub as a query parameter', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'list_commits', {
        owner: 'octo-org',
        repo: 'hello',
        sha: 'main',
        path: 'src/index.ts',
        author: 'alice',
        since: '2025-01-01T00:00:00Z',
        until: '2025-02-01T00:00:00Z',
        per_page: 2,
      });
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      rawPath: '/repos/octo-org/hello/commits',
      query: {
        sha: 'main',
        path: 'src/index.ts',
        author: 'alice',
        since: '2025-01-01T00:00:00Z',
        until: '2025-02-01T00:00:00Z',
        page: '1',
        per_page: '2',
      },
    });
    expect(result).toMatchObject({ page: 1, per_page: 2, has_more: true, next_page: 2, last_page: 6, ...UNTRUSTED });
    expect(result['commits']).toEqual([
      {
        sha: commitSha(32),
        message: 'Commit number 32',
        author: { name: 'Alice Maintainer', login: 'alice', date: '2025-02-01T00:00:00Z' },
        committer: { name: 'GitHub', login: null, date: '2025-02-01T00:00:00Z' },
        parents: [commitSha(31)],
        html_url: `https://github.test/octo-org/hello/commit/${commitSha(32)}`,
        truncated: false,
      },
      {
        sha: commitSha(28),
        message: 'Commit number 28',
        author: { name: 'Alice Maintainer', login: 'alice', date: '2025-01-28T00:00:00Z' },
        committer: { name: 'GitHub', login: null, date: '2025-01-28T00:00:00Z' },
        parents: [commitSha(27)],
        html_url: `https://github.test/octo-org/hello/commit/${commitSha(28)}`,
        truncated: false,
      },
    ]);
  });

  it('get_commit: files paged, long messages and patches cut', async () => {
    const first = await ok(client, 'get_commit', { owner: 'octo-org', repo: 'hello', sha: commitSha(35), per_page: 2 });
    expect(first).toMatchObject({
      sha: commitSha(35),
      stats: { additions: 3008, deletions: 0, total: 3008 },
      page: 1,
      per_page: 2,
      has_more: true,
      next_page: 2,
      last_page: 3,
      truncated: true,
    });
    expect((first['message'] as string).length).toBe(8000);
    const files = first['files'] as { filename: string; patch: string; truncated: boolean }[];
    expect(files.map((f) => [f.filename, f.patch.length, f.truncated])).toEqual([
      ['src/file-1.ts', 20_000, true],
      ['src/file-2.ts', '@@ -0,0 +1,2 @@\n+file 2 line 1\n+file 2 line 2'.length, false],
    ]);
    const requests = await sent(h.standIn, async () => {
      const last = await ok(client, 'get_commit', {
        owner: 'octo-org',
        repo: 'hello',
        sha: 'main',
        page: 3,
        per_page: 2,
      });
      expect((last['files'] as { filename: string }[]).map((f) => f.filename)).toEqual(['src/file-5.ts']);
      expect(last).toMatchObject({ page: 3, has_more: false });
    });
    expect(requests.map(line)).toEqual(['GET /repos/octo-org/hello/commits/main?page=3&per_page=2']);
  });

  it('search_code: the query with qualifiers, one search request', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'search_code', { query: 'hello repo:octo-org/hello' });
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      rawPath: '/search/code',
      query: { q: 'hello repo:octo-org/hello', page: '1', per_page: '30' },
    });
    expect(result).toMatchObject({ total_count: 2, incomplete_results: false, has_more: false });
    expect((result['items'] as { path: string; repository: string }[]).map((i) => `${i.repository}:${i.path}`)).toEqual(
      ['octo-org/hello:README.md', 'octo-org/hello:src/index.ts'],
    );
  });

  it('list_branches, list_tags and list_releases', async () => {
    const requests = await sent(h.standIn, async () => {
      const branches = await ok(client, 'list_branches', {
        owner: 'octo-org',
        repo: 'hello',
        protected: false,
        per_page: 5,
      });
      expect(branches).toMatchObject({ has_more: true, next_page: 2, last_page: 2 });
      expect((branches['branches'] as { name: string; protected: boolean }[]).map((b) => b.name)).toEqual([
        'feature/x',
        'fix/crash',
        'topic-1',
        'topic-2',
        'topic-3',
      ]);
      const tags = await ok(client, 'list_tags', { owner: 'octo-org', repo: 'hello' });
      expect(tags['tags']).toEqual([
        { name: 'v1.0.0', sha: commitSha(35) },
        { name: 'v0.9.0', sha: commitSha(30) },
      ]);
      const releases = await ok(client, 'list_releases', { owner: 'octo-org', repo: 'hello', per_page: 1 });
      expect(releases).toMatchObject({ has_more: true, truncated: true });
      const [release] = releases['releases'] as {
        tag_name: string;
        body: string;
        truncated: boolean;
        author: string;
      }[];
      expect(release).toMatchObject({ tag_name: 'v1.0.0', author: 'alice', truncated: true });
      expect(release?.body.length).toBe(8000);
    });
    expect(requests.map(line)).toEqual([
      'GET /repos/octo-org/hello/branches?protected=false&page=1&per_page=5',
      'GET /repos/octo-org/hello/tags?page=1&per_page=30',
      'GET /repos/octo-org/hello/releases?page=1&per_page=1',
    ]);
  });

  it('list_issues: filters as query parameters; labels comma-joined; bodies capped', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'list_issues', {
        owner: 'octo-org',
        repo: 'hello',
        state: 'all',
        labels: ['question', 'needs triage'],
        assignee: 'none',
        since: '2025-01-01T00:00:00Z',
        sort: 'updated',
        direction: 'asc',
        per_page: 5,
      });
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      rawPath: '/repos/octo-org/hello/issues',
      query: {
        state: 'all',
        labels: 'question,needs triage',
        assignee: 'none',
        since: '2025-01-01T00:00:00Z',
        sort: 'updated',
        direction: 'asc',
        page: '1',
        per_page: '5',
      },
    });
    const issues = result['issues'] as Record<string, unknown>[];
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      number: 2,
      title: 'Please run this',
      author: 'mallory',
      author_association: 'NONE',
      labels: ['question', 'needs triage'],
      is_pull_request: false,
      truncated: true,
    });
    expect(issues[0]?.['body']).toBe(`${INJECTION}\n\n${'x'.repeat(20_000)}`.slice(0, 8000));
    expect(result).toMatchObject({ truncated: true, has_more: false, ...UNTRUSTED });
  });

  it('get_issue: the issue and a page of its comments, two requests', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_issue', { owner: 'octo-org', repo: 'hello', number: 1, page: 2, per_page: 2 });
    });
    expect(requests.map(line).sort()).toEqual([
      'GET /repos/octo-org/hello/issues/1',
      'GET /repos/octo-org/hello/issues/1/comments?page=2&per_page=2',
    ]);
    expect(result['issue']).toEqual({
      number: 1,
      title: 'Crash on start',
      state: 'open',
      state_reason: null,
      author: 'alice',
      author_association: 'MEMBER',
      labels: ['bug'],
      assignees: ['alice'],
      comments: 4,
      is_pull_request: false,
      locked: false,
      milestone: null,
      created_at: '2025-02-01T09:00:00Z',
      updated_at: '2025-02-03T09:00:00Z',
      closed_at: null,
      html_url: 'https://github.test/octo-org/hello/issues/1',
      repository: 'octo-org/hello',
      body: 'It crashes when started without a config file.',
      truncated: false,
    });
    expect(result['comments']).toEqual([
      {
        id: 5003,
        author: 'bob',
        author_association: 'MEMBER',
        created_at: '2025-02-03T10:00:00Z',
        updated_at: '2025-02-03T10:00:00Z',
        html_url: 'https://github.test/octo-org/hello/issues/1#issuecomment-5003',
        body: 'Same here.',
        truncated: false,
      },
      {
        id: 5004,
        author: 'octo-bot',
        author_association: 'NONE',
        created_at: '2025-02-03T11:00:00Z',
        updated_at: '2025-02-03T11:00:00Z',
        html_url: 'https://github.test/octo-org/hello/issues/1#issuecomment-5004',
        body: 'Noted by the bot.',
        truncated: false,
      },
    ]);
    expect(result['comments_page']).toEqual({ page: 2, per_page: 2, has_more: false });
  });

  it('search_issues: each item names its repository', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'search_issues', {
        query: 'repo:octo-org/hello is:issue crash',
        sort: 'created',
        order: 'asc',
      });
    });
    expect(requests[0]).toMatchObject({
      rawPath: '/search/issues',
      query: { q: 'repo:octo-org/hello is:issue crash', sort: 'created', order: 'asc', page: '1', per_page: '30' },
    });
    expect(result).toMatchObject({ total_count: 1, incomplete_results: false });
    expect(result['items']).toMatchObject([{ number: 1, repository: 'octo-org/hello', title: 'Crash on start' }]);
  });

  it('create_issue, add_issue_comment and update_issue send exactly the fields given', async () => {
    const created = await sent(h.standIn, async () => {
      const issue = await ok(client, 'create_issue', {
        owner: 'octo-org',
        repo: 'hello',
        title: 'New bug',
        body: 'Steps to reproduce',
        labels: ['bug'],
        assignees: ['alice'],
      });
      expect(issue).toEqual({
        number: 41,
        title: 'New bug',
        state: 'open',
        labels: ['bug'],
        assignees: ['alice'],
        html_url: 'https://github.test/octo-org/hello/issues/41',
      });
    });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      method: 'POST',
      rawPath: '/repos/octo-org/hello/issues',
      rawQuery: '',
      body: { title: 'New bug', body: 'Steps to reproduce', labels: ['bug'], assignees: ['alice'] },
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });

    const commented = await sent(h.standIn, async () => {
      const comment = await ok(client, 'add_issue_comment', {
        owner: 'octo-org',
        repo: 'hello',
        number: 41,
        body: 'A comment',
      });
      expect(comment['html_url']).toMatch(/^https:\/\/github\.test\/octo-org\/hello\/issues\/41#issuecomment-\d+$/);
    });
    expect(commented.map((r) => [line(r), r.body])).toEqual([
      ['POST /repos/octo-org/hello/issues/41/comments', { body: 'A comment' }],
    ]);

    const updated = await sent(h.standIn, async () => {
      const issue = await ok(client, 'update_issue', {
        owner: 'octo-org',
        repo: 'hello',
        number: 41,
        state: 'closed',
        state_reason: 'completed',
        labels: [],
      });
      expect(issue).toMatchObject({ number: 41, state: 'closed', labels: [], assignees: ['alice'] });
    });
    expect(updated.map((r) => [line(r), r.body])).toEqual([
      ['PATCH /repos/octo-org/hello/issues/41', { state: 'closed', state_reason: 'completed', labels: [] }],
    ]);
    const stored = h.standIn.world.repos.get('octo-org/hello')?.issues.find((i) => i.number === 41);
    expect(stored).toMatchObject({ title: 'New bug', state: 'closed', state_reason: 'completed', labels: [] });
    expect(stored?.comments.map((c) => c.body)).toEqual(['A comment']);
  });

  it('list_pull_requests: state, base, sort and direction', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'list_pull_requests', {
        owner: 'octo-org',
        repo: 'hello',
        state: 'all',
        head: 'mallory:feature/x',
        base: 'main',
        sort: 'created',
        direction: 'asc',
      });
    });
    expect(requests[0]).toMatchObject({
      rawPath: '/repos/octo-org/hello/pulls',
      query: {
        state: 'all',
        head: 'mallory:feature/x',
        base: 'main',
        sort: 'created',
        direction: 'asc',
        page: '1',
        per_page: '30',
      },
    });
    expect(result['pull_requests']).toMatchObject([
      {
        number: 3,
        title: 'Add the feature',
        author: 'mallory',
        draft: false,
        head: { ref: 'feature/x', sha: commitSha(900), repo: 'mallory/hello' },
        base: { ref: 'main', sha: commitSha(35), repo: 'octo-org/hello' },
        requested_reviewers: ['bob'],
        requested_teams: ['core'],
      },
    ]);
  });

  it('get_pull_request: the pull request, its review state and a page of files (three requests)', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_pull_request', { owner: 'octo-org', repo: 'hello', number: 3, per_page: 3 });
    });
    expect(requests.map(line).sort()).toEqual([
      'GET /repos/octo-org/hello/pulls/3',
      'GET /repos/octo-org/hello/pulls/3/files?page=1&per_page=3',
      'GET /repos/octo-org/hello/pulls/3/reviews?per_page=100',
    ]);
    expect(result['pull_request']).toMatchObject({
      number: 3,
      merged: false,
      mergeable: true,
      mergeable_state: 'blocked',
      commits: 2,
      changed_files: 7,
    });
    expect(result['review_state']).toEqual({
      approved: [],
      changes_requested: ['alice'],
      commented: ['bob', 'mallory'],
      dismissed: [],
      requested: ['bob', '@core'],
    });
    expect((result['reviews'] as { id: number }[]).map((r) => r.id)).toEqual([7001, 7002, 7003, 7004]);
    expect(result['reviews_has_more']).toBe(false);
    const files = result['files'] as { filename: string; status: string; truncated: boolean; patch: string }[];
    expect(files.map((f) => [f.filename, f.status, f.truncated])).toEqual([
      ['src/feature-1.ts', 'added', false],
      ['src/feature-2.ts', 'modified', true],
      ['src/feature-3.ts', 'modified', false],
    ]);
    expect(files[1]?.patch.length).toBe(20_000);
    expect(result['files_page']).toEqual({ page: 1, per_page: 3, has_more: true, next_page: 2, last_page: 3 });
    expect(result).toMatchObject({ truncated: true, ...UNTRUSTED });
  });

  it('get_pull_request_diff: the diff media type, paged by file', async () => {
    let first: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      first = await ok(client, 'get_pull_request_diff', { owner: 'octo-org', repo: 'hello', number: 3, per_page: 3 });
    });
    expect(requests.map((r) => `${line(r)} ${r.headers.accept}`)).toEqual([
      'GET /repos/octo-org/hello/pulls/3 application/vnd.github.v3.diff',
    ]);
    expect(first).toMatchObject({
      number: 3,
      page: 1,
      per_page: 3,
      has_more: true,
      next_page: 2,
      complete: true,
      truncated: true,
    });
    const files = first['files'] as { filename: string; diff: string; truncated: boolean }[];
    expect(files.map((f) => [f.filename, f.truncated])).toEqual([
      ['src/feature-1.ts', false],
      ['src/feature-2.ts', true],
      ['src/feature-3.ts', false],
    ]);
    expect(files[0]?.diff).toBe(
      'diff --git a/src/feature-1.ts b/src/feature-1.ts\nindex 1111111..2222222 100644\n--- /dev/null\n' +
        '+++ b/src/feature-1.ts\n@@ -0,0 +1,3 @@\n+feature 1 line 1\n+feature 1 line 2\n+feature 1 line 3',
    );
    expect(files[1]?.diff.length).toBe(20_000);
    const last = await ok(client, 'get_pull_request_diff', {
      owner: 'octo-org',
      repo: 'hello',
      number: 3,
      page: 3,
      per_page: 3,
    });
    expect(last).toMatchObject({ page: 3, has_more: false, complete: true, truncated: false });
    expect(last['files']).toMatchObject([{ filename: 'docs/renamed.md' }]);
    expect(
      (last['files'] as { diff: string }[])[0]?.diff.startsWith('diff --git a/docs/old.md b/docs/renamed.md\n'),
    ).toBe(true);
  });

  it('create_pull_request: POST with head, base, title, body and draft', async () => {
    const requests = await sent(h.standIn, async () => {
      const pull = await ok(client, 'create_pull_request', {
        owner: 'octo-org',
        repo: 'hello',
        title: 'Topic one',
        head: 'topic-1',
        base: 'main',
        body: 'Adds topic one',
        draft: true,
      });
      expect(pull).toEqual({
        number: 42,
        title: 'Topic one',
        state: 'open',
        draft: true,
        head: 'topic-1',
        base: 'main',
        html_url: 'https://github.test/octo-org/hello/pull/42',
      });
    });
    expect(requests.map((r) => [line(r), r.body])).toEqual([
      [
        'POST /repos/octo-org/hello/pulls',
        { title: 'Topic one', head: 'topic-1', base: 'main', body: 'Adds topic one', draft: true },
      ],
    ]);
  });

  it('list_workflow_runs: all runs, or one workflow by file name or id, with filters', async () => {
    const requests = await sent(h.standIn, async () => {
      const all = await ok(client, 'list_workflow_runs', { owner: 'octo-org', repo: 'hello' });
      expect((all['workflow_runs'] as { id: number }[]).map((r) => r.id)).toEqual([3001, 3002, 3003]);
      expect(all['total_count']).toBe(3);
      const failed = await ok(client, 'list_workflow_runs', {
        owner: 'octo-org',
        repo: 'hello',
        workflow_id: 'ci.yml',
        branch: 'feature/x',
        event: 'pull_request',
        status: 'failure',
      });
      expect(failed['workflow_runs']).toEqual([
        {
          id: 3001,
          name: 'CI',
          display_title: 'Add the feature',
          workflow_id: 55,
          run_number: 12,
          run_attempt: 1,
          event: 'pull_request',
          status: 'completed',
          conclusion: 'failure',
          head_branch: 'feature/x',
          head_sha: commitSha(900),
          actor: 'mallory',
          created_at: '2025-02-06T09:05:00Z',
          updated_at: '2025-02-06T09:05:00Z',
          html_url: 'https://github.test/octo-org/hello/actions/runs/3001',
        },
      ]);
      const nightly = await ok(client, 'list_workflow_runs', { owner: 'octo-org', repo: 'hello', workflow_id: 56 });
      expect((nightly['workflow_runs'] as { id: number }[]).map((r) => r.id)).toEqual([3003]);
    });
    expect(requests.map(line)).toEqual([
      'GET /repos/octo-org/hello/actions/runs?page=1&per_page=30',
      'GET /repos/octo-org/hello/actions/workflows/ci.yml/runs?branch=feature%2Fx&event=pull_request&status=failure&page=1&per_page=30',
      'GET /repos/octo-org/hello/actions/workflows/56/runs?page=1&per_page=30',
    ]);
  });

  it('get_workflow_run: the run and its latest jobs; failed jobs named', async () => {
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_workflow_run', { owner: 'octo-org', repo: 'hello', run_id: 3001 });
    });
    expect(requests.map(line).sort()).toEqual([
      'GET /repos/octo-org/hello/actions/runs/3001',
      'GET /repos/octo-org/hello/actions/runs/3001/jobs?filter=latest&page=1&per_page=30',
    ]);
    expect(result).toMatchObject({ run: { id: 3001, conclusion: 'failure' }, failed_job_ids: [4002], jobs_total: 2 });
    expect((result['jobs'] as { steps: unknown[] }[])[1]?.steps).toEqual([
      { number: 1, name: 'Set up job', status: 'completed', conclusion: 'success' },
      { number: 2, name: 'Run tests', status: 'completed', conclusion: 'failure' },
    ]);
  });

  it('get_job_logs: the tail of the log, fetched from the storage origin without the token', async () => {
    const logsBefore = h.standIn.logRequests.length;
    let result: Record<string, unknown> = {};
    const requests = await sent(h.standIn, async () => {
      result = await ok(client, 'get_job_logs', { owner: 'octo-org', repo: 'hello', job_id: 4002, tail: 5 });
    });
    expect(requests.map(line).sort()).toEqual([
      'GET /repos/octo-org/hello/actions/jobs/4002',
      'GET /repos/octo-org/hello/actions/jobs/4002/logs',
    ]);
    const storage = h.standIn.logRequests.slice(logsBefore);
    expect(storage.map(line)).toEqual(['GET /jobs/4002/log.txt?sig=signed-4002']);
    expect(storage[0]?.headers.authorization).toBeUndefined();
    const log = h.standIn.world.repos.get('octo-org/hello')!.runs[0]!.jobs[1]!.log;
    expect(result).toEqual({
      job_id: 4002,
      name: 'test',
      status: 'completed',
      conclusion: 'failure',
      html_url: 'https://github.test/octo-org/hello/actions/runs/3001/job/4002',
      log: log.trimEnd().split('\n').slice(-5).join('\n'),
      lines: 5,
      total_lines: 3001,
      complete: true,
      truncated: true,
      ...UNTRUSTED,
    });
  });

  it('sent every request with the token, the API version and its own user agent', () => {
    expect(h.standIn.requests.length).toBeGreaterThan(30);
    for (const request of h.standIn.requests) {
      expect(request.headers).toMatchObject({
        authorization: `token ${TOKEN}`,
        'x-github-api-version': '2022-11-28',
      });
      expect(request.headers['user-agent']).toMatch(/^mcp-sse-github\/0\.1\.0 octokit-rest\.js\//);
    }
  });
});

describe('GitHub Enterprise Server (GITHUB_API_URL with a path)', () => {
  it('sends every request under the API root it was given', async () => {
    const ghes = await startHarness({}, {}, '/api/v3');
    const client = await connectClient(ghes.svc.url, 'streamable-http');
    try {
      const requests = await sent(ghes.standIn, async () => {
        expect(await ok(client, 'get_repository', { owner: 'octo-org', repo: 'hello' })).toMatchObject({
          full_name: 'octo-org/hello',
        });
        const issues = await ok(client, 'list_issues', { owner: 'octo-org', repo: 'hello', per_page: 2 });
        expect(issues).toMatchObject({ has_more: true, next_page: 2 });
      });
      expect(requests.map(line)).toEqual([
        'GET /api/v3/repos/octo-org/hello',
        'GET /api/v3/repos/octo-org/hello/issues?page=1&per_page=2',
      ]);
    } finally {
      await client.close();
      await ghes.close();
    }
  });
});
