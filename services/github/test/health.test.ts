import { httpRequest } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';

import { connectClient, type Harness, line, ok, sent, startHarness, TOKEN } from './helpers/harness.js';

interface GitHubCheck {
  status: string;
  api_url?: string;
  error?: string;
  rate_limit?: Record<string, { limit: number; remaining: number; used: number; resets_at: string }>;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function health(h: Harness): Promise<{ status: number; github: GitHubCheck }> {
  const response = await httpRequest(`${h.svc.url}/health`);
  return { status: response.status, github: (response.json as { checks: { github: GitHubCheck } }).checks.github };
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

describe('/health and the GitHub quota', () => {
  it('with nothing known yet, asks GET /rate_limit once (concurrent checks share it), then never again', async () => {
    const h = await startHarness();
    open.push(h);
    const requests = await sent(h.standIn, async () => {
      const [first, second] = await Promise.all([health(h), health(h)]);
      expect({ ...first.github, latency_ms: 0 }).toEqual({ ...second.github, latency_ms: 0 });
      expect(first.status).toBe(200);
      const core = h.standIn.quota('core');
      expect(first.github).toMatchObject({
        status: 'ok',
        api_url: h.standIn.url,
        rate_limit: {
          core: { limit: 5000, remaining: core.remaining, used: 5000 - core.remaining, resets_at: iso(core.reset) },
          search: { limit: 30, remaining: 30, used: 0 },
          code_search: { limit: 10, remaining: 10, used: 0 },
          graphql: { limit: 10, remaining: 10, used: 0 },
        },
      });
      for (let i = 0; i < 5; i++) expect((await health(h)).status).toBe(200);
    });
    expect(requests.map(line)).toEqual(['GET /rate_limit']);
  });

  it('reports the quota from the last answers, spending nothing', async () => {
    const h = await startHarness();
    open.push(h);
    const client: Client = await connectClient(h.svc.url, 'streamable-http');
    try {
      await ok(client, 'get_repository', { owner: 'octo-org', repo: 'hello' });
      await ok(client, 'search_issues', { query: 'crash' });
      const requests = await sent(h.standIn, async () => {
        const { github } = await health(h);
        const core = h.standIn.quota('core');
        const search = h.standIn.quota('search');
        expect(github.rate_limit).toEqual({
          core: { limit: 5000, remaining: core.remaining, used: 5000 - core.remaining, resets_at: iso(core.reset) },
          search: { limit: 30, remaining: search.remaining, used: 30 - search.remaining, resets_at: iso(search.reset) },
        });
        expect(github.rate_limit?.['core']?.remaining).toBe(4999);
      });
      expect(requests).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('a failed GET /rate_limit turns /health unhealthy, and is remembered rather than retried on every check', async () => {
    const h = await startHarness();
    open.push(h);
    h.standIn.respond({ path: /^\/rate_limit$/, status: 503, times: 5, body: { message: 'Service Unavailable' } });
    const requests = await sent(h.standIn, async () => {
      for (let i = 0; i < 3; i++) {
        const { status, github } = await health(h);
        expect(status).toBe(503);
        expect(github).toMatchObject({
          status: 'down',
          error: 'GitHub failed on the rate limit (503: Service Unavailable); retry later',
        });
      }
    });
    expect(requests.map(line)).toEqual(['GET /rate_limit']);
  });

  it("asks with node's own client what Octokit would send: the token, the API version, the user agent", async () => {
    const h = await startHarness();
    open.push(h);
    const [request] = await sent(h.standIn, () => health(h));
    expect(request?.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      authorization: `token ${TOKEN}`,
      'x-github-api-version': '2022-11-28',
    });
    expect(request?.headers['user-agent']).toMatch(/^mcp-sse-github\/\d+\.\d+\.\d+$/);
  });

  it('a token GitHub rejects on GET /rate_limit is named as the problem', async () => {
    const h = await startHarness({ GITHUB_TOKEN: 'ghp_not_the_right_one' });
    open.push(h);
    const { status, github } = await health(h);
    expect(status).toBe(503);
    expect({ ...github, latency_ms: 0 }).toEqual({
      status: 'down',
      latency_ms: 0,
      error: 'GitHub rejected the token (401 Bad credentials): GITHUB_TOKEN is wrong, expired or revoked',
    });
  });

  it('an answer larger than GITHUB_MAX_RESPONSE_BYTES is refused, not read whole', async () => {
    const h = await startHarness({ GITHUB_MAX_RESPONSE_BYTES: String(64 * 1024) });
    open.push(h);
    h.standIn.respond({ path: /^\/rate_limit$/, status: 200, body: { padding: 'x'.repeat(256 * 1024) } });
    const { status, github } = await health(h);
    expect(status).toBe(503);
    expect(github.error).toBe(
      "GitHub's answer is larger than GITHUB_MAX_RESPONSE_BYTES (65536 bytes); ask for less (a smaller per_page)",
    );
  });
});
