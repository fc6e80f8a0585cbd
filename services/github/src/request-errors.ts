import { GitHubError } from './github-error.js';
import { missingScopes } from './scopes.js';

/** What a failed Octokit request carries (its RequestError), read by shape, not by class. */
interface RequestFailure {
  status: number;
  headers: Readonly<Record<string, string | number | undefined>>;
  data: unknown;
  message: string;
  /** False when no answer came at all (DNS, connection, TLS): Octokit then reports status 500. */
  answered: boolean;
}

function failureOf(error: unknown): RequestFailure | undefined {
  if (!(error instanceof Error) || error.name !== 'HttpError') return undefined;
  const { status, response } = error as Error & {
    status?: unknown;
    response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  };
  if (typeof status !== 'number') return undefined;
  return {
    status,
    headers: response?.headers ?? {},
    data: response?.data,
    message: error.message,
    answered: response !== undefined,
  };
}

function header(failure: RequestFailure, name: string): string | undefined {
  const value = failure.headers[name];
  return value === undefined ? undefined : String(value);
}

/** One line of text from GitHub, without control characters, at most `max` long. */
function clean(text: string, max = 300): string {
  const line = text.replace(/\p{Cc}+/gu, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** GitHub's error message with its validation errors: `Validation Failed: title missing_field`. */
export function githubMessage(data: unknown, fallback = ''): string {
  if (typeof data === 'string') return clean(data) || fallback;
  if (data === null || typeof data !== 'object') return fallback;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const head = typeof message === 'string' ? clean(message) : fallback;
  if (!Array.isArray(errors) || errors.length === 0) return head;
  const details = errors.slice(0, 5).map((entry: unknown) => {
    if (typeof entry === 'string') return clean(entry, 200);
    if (entry === null || typeof entry !== 'object') return '';
    const { message: text, field, code, resource } = entry as Record<string, unknown>;
    if (typeof text === 'string' && text.length > 0) return clean(text, 200);
    return clean([resource, field, code].filter((part) => typeof part === 'string').join(' '), 200);
  });
  return `${head}: ${details.filter((detail) => detail.length > 0).join('; ')}`;
}

/** A whole number of seconds from a header (retry-after: a delay; x-ratelimit-reset: epoch seconds). */
function seconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,12}$/.test(value.trim())) return undefined;
  return Number(value);
}

/** When to retry a rate-limited request, in whole seconds from now, and the moment as ISO time. */
export function retryAfterOf(
  headers: Readonly<Record<string, string | number | undefined>>,
  now = Date.now(),
): { seconds: number; at: string } | undefined {
  const get = (name: string) => (headers[name] === undefined ? undefined : String(headers[name]));
  const after = seconds(get('retry-after'));
  if (after !== undefined) return { seconds: after, at: new Date(now + after * 1000).toISOString() };
  if (get('x-ratelimit-remaining') === '0') {
    const reset = seconds(get('x-ratelimit-reset'));
    if (reset !== undefined) {
      const wait = Math.max(Math.ceil((reset * 1000 - now) / 1000), 0) + 1;
      return { seconds: wait, at: new Date(reset * 1000).toISOString() };
    }
  }
  return undefined;
}

/** The message of a rate-limit refusal: which limit, and when to retry. */
export function rateLimitMessage(
  headers: Readonly<Record<string, string | number | undefined>>,
  githubText: string,
  now = Date.now(),
): string {
  const get = (name: string) => (headers[name] === undefined ? undefined : String(headers[name]));
  const when = retryAfterOf(headers, now) ?? { seconds: 60, at: new Date(now + 60_000).toISOString() };
  const retry = `retry after ${when.at} (in ${when.seconds} s)`;
  if (
    /\bsecondary rate\b/i.test(githubText) ||
    (get('retry-after') !== undefined && get('x-ratelimit-remaining') !== '0')
  ) {
    return `GitHub's secondary rate limit was hit (too many requests in a short time); ${retry}`;
  }
  const resource = get('x-ratelimit-resource') ?? 'core';
  const limit = get('x-ratelimit-limit');
  return (
    `GitHub's rate limit is used up (${/^[a-z_]{1,40}$/.test(resource) ? resource : 'core'}` +
    `${limit !== undefined && /^\d+$/.test(limit) ? `: ${limit} requests per window` : ''}); ${retry}`
  );
}

