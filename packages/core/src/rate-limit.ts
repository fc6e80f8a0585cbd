/**
 * Tool calls per minute per identity, as a token bucket: a burst of `perMinute` calls, refilled
 * continuously. In memory, per process (one replica per service is the deployment model).
 */
export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(perMinute: number, now: () => number = () => Date.now()): RateLimiter {
  if (perMinute <= 0) return { take: () => 0 };
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  let lastSweep = now();
  return {
    take(key) {
      const t = now();
      // Drop full buckets now and then so that one-off identities do not accumulate.
      if (t - lastSweep > 60_000) {
        for (const [k, b] of buckets) if (b.tokens + (t - b.at) * perMs >= perMinute) buckets.delete(k);
        lastSweep = t;
      }
      const bucket = buckets.get(key) ?? { tokens: perMinute, at: t };
      bucket.tokens = Math.min(perMinute, bucket.tokens + (t - bucket.at) * perMs);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - bucket.tokens) / perMs / 1000);
    },
  };
}
