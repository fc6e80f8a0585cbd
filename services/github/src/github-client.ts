import type { Octokit as CoreOctokit } from '@octokit/core';
import type { Octokit } from '@octokit/rest';

import { answerTooLarge, GitHubError } from './github-error.js';
import { plainGetJson, requestFailure } from './plain-get.js';
import { QuotaTracker } from './quota.js';
import { rateLimitMessage, translateRequestError } from './request-errors.js';

/** The tool call a request belongs to: its abort signal and the moment its time is up (epoch ms). */
export interface CallScope {
  signal: AbortSignal;
  deadline: number;
}

/** The Octokit request options this service adds (`request: {...}` of every call). */
interface ScopedRequestOptions {
  signal?: AbortSignal;
  deadline?: number;
  retries?: number;
  retryCount?: number;
  parseSuccessResponseBody?: boolean;
}

export interface GitHubClientOptions {
  token: string;
  apiUrl: string;
  userAgent: string;
  /** Most bytes read from one buffered answer (JSON and every error body). */
  maxResponseBytes: number;
  /** The longest a call waits for a rate limit to pass (also bounded by the call's own deadline). */
  maxRateLimitWaitMs: number;
  log: { warn(message: string): void; debug(message: string): void };
}

/** GitHub's REST API version this service is written against. */
export const API_VERSION = '2022-11-28';
/** Time a retried request needs besides its wait: no retry starts closer than this to the deadline. */
const RETRY_MARGIN_MS = 1000;
/**
 * Statuses plugin-retry must not retry: GitHub's own answers about the request (its defaults), plus
 * 409 (a conflict does not go away), 413 and 429 (rate limits are the throttling plugin's, which
 * knows when to retry). Left: 5xx and requests that got no answer.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 413, 422, 429, 451];
/** Retries of a request that failed with 5xx or got no answer: waits of 1 s and 4 s (plugin-retry's (n + 1)² s). */
const RETRIES = 2;
/** How long a failed GET /rate_limit of /health is remembered before /health asks again. */
const HEALTH_FAILURE_TTL_MS = 30_000;

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\b/i;

/**
 * fetch, with every JSON or error answer read into memory up to `maxBytes` and refused beyond:
 * Octokit parses those whole. Successful non-JSON answers (diffs, logs, raw files) stream on to
 * their reader, which bounds what it reads itself.
 */
