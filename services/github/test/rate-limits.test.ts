import { waitUntil } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';

import { call, connectClient, type Harness, line, ok, refused, sent, startHarness } from './helpers/harness.js';

const SECONDARY = {
  message:
    'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to ' +
    'GitHub Support for help, please include the request ID ABCD:1234.',
  documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
};
const PRIMARY = {
  message:
    'API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID ABCD:1234.',
  documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
};
const REPO = { owner: 'octo-org', repo: 'hello' };

/** GitHub's secondary rate limit on GET /repos/octo-org/hello: 403 with retry-after. */
const secondaryLimit = (retryAfter: number) => ({
  path: /^\/repos\/octo-org\/hello$/,
  status: 403,
  headers: { 'retry-after': String(retryAfter) },
  body: SECONDARY,
});

const open: { h: Harness; client: Client }[] = [];

async function setup(env: Record<string, string> = {}) {
  const h = await startHarness(env);
  const client = await connectClient(h.svc.url, 'streamable-http');
  open.push({ h, client });
  return { h, client };
}

afterEach(async () => {
  for (const { h, client } of open.splice(0)) {
    await client.close();
    await h.close();
  }
});

/** Epoch seconds `s` from now, as x-ratelimit-reset carries it. */
const resetIn = (s: number) => String(Math.floor(Date.now() / 1000) + s);

describe('secondary rate limits (403 with retry-after)', () => {
  it('a short retry-after that fits the call is waited out and retried once', async () => {
    const { h, client } = await setup();
    h.standIn.respond(secondaryLimit(1));
    const requests = await sent(h.standIn, async () => {
      expect(await ok(client, 'get_repository', REPO)).toMatchObject({ full_name: 'octo-org/hello' });
    });
    expect(requests.map(line)).toEqual(['GET /repos/octo-org/hello', 'GET /repos/octo-org/hello']);
  });

  it('a long retry-after is answered at once, saying when to retry', async () => {
    const { h, client } = await setup();
    h.standIn.respond(secondaryLimit(120));
    const started = Date.now();
    let message = '';
    const requests = await sent(h.standIn, async () => (message = await refused(client, 'get_repository', REPO)));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(requests).toHaveLength(1);
    expect(message).toMatch(
      /^GitHub's secondary rate limit was hit \(too many requests in a short time\); retry after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in 120 s\)$/,
    );
    const at = Date.parse(/retry after (\S+)/.exec(message)?.[1] ?? '');
    expect(Math.abs(at - (started + 120_000))).toBeLessThan(10_000);
  });

  it('GITHUB_RATE_LIMIT_MAX_WAIT_MS=0 never waits', async () => {
    const { h, client } = await setup({ GITHUB_RATE_LIMIT_MAX_WAIT_MS: '0' });
    h.standIn.respond(secondaryLimit(1));
    const requests = await sent(h.standIn, async () => {
      expect(await refused(client, 'get_repository', REPO)).toMatch(/\(in 1 s\)$/);
    });
    expect(requests).toHaveLength(1);
  });

  it("a wait longer than the call's remaining time is not started", async () => {
    const { h, client } = await setup({ MCP_TOOL_TIMEOUT_MS: '2500' });
    h.standIn.respond(secondaryLimit(3));
    const requests = await sent(h.standIn, async () => {
      expect(await refused(client, 'get_repository', REPO)).toMatch(
        /^GitHub's secondary rate limit was hit .*\(in 3 s\)$/,
      );
    });
    expect(requests).toHaveLength(1);
  });
});

describe('primary rate limits (x-ratelimit-remaining: 0)', () => {
  for (const status of [403, 429]) {
    it(`${status}: answered at once with the reset time; later calls on that resource spend no request`, async () => {
      const { h, client } = await setup();
      const reset = resetIn(1800);
      h.standIn.respond({
        path: /^\/repos\//,
        status,
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': reset,
          'x-ratelimit-limit': '5000',
          'x-ratelimit-resource': 'core',
        },
        body: PRIMARY,
      });
      const resetAt = new Date(Number(reset) * 1000).toISOString();
      const expected = new RegExp(
        `^GitHub's rate limit is used up \\(core: 5000 requests per window\\); retry after ${resetAt.replace(/[.]/g, '\\.')} \\(in (1800|1801) s\\)$`,
      );
      const first = await sent(h.standIn, async () =>
        expect(await refused(client, 'get_repository', REPO)).toMatch(expected),
      );
      expect(first).toHaveLength(1);
      const later = await sent(h.standIn, async () => {
        expect(await refused(client, 'list_branches', REPO)).toMatch(expected);
        expect(await refused(client, 'get_issue', { ...REPO, number: 1 })).toMatch(expected);
      });
      expect(later).toEqual([]);
      // Search has its own quota.
      expect(await ok(client, 'search_repositories', { query: 'hello' })).toMatchObject({ total_count: 1 });
    });
  }

  it('a reset a few seconds away is waited out, then the call goes through', async () => {
    const { h, client } = await setup();
    h.standIn.respond({
      path: /^\/repos\/octo-org\/hello$/,
      status: 429,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': resetIn(1), 'x-ratelimit-limit': '5000' },
      body: PRIMARY,
    });
    const requests = await sent(h.standIn, async () => {
      expect(await ok(client, 'get_repository', REPO)).toMatchObject({ full_name: 'octo-org/hello' });
    });
    expect(requests).toHaveLength(2);
  });
});