/** Whether a failed answer is a rate-limit refusal (primary or secondary). */
function isRateLimited(failure: RequestFailure): boolean {
  if (failure.status !== 403 && failure.status !== 429) return false;
  if (failure.status === 429) return true;
  return (
    header(failure, 'x-ratelimit-remaining') === '0' ||
    header(failure, 'retry-after') !== undefined ||
    /\bsecondary rate\b|\brate limit\b/i.test(githubMessage(failure.data, failure.message))
  );
}

/** Which scope or permission the token lacks, as a sentence tail (empty when the headers say nothing). */
function accessHint(failure: RequestFailure): string {
  const hints: string[] = [];
  const missing = missingScopes(header(failure, 'x-accepted-oauth-scopes'), header(failure, 'x-oauth-scopes'));
  if (missing) {
    const has = header(failure, 'x-oauth-scopes')?.trim() || 'none';
    hints.push(
      `the token lacks the scope ${missing.length === 1 ? missing[0] : `(one of) ${missing.join(', ')}`} (it has: ${clean(has, 200)})`,
    );
  }
  const permissions = header(failure, 'x-accepted-github-permissions');
  if (permissions !== undefined && permissions.trim() !== '') {
    hints.push(`the token needs the permission ${clean(permissions, 200)}`);
  }
  if (header(failure, 'x-github-sso')?.startsWith('required')) {
    hints.push("the token must be authorized for the organization's SAML single sign-on");
  }
  return hints.length > 0 ? `; ${hints.join('; ')}` : '';
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * Turns a failed GitHub request into a GitHubError whose message says what GitHub answered and what
 * to do. `what` names the thing asked for (`repository octo/hello`); `apiHost` where GitHub is.
 * Aborts are returned as they are: the caller's signal fired, and the core answers that itself.
 */
export function translateRequestError(error: unknown, what: string, apiHost: string): unknown {
  if (error instanceof GitHubError || isAbort(error)) return error;
  // Our own refusals (an answer over GITHUB_MAX_RESPONSE_BYTES) travel as the cause of Octokit's error.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof GitHubError) return cause;
  if (isAbort(cause)) return cause;
  const failure = failureOf(error);
  if (!failure) {
    return new GitHubError('UPSTREAM_FAILED', `GitHub request for ${what} failed unexpectedly`, { cause: error });
  }
  const text = githubMessage(failure.data, failure.message);
  const opts = { cause: { status: failure.status, what } };
  const { status } = failure;
  if (!failure.answered) {
    return new GitHubError('UNAVAILABLE', `Cannot reach GitHub at ${apiHost}: ${clean(failure.message, 200)}`, opts);
  }
  if (isRateLimited(failure)) return new GitHubError('RATE_LIMITED', rateLimitMessage(failure.headers, text), opts);
  switch (status) {
    case 400:
      return new GitHubError('INVALID_INPUT', `GitHub refused the request for ${what} (400: ${text})`, opts);
    case 401:
      return new GitHubError(
        'UNAVAILABLE',
        `GitHub rejected the token (401 ${text || 'Bad credentials'}): GITHUB_TOKEN is wrong, expired or revoked`,
        opts,
      );
    case 403:
      return new GitHubError(
        'FORBIDDEN',
        `GitHub refused access to ${what} (403: ${text})${accessHint(failure)}`,
        opts,
      );
    case 404:
      return new GitHubError(
        'NOT_FOUND',
        `Not found: ${what} (404). It does not exist, or the token cannot see it (GitHub answers 404 for ` +
          `private repositories the token has no access to)${accessHint(failure)}`,
        opts,
      );
    case 409:
      return new GitHubError('CONFLICT', `GitHub refused ${what} (409 Conflict: ${text})`, opts);
    case 410:
      return new GitHubError('NOT_FOUND', `Gone: ${what} (410: ${text})`, opts);
    case 413:
      return new GitHubError('PAYLOAD_TOO_LARGE', `GitHub refused ${what} as too large (413: ${text})`, opts);
    case 422:
      return new GitHubError('INVALID_INPUT', `GitHub refused ${what} (422 ${text})`, opts);
    case 451:
      return new GitHubError('FORBIDDEN', `${what} is unavailable for legal reasons (451: ${text})`, opts);
    default:
      if (status >= 500) {
        return new GitHubError(
          'UPSTREAM_FAILED',
          `GitHub failed on ${what} (${status}${text ? `: ${text}` : ''}); retry later`,
          opts,
        );
      }
      return new GitHubError(
        'UPSTREAM_FAILED',
        `GitHub answered ${status} for ${what}${text ? `: ${text}` : ''}`,
        opts,
      );
  }
}
