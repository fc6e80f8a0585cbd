import type { CallScope, GitHubClient } from './github-client.js';
import { GitHubError } from './github-error.js';

/**
 * GITHUB_LOCKDOWN: on public repositories, text by authors without push access is withheld (their
 * login is shown, their words are not), because anyone on the internet can write an issue or a
 * comment there and a model may take it for instructions.
 *
 * How push access is learned, cheapest first:
 * 1. private (and internal) repositories are not filtered: their authors are people the owner let in.
 *    Visibility comes from GET /repos/{owner}/{repo}, cached.
 * 2. the token's own user is trusted (GET /user, once).
 * 3. `author_association` on the item: anything but OWNER, MEMBER or COLLABORATOR cannot have push
 *    access (GitHub gives those three to everyone who can be granted it), so it is withheld without
 *    a request. This shortcut only ever withholds.
 * 4. otherwise GET /repos/{owner}/{repo}/collaborators/{login}/permission: `admin` or `write`
 *    (GitHub reports `maintain` as `write`) is push access; `read`, `triage` (as `read`) and `none`
 *    are not. The answer is cached per repository and login for GITHUB_LOCKDOWN_CACHE_MS.
 * A check that fails (the token may not read permissions, GitHub is down) withholds: lockdown fails
 * closed, and the reason says so.
 */
export interface LockdownOptions {
  enabled: boolean;
  ttlMs: number;
  /** Most cached answers; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

/** Decides, for one repository, whose text may be shown. */
export interface ContentFilter {
  /** undefined: show it; a string: withhold it, and this says why. */
  withhold(author: string | null | undefined, association: string | null | undefined): Promise<string | undefined>;
}

const TRUSTED_ASSOCIATIONS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);
const PERMISSIONS_WITH_PUSH = new Set(['admin', 'write', 'maintain']);
const SHOW_ALL: ContentFilter = { withhold: async () => undefined };

interface Entry<T> {
  value: Promise<T>;
  expires: number;
}

/** A small time-bounded cache of promises (one request per key at a time), oldest evicted first. */
class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    // A failure is not remembered: the next call asks again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return value;
  }
}

export class Lockdown {
  readonly enabled: boolean;
  private readonly visibility: TtlCache<boolean>;
  private readonly push: TtlCache<boolean>;
  private viewer: Promise<string> | undefined;

  constructor(
    private readonly client: GitHubClient,
    options: LockdownOptions,
  ) {
    this.enabled = options.enabled;
    const now = options.now ?? Date.now;
    const max = options.maxEntries ?? 10_000;
    this.visibility = new TtlCache(options.ttlMs, max, now);
    this.push = new TtlCache(options.ttlMs, max, now);
  }

  /** The filter for one repository's content; shows everything when lockdown is off or the repository is not public. */
  async forRepo(scope: CallScope, owner: string, repo: string): Promise<ContentFilter> {
    if (!this.enabled) return SHOW_ALL;
    const key = `${owner}/${repo}`.toLowerCase();
    let isPublic: boolean;
    try {
      isPublic = await this.visibility.get(key, async () => {
        const { data } = await this.client.call(`repository ${owner}/${repo}`, () =>
          this.client.rest.repos.get({ owner, repo, request: this.client.requestOptions(scope) }),
        );
        return data.private !== true;
      });
    } catch (error) {
      if (error instanceof GitHubError && error.code === 'NOT_FOUND') throw error;
      return this.closed(`the visibility of ${owner}/${repo} could not be checked`, error);
    }
    if (!isPublic) return SHOW_ALL;
    return {
      withhold: async (author, association) => {
        if (author === null || author === undefined || author === '') {
          return `GITHUB_LOCKDOWN: the author is unknown (a deleted account); text on public ${owner}/${repo} is shown only from people with push access`;
        }
        const denied = `GITHUB_LOCKDOWN: @${author} has no push access to public ${owner}/${repo}; the text is withheld`;
        try {
          if ((await this.viewerLogin(scope)).toLowerCase() === author.toLowerCase()) return undefined;
        } catch (error) {
          return this.reason(`the token's own user could not be read`, error, owner, repo, author);
        }
        if (typeof association === 'string' && !TRUSTED_ASSOCIATIONS.has(association)) return denied;
        try {
          const canPush = await this.push.get(`${key}:${author.toLowerCase()}`, () =>
            this.checkPush(scope, owner, repo, author),
          );
          return canPush ? undefined : denied;
        } catch (error) {
          return this.reason(`the push access of @${author} could not be checked`, error, owner, repo, author);
        }
      },
    };
  }

  private async checkPush(scope: CallScope, owner: string, repo: string, login: string): Promise<boolean> {
    try {
      const { data } = await this.client.call(`the permission of @${login} on ${owner}/${repo}`, () =>
        this.client.rest.repos.getCollaboratorPermissionLevel({
          owner,
          repo,
          username: login,
          request: this.client.requestOptions(scope),
        }),
      );
      return PERMISSIONS_WITH_PUSH.has(data.permission) || data.user?.permissions?.push === true;
    } catch (error) {
      // GitHub answers 404 for a login that is not a user (any more): no push access.
      if (error instanceof GitHubError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
  }

  /** The token's own login, asked once; a failure is not remembered. */
  private viewerLogin(scope: CallScope): Promise<string> {
    if (this.viewer) return this.viewer;
    const viewer = this.client
      .call('the authenticated user', () =>
        this.client.rest.users.getAuthenticated({ request: this.client.requestOptions(scope) }),
      )
      .then(({ data }) => data.login);
    this.viewer = viewer;
    viewer.catch(() => {
      if (this.viewer === viewer) this.viewer = undefined;
    });
    return viewer;
  }

  private reason(what: string, error: unknown, owner: string, repo: string, author: string): string {
    const detail = error instanceof GitHubError ? ` (${error.message})` : '';
    return `GITHUB_LOCKDOWN: ${what}${detail}, so the text by @${author} on public ${owner}/${repo} is withheld`;
  }

  private closed(what: string, error: unknown): ContentFilter {
    const detail = error instanceof GitHubError ? ` (${error.message})` : '';
    const message = `GITHUB_LOCKDOWN: ${what}${detail}, so its text is withheld`;
    return { withhold: async () => message };
  }
}

/** An item whose text lockdown may withhold. */
export interface Authored {
  author: string | null;
  author_association: string | null;
  body: string | null;
  truncated: boolean;
  withheld?: string | undefined;
}

/** How many lockdown checks one answer runs at once. */
const CHECK_CONCURRENCY = 4;

/**
 * Applies a filter to items in place: withheld items lose their body (and `title`, when they have
 * one) and say why. Checks run a few at a time; answers are cached by the filter's Lockdown.
 */
export async function withholdUntrusted<T extends Authored & { title?: string | null }>(
  filter: ContentFilter,
  items: T[],
): Promise<T[]> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const reason = await filter.withhold(item.author, item.author_association);
      if (reason === undefined) continue;
      item.body = null;
      item.truncated = false;
      if ('title' in item) item.title = null;
      item.withheld = reason;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, items.length) }, worker));
  return items;
}