describe('server errors and retries', () => {
  it('a GET that fails with 502 is retried', async () => {
    const { h, client } = await setup();
    h.standIn.respond({ path: /^\/repos\/octo-org\/hello$/, status: 502, body: { message: 'Server Error' } });
    const requests = await sent(h.standIn, async () => {
      expect(await ok(client, 'get_repository', REPO)).toMatchObject({ full_name: 'octo-org/hello' });
    });
    expect(requests.map(line)).toEqual(['GET /repos/octo-org/hello', 'GET /repos/octo-org/hello']);
  });

  it('a POST that fails with 502 is not retried (it may have been done): the caller is told', async () => {
    const { h, client } = await setup();
    const issues = h.standIn.world.repos.get('octo-org/hello')!.issues.length;
    h.standIn.respond({ method: 'POST', path: /\/issues$/, status: 502, body: { message: 'Server Error' } });
    const requests = await sent(h.standIn, async () => {
      expect(await refused(client, 'create_issue', { ...REPO, title: 'Once' })).toBe(
        'GitHub failed on a new issue in repository octo-org/hello (502: Server Error); retry later',
      );
    });
    expect(requests.map(line)).toEqual(['POST /repos/octo-org/hello/issues']);
    expect(h.standIn.world.repos.get('octo-org/hello')!.issues.length).toBe(issues);
  });

  it("retries stop where the next wait would pass the call's deadline: the error, not a timeout", async () => {
    const { h, client } = await setup({ MCP_TOOL_TIMEOUT_MS: '3000' });
    h.standIn.respond({
      path: /^\/repos\/octo-org\/hello$/,
      status: 503,
      times: 10,
      body: { message: 'Service Unavailable' },
    });
    const requests = await sent(h.standIn, async () => {
      expect(await refused(client, 'get_repository', REPO)).toBe(
        'GitHub failed on repository octo-org/hello (503: Service Unavailable); retry later',
      );
    });
    // 1 s then 4 s (plugin-retry's waits), each with 1 s to spare: the first fits the 6 s, the second does not.
    expect(requests).toHaveLength(2);
  });

  it('a GitHub that never answers: the call times out and its request is abandoned', async () => {
    const { h, client } = await setup({ MCP_TOOL_TIMEOUT_MS: '1000' });
    h.standIn.respond({ path: /^\/repos\/octo-org\/hello$/, hang: true });
    const result = await call(client, 'get_repository', REPO);
    expect(result).toMatchObject({ isError: true, text: 'get_repository timed out after 1000 ms' });
    await waitUntil(() => h.standIn.hanging() === 0, 'the held request to be closed by the service');
    // The service still works.
    expect(await ok(client, 'get_repository', REPO)).toMatchObject({ full_name: 'octo-org/hello' });
  });
});

describe('request spacing (the throttling plugin queues writes)', () => {
  it('a write still queued when its call ends is never sent', { timeout: 60_000 }, async () => {
    // Two services in one process share Octokit's queues, as every call of one service does.
    const long = await setup();
    const short = await setup({ MCP_TOOL_TIMEOUT_MS: '500' });
    // Issue writes are spaced at least 3 s apart (they notify people).
    await ok(long.client, 'create_issue', { ...REPO, title: 'first' });
    const queued = await call(short.client, 'create_issue', { ...REPO, title: 'queued' });
    expect(queued).toMatchObject({ isError: true, text: 'create_issue timed out after 500 ms' });
    // The queue is first in, first out: once this one is sent, the queued one has had its turn.
    await ok(long.client, 'create_issue', { ...REPO, title: 'third' });
    expect(short.h.standIn.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(
      long.h.standIn.requests.filter((r) => r.method === 'POST').map((r) => (r.body as { title: string }).title),
    ).toEqual(['first', 'third']);
  });
});
