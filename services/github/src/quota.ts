/**
 * GitHub's rate-limit quota as the last answers reported it (`x-ratelimit-*` headers, one resource
 * each: core, search, code_search, graphql, …). /health reads it from here instead of asking GitHub,
 * and a call whose resource is known to be exhausted is answered at once without spending a request.
 */
export interface Quota {
  resource: string;
  limit: number;
  remaining: number;
  used: number;
  /** When the window resets, in epoch seconds. */
  reset: number;
}

type Headers = Readonly<Record<string, string | number | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : String(value);
}

function count(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value);
}

/** The quota one answer reports, or undefined when it carries no (valid) rate-limit headers. */
export function quotaFromHeaders(headers: Headers): Quota | undefined {
  const limit = count(header(headers, 'x-ratelimit-limit'));
  const remaining = count(header(headers, 'x-ratelimit-remaining'));
  const reset = count(header(headers, 'x-ratelimit-reset'));
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  const used = count(header(headers, 'x-ratelimit-used')) ?? Math.max(limit - remaining, 0);
  const resource = header(headers, 'x-ratelimit-resource')?.trim() || 'core';
  if (!/^[a-z_]{1,40}$/.test(resource)) return undefined;
  return { resource, limit, remaining, used, reset };
}

export class QuotaTracker {
  private readonly byResource = new Map<string, Quota>();
  /** Set when GitHub last answered 401 (the token is bad); cleared by the next success. */
  private rejectedAt: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Records what one answer says (every answer, success or failure). */
  observe(status: number, headers: Headers): void {
    const quota = quotaFromHeaders(headers);
    if (quota) this.byResource.set(quota.resource, quota);
    if (status === 401) this.rejectedAt = this.now();
    else if (status < 400) this.rejectedAt = undefined;
  }

  /** Records the body of GET /rate_limit: `{resources: {core: {limit, remaining, used, reset}, …}}`. */
  observeRateLimitBody(body: unknown): void {
    const resources = (body as { resources?: unknown } | null)?.resources;
    if (resources === null || typeof resources !== 'object') return;
    for (const [resource, value] of Object.entries(resources)) {
      if (!/^[a-z_]{1,40}$/.test(resource) || value === null || typeof value !== 'object') continue;
      const { limit, remaining, used, reset } = value as Record<string, unknown>;
      if ([limit, remaining, reset].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
        this.byResource.set(resource, {
          resource,
          limit: limit as number,
          remaining: remaining as number,
          used: Number.isSafeInteger(used) ? (used as number) : (limit as number) - (remaining as number),
          reset: reset as number,
        });
      }
    }
  }

  get known(): boolean {
    return this.byResource.size > 0;
  }

  /** The time GitHub last refused the token, if the last word on it was a 401. */
  get tokenRejectedAt(): number | undefined {
    return this.rejectedAt;
  }

  /** The quota of `resource` when it is used up and its window has not reset yet. */
  exhausted(resource: string): Quota | undefined {
    const quota = this.byResource.get(resource);
    if (!quota || quota.remaining > 0) return undefined;
    return quota.reset * 1000 > this.now() ? quota : undefined;
  }

  /** Every known resource, for /health (reset as an ISO time). */
  snapshot(): Record<string, { limit: number; remaining: number; used: number; resets_at: string }> {
    const out: Record<string, { limit: number; remaining: number; used: number; resets_at: string }> = {};
    for (const quota of [...this.byResource.values()].sort((a, b) => a.resource.localeCompare(b.resource))) {
      out[quota.resource] = {
        limit: quota.limit,
        remaining: quota.remaining,
        used: quota.used,
        resets_at: new Date(quota.reset * 1000).toISOString(),
      };
    }
    return out;
  }
}
