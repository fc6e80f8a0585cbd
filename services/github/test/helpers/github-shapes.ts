import type { components } from '@octokit/openapi-types';

/**
 * GitHub's REST shapes for the stand-in, typed by GitHub's own OpenAPI description
 * (`@octokit/openapi-types`): every builder returns the full documented object, required fields
 * included, so that the service is tested against what GitHub sends, not against what it reads.
 */
export type Schemas = components['schemas'];

/** `{<name>: <base>/<name without _url>}` for GitHub's many hypermedia URL fields. */
function urlFields<const K extends readonly string[]>(base: string, keys: K): Record<K[number], string> {
  return Object.fromEntries(keys.map((key) => [key, `${base}/${key.replace(/_url$/, '')}`])) as Record<
    K[number],
    string
  >;
}

const USER_URLS = [
  'avatar_url',
  'followers_url',
  'following_url',
  'gists_url',
  'starred_url',
  'subscriptions_url',
  'organizations_url',
  'repos_url',
  'events_url',
  'received_events_url',
] as const;

const REPO_URLS = [
  'archive_url',
  'assignees_url',
  'blobs_url',
  'branches_url',
  'collaborators_url',
  'comments_url',
  'commits_url',
  'compare_url',
  'contents_url',
  'contributors_url',
  'deployments_url',
  'downloads_url',
  'events_url',
  'forks_url',
  'git_commits_url',
  'git_refs_url',
  'git_tags_url',
  'issue_comment_url',
  'issue_events_url',
  'issues_url',
  'keys_url',
  'labels_url',
  'languages_url',
  'merges_url',
  'milestones_url',
  'notifications_url',
  'pulls_url',
  'releases_url',
  'stargazers_url',
  'statuses_url',
  'subscribers_url',
  'subscription_url',
  'tags_url',
  'teams_url',
  'trees_url',
  'hooks_url',
] as const;

export interface UserRecord {
  login: string;
  id: number;
  type: 'User' | 'Bot' | 'Organization';
  name: string | null;
}

export function simpleUser(api: string, web: string, user: UserRecord): Schemas['simple-user'] {
  return {
    ...urlFields(`${api}/users/${user.login}`, USER_URLS),
    login: user.login,
    id: user.id,
    node_id: `U_${user.id}`,
    gravatar_id: '',
    url: `${api}/users/${user.login}`,
    html_url: `${web}/${user.login}`,
    type: user.type,
    site_admin: false,
  };
}

export function privateUser(api: string, web: string, user: UserRecord): Schemas['private-user'] {
  return {
    ...simpleUser(api, web, user),
    name: user.name,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 2,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    private_gists: 0,
    total_private_repos: 1,
    owned_private_repos: 1,
    disk_usage: 10,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

export interface RepoRecord {
  id: number;
  owner: UserRecord;
  name: string;
  private: boolean;
  description: string | null;
  language: string | null;
  topics: string[];
  stars: number;
  default_branch: string;
  license: string | null;
}

function repoCore(api: string, web: string, repo: RepoRecord) {
  const full = `${repo.owner.login}/${repo.name}`;
  const base = `${api}/repos/${full}`;
  return {
    ...urlFields(base, REPO_URLS),
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: full,
    owner: simpleUser(api, web, repo.owner),
    private: repo.private,
    html_url: `${web}/${full}`,
    description: repo.description,
    fork: false,
    url: base,
  };
}

function license(repo: RepoRecord): Schemas['nullable-license-simple'] {
  if (repo.license === null) return null;
  return {
    key: repo.license.toLowerCase(),
    name: `${repo.license} License`,
    url: null,
    spdx_id: repo.license,
    node_id: `L_${repo.license}`,
  };
}

export function fullRepository(
  api: string,
  web: string,
  repo: RepoRecord,
  permissions?: { admin: boolean; push: boolean; pull: boolean },
): Schemas['full-repository'] {
  const full = `${repo.owner.login}/${repo.name}`;
  return {
    ...repoCore(api, web, repo),
    git_url: `git://github.test/${full}.git`,
    ssh_url: `git@github.test:${full}.git`,
    clone_url: `${web}/${full}.git`,
    mirror_url: null,
    svn_url: `${web}/${full}`,
    homepage: null,
    language: repo.language,
    forks_count: 1,
    stargazers_count: repo.stars,
    watchers_count: repo.stars,
    size: 120,
    default_branch: repo.default_branch,
    open_issues_count: 2,
    topics: repo.topics,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    pushed_at: '2025-03-01T10:00:00Z',
    created_at: '2021-05-01T10:00:00Z',
    updated_at: '2025-03-02T10:00:00Z',
    subscribers_count: 3,
    network_count: 1,
    license: license(repo),
    forks: 1,
    open_issues: 2,
    watchers: repo.stars,
    ...(permissions !== undefined && { permissions }),
  };
}

export function repository(api: string, web: string, repo: RepoRecord): Schemas['repository'] {
  const { temp_clone_token: _token, ...full } = fullRepository(api, web, repo);
  return { ...full, has_downloads: true };
}

export function repoSearchItem(api: string, web: string, repo: RepoRecord): Schemas['repo-search-result-item'] {
  const full = fullRepository(api, web, repo);
  return {
    ...repoCore(api, web, repo),
    created_at: full.created_at ?? '',
    updated_at: full.updated_at ?? '',
    pushed_at: full.pushed_at ?? '',
    homepage: null,
    size: full.size,
    stargazers_count: full.stargazers_count,
    watchers_count: full.watchers_count,
    language: repo.language,
    forks_count: full.forks_count,
    open_issues_count: full.open_issues_count,
    default_branch: repo.default_branch,
    score: 1,
    git_url: full.git_url,
    ssh_url: full.ssh_url,
    clone_url: full.clone_url,
    svn_url: full.svn_url,
    forks: full.forks,
    open_issues: full.open_issues,
    watchers: full.watchers,
    mirror_url: null,
    has_issues: true,
    has_projects: false,
    has_pages: false,
    has_wiki: false,
    has_downloads: true,
    archived: false,
    disabled: false,
    topics: repo.topics,
    visibility: full.visibility,
    license: full.license,
  };
}

export function minimalRepository(api: string, web: string, repo: RepoRecord): Schemas['minimal-repository'] {
  return repoCore(api, web, repo);
}

export function contentLinks(self: string, git: string, html: string) {
  return { self, git, html };
}