export function cappedFetch(maxBytes: number, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const type = response.headers.get('content-type') ?? '';
    if (response.ok && !JSON_TYPE.test(type)) return response;
    if (response.body === null || [101, 204, 205, 304].includes(response.status)) return response;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw answerTooLarge(maxBytes);
      }
      chunks.push(value);
    }
    return new Response(Buffer.concat(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** The request options of one tool call, read back inside Octokit's hooks. */
function scopedOf(options: { request?: unknown }): ScopedRequestOptions {
  return options.request ?? {};
}

/**
 * Whether to wait `retryAfter` seconds and try once more: only the first time, and only when the wait
 * fits both the configured maximum and the time the call has left. Otherwise the call answers at once
 * with RATE_LIMITED, saying when to retry.
 */
function rateLimitRetry(maxWaitMs: number) {
  return (retryAfter: number, options: { request?: unknown }, _octokit: unknown, retryCount: number): boolean => {
    const { deadline } = scopedOf(options);
    const waitMs = retryAfter * 1000;
    return (
      retryCount < 1 &&
      deadline !== undefined &&
      waitMs <= maxWaitMs &&
      Date.now() + waitMs + RETRY_MARGIN_MS < deadline
    );
  };
}

/** Makes plugin-retry give up when its next wait ((retryCount + 1)² seconds) would overrun the call's deadline. */
function boundRetries(octokit: CoreOctokit): void {
  octokit.hook.error('request', (error, options) => {
    const scoped = scopedOf(options);
    const count = scoped.retryCount ?? 0;
    const waitMs = (count + 1) ** 2 * 1000;
    const overruns = scoped.deadline === undefined || Date.now() + waitMs + RETRY_MARGIN_MS > scoped.deadline;
    if (overruns || error.cause instanceof GitHubError) scoped.retries = Math.min(scoped.retries ?? count, count);
    throw error;
  });
}

/** Sends the API version header and records every answer's rate-limit headers (each attempt, retries included). */
function observeWith(quota: QuotaTracker) {
  return (octokit: CoreOctokit): void => {
    octokit.hook.before('request', (options) => {
      options.headers['x-github-api-version'] = API_VERSION;
    });
    octokit.hook.after('request', (response) => quota.observe(response.status, response.headers));
    octokit.hook.error('request', (error) => {
      const response = (error as { response?: { status: number; headers: Record<string, string | undefined> } })
        .response;
      if (response) quota.observe(response.status, response.headers);
      throw error;
    });
  };
}

export type RestApi = InstanceType<typeof Octokit>['rest'];

type OctokitLog = {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
};

/**
 * The one GitHub client of the process: Octokit with the throttling and retry plugins, bounded by each
 * call's signal and deadline, its answers bounded in size, its rate-limit state kept for /health.
 *
 * Octokit's REST methods and the two plugins are imported by the first tool call, not at start
 * (with the endpoint table and the throttling plugin's scheduler they were most of the service's
 * start: README "Start-up"); /health asks GET /rate_limit with node's own HTTP client (plain-get.ts).
 */
export class GitHubClient {
  readonly quota: QuotaTracker;
  readonly apiHost: string;
  private readonly log: OctokitLog;
  private octokit: InstanceType<typeof Octokit> | undefined;
  private loading: Promise<InstanceType<typeof Octokit>> | undefined;
  private rateLimitCheck: Promise<void> | undefined;
  private rateLimitFailure: { at: number; error: unknown } | undefined;

  constructor(private readonly options: GitHubClientOptions) {
    this.quota = new QuotaTracker();
    this.apiHost = new URL(options.apiUrl).host;
    const scrub = (message: string) => message.split(options.token).join('[redacted]');
    // Octokit logs every failed request at error level; the service reports failures itself.
    this.log = {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => options.log.warn(scrub(message)),
      error: (message: string) => options.log.debug(scrub(message)),
    };
  }

  /** Octokit's REST methods: only inside `call()`, which loads them first. */
  get rest(): RestApi {
    if (this.octokit === undefined) throw new Error('GitHubClient.rest used outside call(): Octokit is not loaded yet');
    return this.octokit.rest;
  }

  private load(): Promise<InstanceType<typeof Octokit>> {
    this.loading ??= (async () => {
      const [{ Octokit: RestOctokit }, { retry }, { throttling }] = await Promise.all([
        import('@octokit/rest'),
        import('@octokit/plugin-retry'),
        import('@octokit/plugin-throttling'),
      ]);
      const ServiceOctokit = RestOctokit.plugin(observeWith(this.quota), throttling, boundRetries, retry);
      this.octokit = new ServiceOctokit({
        auth: this.options.token,
        baseUrl: this.options.apiUrl,
        userAgent: this.options.userAgent,
        log: this.log,
        // @octokit/request logs (deprecation notices) through request.log, or else the console.
        request: { fetch: cappedFetch(this.options.maxResponseBytes), log: this.log },
        throttle: {
          onRateLimit: rateLimitRetry(this.options.maxRateLimitWaitMs),
          onSecondaryRateLimit: rateLimitRetry(this.options.maxRateLimitWaitMs),
        },
        retry: { doNotRetry: DO_NOT_RETRY, retries: RETRIES },
      });
      return this.octokit;
    })();
    return this.loading;
  }

  /**
   * The `request` options of one call: its signal and deadline; no retries for requests that are not
   * idempotent (a POST that failed with a 502 may have been done); a stream instead of a parsed body
   * when asked (diffs, logs, raw files).
   */
  requestOptions(scope: CallScope, kind: { write?: boolean; stream?: boolean } = {}): ScopedRequestOptions {
    return {
      signal: scope.signal,
      deadline: scope.deadline,
      ...(kind.write === true && { retries: 0 }),
      ...(kind.stream === true && { parseSuccessResponseBody: false }),
    };
  }

  /**
   * Runs one GitHub request for `what` (`repository octo/hello`): refused at once when its quota is
   * known to be used up, and any failure turned into a GitHubError with a clear message.
   */
  async call<T>(what: string, send: () => Promise<T>, resource = 'core'): Promise<T> {
    if (this.octokit === undefined) await this.load();
    return this.answer(what, send, resource);
  }

  /** `send`, refused at once when the quota is used up, its failure translated. */
  private async answer<T>(what: string, send: () => Promise<T>, resource: string): Promise<T> {
    const exhausted = this.quota.exhausted(resource);
    if (exhausted) {
      throw new GitHubError(
        'RATE_LIMITED',
        rateLimitMessage(
          {
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(exhausted.reset),
            'x-ratelimit-limit': String(exhausted.limit),
            'x-ratelimit-resource': exhausted.resource,
          },
          '',
        ),
      );
    }
    try {
      return await send();
    } catch (error) {
      throw translateRequestError(error, what, this.apiHost);
    }
  }

  /**
   * What /health shows: the quota from the last answers. Only when nothing is known yet does it ask
   * GitHub, once (GET /rate_limit, which costs no quota); a failure is remembered for 30 s.
   */
  async health(signal: AbortSignal): Promise<{ api_url: string; rate_limit: ReturnType<QuotaTracker['snapshot']> }> {
    if (this.quota.tokenRejectedAt !== undefined) {
      throw new GitHubError('UNAVAILABLE', 'GitHub rejected the token (401) on the last request: check GITHUB_TOKEN');
    }
    if (!this.quota.known) {
      const failure = this.rateLimitFailure;
      if (failure && Date.now() - failure.at < HEALTH_FAILURE_TTL_MS) throw failure.error;
      this.rateLimitCheck ??= this.checkRateLimit(signal).finally(() => (this.rateLimitCheck = undefined));
      await this.rateLimitCheck;
    }
    return { api_url: this.options.apiUrl, rate_limit: this.quota.snapshot() };
  }

  private async checkRateLimit(signal: AbortSignal): Promise<void> {
    try {
      const { data } = await this.answer(
        'the rate limit',
        async () => {
          const { token, apiUrl, userAgent, maxResponseBytes } = this.options;
          const url = new URL(`${apiUrl.replace(/\/+$/, '')}/rate_limit`);
          const headers = {
            accept: 'application/vnd.github+json',
            authorization: `token ${token}`,
            'user-agent': userAgent,
            'x-github-api-version': API_VERSION,
          };
          const answer = await plainGetJson(url, headers, signal, maxResponseBytes);
          this.quota.observe(answer.status, answer.headers);
          if (answer.status < 200 || answer.status >= 300) throw requestFailure(answer);
          return answer;
        },
        'core',
      );
      this.quota.observeRateLimitBody(data);
      this.rateLimitFailure = undefined;
    } catch (error) {
      this.rateLimitFailure = { at: Date.now(), error };
      throw error;
    }
  }
}
