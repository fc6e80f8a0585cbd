import { describe, expect, it } from 'vitest';

import { GitHubError } from '../src/github-error.js';
import { githubMessage, rateLimitMessage, retryAfterOf, translateRequestError } from '../src/request-errors.js';
import { missingScopes } from '../src/scopes.js';

/** An Octokit RequestError as it arrives: name HttpError, a status, the response. */
function httpError(status: number, data: unknown, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(JSON.stringify(data)), {
    name: 'HttpError',
    status,
    response: { status, headers, data, url: 'https://api.github.com/x' },
  });
}

function translated(error: unknown, what = 'repository octo/hello'): GitHubError {
  const out = translateRequestError(error, what, 'api.github.com');
  expect(out).toBeInstanceOf(GitHubError);
  return out as GitHubError;
}

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('translateRequestError', () => {
  it('404: the thing named, and why GitHub may say so for a repository that exists', () => {
    const error = translated(httpError(404, { message: 'Not Found', documentation_url: 'https://docs' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe(
      'Not found: repository octo/hello (404). It does not exist, or the token cannot see it (GitHub answers 404 ' +
        'for private repositories the token has no access to)',
    );
  });

  it('404 with a classic token that lacks the accepted scope names the scope', () => {
    const error = translated(
      httpError(
        404,
        { message: 'Not Found' },
        { 'x-accepted-oauth-scopes': 'repo', 'x-oauth-scopes': 'read:user, gist' },
      ),
    );
    expect(error.message).toMatch(/; the token lacks the scope repo \(it has: read:user, gist\)$/);
  });

  it('401: the token is bad, UNAVAILABLE (an operator problem), no token in the message', () => {
    const error = translated(httpError(401, { message: 'Bad credentials' }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe(
      'GitHub rejected the token (401 Bad credentials): GITHUB_TOKEN is wrong, expired or revoked',
    );
  });

  it('403: the scope, the fine-grained permission or SSO the token lacks', () => {
    const scope = translated(
      httpError(
        403,
        { message: 'Must have admin rights to Repository.' },
        { 'x-accepted-oauth-scopes': 'repo, public_repo', 'x-oauth-scopes': 'gist' },
      ),
    );
    expect(scope.code).toBe('FORBIDDEN');
    expect(scope.message).toBe(
      'GitHub refused access to repository octo/hello (403: Must have admin rights to Repository.); the token lacks ' +
        'the scope (one of) repo, public_repo (it has: gist)',
    );
    const fine = translated(
      httpError(
        403,
        { message: 'Resource not accessible by personal access token' },
        { 'x-accepted-github-permissions': 'issues=write' },
      ),
    );
    expect(fine.message).toBe(
      'GitHub refused access to repository octo/hello (403: Resource not accessible by personal access token); ' +
        'the token needs the permission issues=write',
    );
    const sso = translated(
      httpError(
        403,
        { message: 'Resource protected by organization SAML enforcement.' },
        { 'x-github-sso': 'required; url=https://x' },
      ),
    );
    expect(sso.message).toMatch(/; the token must be authorized for the organization's SAML single sign-on$/);
  });

  it('an implied scope counts (repo implies public_repo)', () => {
    expect(missingScopes('public_repo', 'repo')).toBeUndefined();
    expect(missingScopes('read:org', 'admin:org')).toBeUndefined();
    expect(missingScopes('repo', 'public_repo')).toEqual(['repo']);
    expect(missingScopes('repo', undefined)).toBeUndefined();
    expect(missingScopes('', 'repo')).toBeUndefined();
  });

  it('422: the validation errors, each one', () => {
    const error = translated(
      httpError(422, {
        message: 'Validation Failed',
        errors: [
          { value: 'nobody', resource: 'Issue', field: 'assignees', code: 'invalid' },
          { resource: 'PullRequest', code: 'custom', message: 'A pull request already exists for octo:x.' },
          'plain text error',
        ],
      }),
      'a new issue in repository octo/hello',
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(
      'GitHub refused a new issue in repository octo/hello (422 Validation Failed: Issue assignees invalid; ' +
        'A pull request already exists for octo:x.; plain text error)',
    );
  });

  it('409, 410, 5xx and unknown statuses', () => {
    expect(translated(httpError(409, { message: 'Git Repository is empty.' }))).toMatchObject({
      code: 'CONFLICT',
      message: 'GitHub refused repository octo/hello (409 Conflict: Git Repository is empty.)',
    });
    expect(translated(httpError(410, { message: 'Issues are disabled for this repo' }))).toMatchObject({
      code: 'NOT_FOUND',
      message: 'Gone: repository octo/hello (410: Issues are disabled for this repo)',
    });
    expect(translated(httpError(502, 'Bad Gateway'))).toMatchObject({
      code: 'UPSTREAM_FAILED',
      message: 'GitHub failed on repository octo/hello (502: Bad Gateway); retry later',
    });
    expect(translated(httpError(418, { message: "I'm a teapot" }))).toMatchObject({
      code: 'UPSTREAM_FAILED',
      message: "GitHub answered 418 for repository octo/hello: I'm a teapot",
    });
  });

  it('GitHub text is one line, without control characters, and bounded', () => {
    const error = translated(httpError(422, { message: `bad\u0000\n\u001b[31mred ${'x'.repeat(1000)}` }));
    expect(error.message).not.toMatch(/\p{Cc}/u);
    expect(error.message.length).toBeLessThan(400);
  });

  it('no answer at all: UNAVAILABLE, naming where GitHub was looked for', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { name: 'HttpError', status: 500 });
    expect(translated(error)).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'Cannot reach GitHub at api.github.com: connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it('aborts pass through untouched (the core answers them)', () => {
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(translateRequestError(abort, 'x', 'h')).toBe(abort);
    const wrapped = new Error('wrapped', { cause: new GitHubError('UPSTREAM_FAILED', 'too large') });
    expect(translateRequestError(wrapped, 'x', 'h')).toBe(wrapped.cause);
  });
});

describe('rate limits', () => {
  const reset = String(NOW / 1000 + 1800);

  it('primary (x-ratelimit-remaining: 0, on 403 or 429): when the window resets', () => {
    for (const status of [403, 429]) {
      const headers = {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': reset,
        'x-ratelimit-limit': '5000',
        'x-ratelimit-resource': 'core',
      };
      expect(retryAfterOf(headers, NOW)).toEqual({ seconds: 1801, at: '2025-01-01T12:30:00.000Z' });
      expect(rateLimitMessage(headers, 'API rate limit exceeded for user ID 1.', NOW)).toBe(
        "GitHub's rate limit is used up (core: 5000 requests per window); retry after 2025-01-01T12:30:00.000Z (in 1801 s)",
      );
      const error = translated(httpError(status, { message: 'API rate limit exceeded for user ID 1.' }, headers));
      expect(error.code).toBe('RATE_LIMITED');
    }
  });

  it('secondary (403 with retry-after, or the message): in retry-after seconds', () => {
    const headers = { 'retry-after': '60', 'x-ratelimit-remaining': '4000' };
    expect(
      rateLimitMessage(
        headers,
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        NOW,
      ),
    ).toBe(
      "GitHub's secondary rate limit was hit (too many requests in a short time); retry after 2025-01-01T12:01:00.000Z (in 60 s)",
    );
    const noHeader = translated(httpError(403, { message: 'You have exceeded a secondary rate limit.' }));
    expect(noHeader.code).toBe('RATE_LIMITED');
    expect(noHeader.message).toMatch(/^GitHub's secondary rate limit was hit .*\(in 60 s\)$/);
  });

  it('a 429 without headers is still a rate limit', () => {
    expect(translated(httpError(429, { message: 'Too Many Requests' })).code).toBe('RATE_LIMITED');
  });

  it('reads only sane numbers from the headers', () => {
    expect(retryAfterOf({ 'retry-after': '-5' }, NOW)).toBeUndefined();
    expect(retryAfterOf({ 'retry-after': '1e9' }, NOW)).toBeUndefined();
    expect(retryAfterOf({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': 'soon' }, NOW)).toBeUndefined();
    expect(retryAfterOf({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 - 10) }, NOW)).toEqual({
      seconds: 1,
      at: '2025-01-01T11:59:50.000Z',
    });
  });
});

describe('githubMessage', () => {
  it('falls back when GitHub sent no message', () => {
    expect(githubMessage(undefined, 'fallback')).toBe('fallback');
    expect(githubMessage({ errors: [] }, 'fallback')).toBe('fallback');
    expect(githubMessage(new ArrayBuffer(2), 'fallback')).toBe('fallback');
  });
});
