import { createHttpClient, createSsrfGuard, FetchError } from '@mcp-sse/net-guard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { robotsFetcherFor } from '../src/fetcher.js';
import { createRobotsChecker, type RobotsFile } from '../src/robots.js';
import { testPolicy, testResolver } from './helpers/network.js';
import { startServer, type TestServer } from './helpers/servers.js';

const UA = 'ModelContextProtocol/1.0 (mcp-sse-fetch; autonomous)';

async function denial(promise: Promise<unknown>): Promise<FetchError> {
  const error: unknown = await promise.then(
    () => new Error('expected a denial'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FetchError);
  return error as FetchError;
}

describe('robots.txt over a real server', () => {
  let site: TestServer;
  let victim: TestServer;
  const fetchOn = (server: TestServer) => (path: string) => new URL(`http://site.test:${server.port}${path}`);
  let robotsBody = '';
  let robotsStatus = 200;

  beforeAll(async () => {
    site = await startServer();
    victim = await startServer();
    site.route('/robots.txt', (_req, res) => {
      res.writeHead(robotsStatus, { 'content-type': 'text/plain' }).end(robotsBody);
    });
  });
  afterAll(async () => {
    await Promise.all([site.close(), victim.close()]);
  });

  function checker(ttlMs = 60_000, now?: () => number) {
    const client = createHttpClient({
      guard: createSsrfGuard({
        policy: testPolicy([{ host: '127.0.0.1', port: site.port }]),
        resolver: testResolver({ 'site.test': ['127.0.0.1'], 'internal.test': ['127.0.0.1'] }).resolver,
      }),
      userAgent: UA,
      timeoutMs: 3000,
      maxBodyBytes: 1024 * 1024,
      maxRedirects: 5,
    });
    return createRobotsChecker({ userAgent: UA, ttlMs, fetchRobots: robotsFetcherFor(client), now });
  }

  it('honours Disallow for our user agent, by its product token', async () => {
    robotsStatus = 200;
    robotsBody = [
      'User-agent: *',
      'Disallow: /private/',
      '',
      'User-agent: ModelContextProtocol',
      'Disallow: /no-ai/',
      'Allow: /no-ai/except-this',
    ].join('\n');
    const robots = checker();
    const url = fetchOn(site);
    await robots.assertAllowed(url('/public/page'));
    await robots.assertAllowed(url('/private/page')); // our group replaces the * group
    await robots.assertAllowed(url('/no-ai/except-this'));
    const error = await denial(robots.assertAllowed(url('/no-ai/page?q=1')));
    expect(error.kind).toBe('ROBOTS');
    expect(error.message).toBe(
      `robots.txt of http://site.test:${site.port} disallows /no-ai/page?q=1 for this user agent (${UA}); ` +
        'set FETCH_IGNORE_ROBOTS=true to ignore robots.txt',
    );
    expect(robots.fetchCount).toBe(1);
    expect(site.hits.filter((hit) => hit.path === '/robots.txt')[0]?.headers['user-agent']).toBe(UA);
  });

  it('treats 4xx as "no rules" and 5xx as "disallow everything"', async () => {
    robotsStatus = 404;
    robotsBody = 'User-agent: *\nDisallow: /';
    await checker().assertAllowed(fetchOn(site)('/anything'));
    robotsStatus = 503;
    const error = await denial(checker().assertAllowed(fetchOn(site)('/anything')));
    expect(error.message).toMatch(/answered HTTP 503, which means "disallow everything" \(RFC 9309\)/);
  });

  it('fetches robots.txt through the SSRF guard', async () => {
    const robots = checker();
    const error = await denial(robots.assertAllowed(new URL(`http://internal.test:${victim.port}/page`)));
    expect(error.kind).toBe('REFUSED');
    expect(victim.hits).toEqual([]);
  });

  it('caches per origin for the TTL and shares concurrent fetches', async () => {
    robotsStatus = 200;
    robotsBody = 'User-agent: *\nDisallow: /x';
    let clock = 1_000;
    const robots = checker(10_000, () => clock);
    const url = fetchOn(site);
    await Promise.all([
      robots.assertAllowed(url('/a')),
      robots.assertAllowed(url('/b')),
      robots.assertAllowed(url('/c')),
    ]);
    expect(robots.fetchCount).toBe(1);
    clock += 9_999;
    await robots.assertAllowed(url('/d'));
    expect(robots.fetchCount).toBe(1);
    clock += 2;
    robotsBody = 'User-agent: *\nDisallow: /d';
    await expect(robots.assertAllowed(url('/d'))).rejects.toThrow(/disallows \/d/);
    expect(robots.fetchCount).toBe(2);
  });
});

describe('robots.txt cache rules', () => {
  function fakeSite(answers: (RobotsFile | Error)[]) {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      fetchRobots: (): Promise<RobotsFile> => {
        const answer = answers[Math.min(calls, answers.length - 1)];
        calls += 1;
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? { status: 404, body: '' });
      },
    };
  }

  it('does not cache failures', async () => {
    const site = fakeSite([new FetchError('CONNECT', 'connection refused by a.test:80'), { status: 404, body: '' }]);
    const robots = createRobotsChecker({ userAgent: UA, ttlMs: 60_000, fetchRobots: site.fetchRobots });
    await expect(robots.assertAllowed(new URL('http://a.test/x'))).rejects.toThrow('connection refused by a.test:80');
    await robots.assertAllowed(new URL('http://a.test/x'));
    expect(site.calls).toBe(2);
  });

  it("one caller's cancellation does not fail another caller sharing the fetch", async () => {
    let release: (file: RobotsFile) => void = () => undefined;
    let calls = 0;
    const robots = createRobotsChecker({
      userAgent: UA,
      ttlMs: 60_000,
      fetchRobots: () => {
        calls += 1;
        return new Promise<RobotsFile>((resolve) => {
          release = resolve;
        });
      },
    });
    const controller = new AbortController();
    const first = robots.assertAllowed(new URL('http://a.test/x'), controller.signal);
    const second = robots.assertAllowed(new URL('http://a.test/y'), new AbortController().signal);
    controller.abort();
    await expect(first).rejects.toMatchObject({ kind: 'CANCELLED' });
    release({ status: 200, body: 'User-agent: *\nDisallow: /y' });
    await expect(second).rejects.toMatchObject({ kind: 'ROBOTS' });
    expect(calls).toBe(1);
  });

  it('keeps a 5xx answer for at most a minute', async () => {
    let clock = 0;
    const site = fakeSite([
      { status: 500, body: '' },
      { status: 200, body: '' },
    ]);
    const robots = createRobotsChecker({
      userAgent: UA,
      ttlMs: 3_600_000,
      fetchRobots: site.fetchRobots,
      now: () => clock,
    });
    await expect(robots.assertAllowed(new URL('http://a.test/x'))).rejects.toThrow(/HTTP 500/);
    clock = 30_000;
    await expect(robots.assertAllowed(new URL('http://a.test/x'))).rejects.toThrow(/HTTP 500/);
    clock = 61_000;
    await robots.assertAllowed(new URL('http://a.test/x'));
    expect(site.calls).toBe(2);
  });

  it('bounds the cache size', async () => {
    const site = fakeSite([{ status: 404, body: '' }]);
    const robots = createRobotsChecker({ userAgent: UA, ttlMs: 60_000, fetchRobots: site.fetchRobots, maxOrigins: 2 });
    for (const host of ['a.test', 'b.test', 'c.test', 'a.test']) await robots.assertAllowed(new URL(`http://${host}/`));
    expect(site.calls).toBe(4); // a.test was evicted by c.test
  });
});
