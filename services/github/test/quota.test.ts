import { describe, expect, it } from 'vitest';

import { quotaFromHeaders, QuotaTracker } from '../src/quota.js';

describe('quotaFromHeaders', () => {
  it("reads GitHub's x-ratelimit-* headers", () => {
    expect(
      quotaFromHeaders({
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4990',
        'x-ratelimit-used': '10',
        'x-ratelimit-reset': '1735732800',
        'x-ratelimit-resource': 'core',
      }),
    ).toEqual({ resource: 'core', limit: 5000, remaining: 4990, used: 10, reset: 1735732800 });
  });

  it('ignores answers without them, or with nonsense', () => {
    expect(quotaFromHeaders({})).toBeUndefined();
    expect(
      quotaFromHeaders({ 'x-ratelimit-limit': 'many', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '1' }),
    ).toBeUndefined();
    expect(
      quotaFromHeaders({
        'x-ratelimit-limit': '1',
        'x-ratelimit-remaining': '1',
        'x-ratelimit-reset': '1',
        'x-ratelimit-resource': 'a"b',
      }),
    ).toBeUndefined();
  });
});

describe('QuotaTracker', () => {
  const now = 1_735_732_800_000;
  const headers = (resource: string, remaining: number, reset = now / 1000 + 60) => ({
    'x-ratelimit-limit': '30',
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(reset),
    'x-ratelimit-resource': resource,
  });

  it('keeps the latest quota per resource', () => {
    const tracker = new QuotaTracker(() => now);
    expect(tracker.known).toBe(false);
    tracker.observe(200, headers('search', 10));
    tracker.observe(200, headers('core', 4000));
    tracker.observe(200, headers('search', 9));
    expect(tracker.snapshot()).toEqual({
      core: { limit: 30, remaining: 4000, used: 0, resets_at: '2025-01-01T12:01:00.000Z' },
      search: { limit: 30, remaining: 9, used: 21, resets_at: '2025-01-01T12:01:00.000Z' },
    });
  });

  it('knows a resource is exhausted until its window resets', () => {
    let clock = now;
    const tracker = new QuotaTracker(() => clock);
    tracker.observe(403, headers('search', 0));
    expect(tracker.exhausted('search')).toMatchObject({ resource: 'search', remaining: 0 });
    expect(tracker.exhausted('core')).toBeUndefined();
    clock = now + 61_000;
    expect(tracker.exhausted('search')).toBeUndefined();
  });

  it('remembers a 401 until the next success', () => {
    const tracker = new QuotaTracker(() => now);
    tracker.observe(401, {});
    expect(tracker.tokenRejectedAt).toBe(now);
    tracker.observe(404, {});
    expect(tracker.tokenRejectedAt).toBe(now);
    tracker.observe(200, {});
    expect(tracker.tokenRejectedAt).toBeUndefined();
  });

  it('reads the body of GET /rate_limit', () => {
    const tracker = new QuotaTracker(() => now);
    tracker.observeRateLimitBody({
      resources: {
        core: { limit: 5000, remaining: 4999, used: 1, reset: 1735736400 },
        search: { limit: 30, remaining: 30, used: 0, reset: 1735732860 },
        'bad-name': { limit: 1, remaining: 1, used: 0, reset: 1 },
        graphql: { limit: -1, remaining: 1, used: 0, reset: 1 },
      },
      rate: {},
    });
    expect(Object.keys(tracker.snapshot())).toEqual(['core', 'search']);
    tracker.observeRateLimitBody('not an object');
    expect(Object.keys(tracker.snapshot())).toEqual(['core', 'search']);
  });
});
