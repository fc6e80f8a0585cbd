import { createServer } from 'node:net';

import { connectClient, httpRequest, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { type Harness, line, refused, sent, startHarness, TOKEN } from './helpers/harness.js';

const REPO = { owner: 'octo-org', repo: 'hello' };

describe("GitHub's errors become clear tool errors", () => {
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

  afterEach(() => h.standIn.setScopes('repo, read:org, workflow'));

  it('404: no such repository, or one the token cannot see', async () => {
    expect(await refused(client, 'get_repository', { owner: 'octo-org', repo: 'nope' })).toBe(
      'Not found: repository octo-org/nope (404). It does not exist, or the token cannot see it (GitHub answers 404 ' +
        'for private repositories the token has no access to)',
    );
    expect(await refused(client, 'get_file_contents', { ...REPO, path: 'missing.txt', ref: 'main' })).toMatch(
      /^Not found: path "missing\.txt" at "main" in repository octo-org\/hello \(404\)\./,
    );
    expect(await refused(client, 'get_issue', { ...REPO, number: 999 })).toMatch(
      /^Not found: issue #999 of repository octo-org\/hello \(404\)/,
    );
  });

  it('404 and 403 name the scope a classic token lacks', async () => {
    h.standIn.setScopes('read:user');
    expect(await refused(client, 'get_repository', { owner: 'octo-org', repo: 'nope' })).toMatch(
      /; the token lacks the scope repo \(it has: read:user\)$/,
    );
    h.standIn.respond({
      method: 'POST',
      path: /\/issues$/,
      status: 403,
      body: { message: 'Resource not accessible by integration' },
    });
    expect(await refused(client, 'create_issue', { ...REPO, title: 'x' })).toBe(
      'GitHub refused access to a new issue in repository octo-org/hello (403: Resource not accessible by integration); ' +
        'the token lacks the scope repo (it has: read:user)',
    );
  });

  it('403 names the permission a fine-grained token lacks', async () => {
    h.standIn.setScopes(null);
    h.standIn.respond({
      method: 'PATCH',
      status: 403,
      headers: { 'x-accepted-github-permissions': 'issues=write; pull_requests=write' },
      body: {
        message: 'Resource not accessible by personal access token',
        documentation_url: 'https://docs.github.com/rest/issues/issues#update-an-issue',
      },
    });
    expect(await refused(client, 'update_issue', { ...REPO, number: 1, state: 'closed' })).toBe(
      'GitHub refused access to issue #1 of repository octo-org/hello (403: Resource not accessible by personal access ' +
        'token); the token needs the permission issues=write; pull_requests=write',
    );
  });

  it('409: the conflict GitHub describes', async () => {
    expect(await refused(client, 'get_file_contents', { owner: 'octo-bot', repo: 'empty', path: 'README.md' })).toBe(
      'GitHub refused path "README.md" in repository octo-bot/empty (409 Conflict: This repository is empty.)',
    );
    expect(await refused(client, 'list_commits', { owner: 'octo-bot', repo: 'empty' })).toBe(
      'GitHub refused the commits of repository octo-bot/empty (409 Conflict: Git Repository is empty.)',
    );
  });

  it("422: GitHub's validation message", async () => {
    expect(await refused(client, 'create_issue', { ...REPO, title: 'x', assignees: ['nobody'] })).toBe(
      'GitHub refused a new issue in repository octo-org/hello (422 Validation Failed: Issue assignees invalid)',
    );
    expect(
      await refused(client, 'create_pull_request', {
        ...REPO,
        title: 'Again',
        head: 'mallory:feature/x',
        base: 'main',
      }),
    ).toBe(
      'GitHub refused a new pull request in repository octo-org/hello (422 Validation Failed: A pull request already ' +
        'exists for mallory:feature/x.)',
    );
    expect(await refused(client, 'create_pull_request', { ...REPO, title: 'Same', head: 'main', base: 'main' })).toBe(
      'GitHub refused a new pull request in repository octo-org/hello (422 Validation Failed: No commits between main and main)',
    );
    expect(await refused(client, 'get_commit', { ...REPO, sha: 'f'.repeat(40) })).toBe(
      `GitHub refused commit "${'f'.repeat(40)}" of repository octo-org/hello (422 No commit found for SHA: ${'f'.repeat(40)})`,
    );
  });

  it('an answer larger than GITHUB_MAX_RESPONSE_BYTES is refused, not parsed', async () => {
    h.standIn.respond({
      path: /^\/repos\/octo-org\/hello$/,
      status: 200,
      body: { padding: 'x'.repeat(40 * 1024 * 1024) },
    });
    const requests = await sent(h.standIn, async () => {
      expect(await refused(client, 'get_repository', REPO)).toBe(
        "GitHub's answer is larger than GITHUB_MAX_RESPONSE_BYTES (33554432 bytes); ask for less (a smaller per_page)",
      );
    });
    expect(requests.map(line)).toEqual(['GET /repos/octo-org/hello']);
  });

  it('update_issue without a change is refused before GitHub is asked', async () => {
    const requests = await sent(h.standIn, async () => {
      expect(await refused(client, 'update_issue', { ...REPO, number: 1 })).toBe(
        'Invalid arguments for update_issue: arguments: give at least one of title, body, state, state_reason, labels, assignees',
      );
    });
    expect(requests).toEqual([]);
  });
});

describe('a wrong token', () => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness({ GITHUB_TOKEN: 'ghp_wrong0000000000000000000000000000000' });
    client = await connectClient(h.svc.url, 'streamable-http');
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  it('is reported as the operator problem it is, and /health turns unhealthy', async () => {
    expect(await refused(client, 'get_me')).toBe(
      'GitHub rejected the token (401 Bad credentials): GITHUB_TOKEN is wrong, expired or revoked',
    );
    const health = await httpRequest(`${h.svc.url}/health`);
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({
      status: 'unhealthy',
      checks: {
        github: { status: 'down', error: 'GitHub rejected the token (401) on the last request: check GITHUB_TOKEN' },
      },
    });
  });
});

describe('an unreachable GitHub', () => {
  it('answers UNAVAILABLE naming the address, after bounded retries', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const svc = await startService(service, {
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `http://127.0.0.1:${port}`, MCP_TOOL_TIMEOUT_MS: '3000' },
    });
    const client = await connectClient(svc.url, 'sse');
    try {
      const message = await refused(client, 'get_repository', REPO);
      expect(message).toMatch(new RegExp(`^Cannot reach GitHub at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      const health = await httpRequest(`${svc.url}/health`);
      expect(health.status).toBe(503);
      expect((health.json as { checks: { github: { error: string } } }).checks.github.error).toMatch(
        /^Cannot reach GitHub at 127\.0\.0\.1:\d+: /,
      );
    } finally {
      await client.close();
      await svc.close();
    }
  });
});
