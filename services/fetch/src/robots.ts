import { FetchError } from '@mcp-sse/net-guard';

import { decideRobots, parseRobotsTxt, productToken, type RobotsRules } from './robots-rules.js';

/**
 * robots.txt, per RFC 9309: 2xx is parsed, 4xx means no rules, 5xx means "assume complete
 * disallow". Results are cached per origin for a TTL (a 5xx for at most a minute, so a brief outage
 * does not block a site for long); concurrent checks of one origin share one fetch.
 */

export interface RobotsFile {
  status: number;
  body: string;
}

/**
 * Fetches `<origin>/robots.txt`; must go through the same SSRF-guarded client as page fetches. It
 * gets no caller signal: one fetch serves every concurrent caller, so one caller's cancellation
 * must not fail the others (the client's own time limit bounds it).
 */
export type RobotsFetcher = (robotsUrl: URL) => Promise<RobotsFile>;

export interface RobotsCheckerOptions {
  userAgent: string;
  ttlMs: number;
  fetchRobots: RobotsFetcher;
  /** Injectable clock for TTL tests. */
  now?: () => number;
  /** Origins kept in the cache; the oldest is dropped beyond this. */
  maxOrigins?: number;
}

type Rules = { kind: 'parsed'; rules: RobotsRules } | { kind: 'allow-all' } | { kind: 'disallow-all'; status: number };

export interface RobotsChecker {
  /** Throws FetchError('ROBOTS') when the URL's robots.txt disallows it for our user agent. */
  assertAllowed(url: URL, signal?: AbortSignal): Promise<void>;
  /** Number of robots.txt fetches made so far (for tests and metrics). */
  readonly fetchCount: number;
}

const SERVER_ERROR_TTL_MS = 60_000;

/** Waits for a shared promise, but lets this caller stop waiting when its own signal fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new FetchError('CANCELLED', 'robots.txt check cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new FetchError('CANCELLED', 'robots.txt check cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export function createRobotsChecker(options: RobotsCheckerOptions): RobotsChecker {
  const now = options.now ?? Date.now;
  const maxOrigins = options.maxOrigins ?? 1000;
  const cache = new Map<string, { expires: number; rules: Promise<Rules> }>();
  const token = productToken(options.userAgent);
  let fetchCount = 0;

  async function load(robotsUrl: URL): Promise<Rules> {
    fetchCount += 1;
    const file = await options.fetchRobots(robotsUrl);
    if (file.status >= 200 && file.status < 300) return { kind: 'parsed', rules: parseRobotsTxt(file.body, token) };
    // 429 is "unavailable" in spirit: treat like a server error.
    if (file.status >= 500 || file.status === 429) return { kind: 'disallow-all', status: file.status };
    return { kind: 'allow-all' };
  }

  function rulesFor(origin: string): Promise<Rules> {
    const cached = cache.get(origin);
    if (cached && cached.expires > now()) return cached.rules;
    const robotsUrl = new URL('/robots.txt', origin);
    const entry = { expires: now() + options.ttlMs, rules: load(robotsUrl) };
    cache.delete(origin);
    cache.set(origin, entry);
    if (cache.size > maxOrigins) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    entry.rules.then(
      (rules) => {
        if (rules.kind === 'disallow-all') entry.expires = Math.min(entry.expires, now() + SERVER_ERROR_TTL_MS);
      },
      // A failed fetch (DNS, refused, timeout) is not cached: the next call tries again.
      () => {
        if (cache.get(origin) === entry) cache.delete(origin);
      },
    );
    return entry.rules;
  }

  return {
    // eslint-disable-next-line no-restricted-syntax -- one per process
    get fetchCount() {
      return fetchCount;
    },
    async assertAllowed(url, signal) {
      const rules = await untilAborted(rulesFor(url.origin), signal);
      const hint = 'set FETCH_IGNORE_ROBOTS=true to ignore robots.txt';
      if (rules.kind === 'allow-all') return;
      if (rules.kind === 'disallow-all') {
        throw new FetchError(
          'ROBOTS',
          `robots.txt of ${url.origin} answered HTTP ${rules.status}, which means "disallow everything" ` +
            `(RFC 9309); try again later or ${hint}`,
        );
      }
      const decision = await decideRobots(rules.rules, `${url.pathname}${url.search}`);
      if (!decision.allowed) {
        throw new FetchError(
          'ROBOTS',
          `robots.txt of ${url.origin} disallows ${url.pathname}${url.search} for this user agent ` +
            `(${options.userAgent}); ${hint}`,
        );
      }
    },
  };
}
