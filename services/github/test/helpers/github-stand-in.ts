import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  contentLinks,
  fullRepository,
  minimalRepository,
  privateUser,
  repoSearchItem,
  repository,
  type Schemas,
  simpleUser,
  type UserRecord,
} from './github-shapes.js';
import {
  type CommentRecord,
  type CommitRecord,
  createWorld,
  type DiffFileRecord,
  type IssueRecord,
  type JobRecord,
  type RepoState,
  type ReviewRecord,
  type RunRecord,
  TOKEN_USER,
  unifiedDiff,
  type World,
} from './github-world.js';

/**
 * A stand-in for GitHub's REST API (api.github.com) on loopback, for the tests and the container
 * end-to-end check: it serves GitHub's documented shapes (typed by @octokit/openapi-types) for
 * exactly the endpoints the service calls, with `Link` pagination, rate-limit headers, scope
 * headers, 401/403/404/409/422 answers, base64 contents, directory listings, the `diff` and `raw`
 * media types and a job-log redirect to a second origin (as GitHub redirects to its blob storage).
 * It records every request it receives, so that tests check what the service sent.
 */

export interface RecordedRequest {
  method: string;
  /** The path as received (percent-encoded), without the query. */
  rawPath: string;
  /** The path's segments, decoded (what GitHub routes on). */
  segments: string[];
  /** The query, decoded; repeated keys keep the last value. */
  query: Record<string, string>;
  /** The raw query string, without `?`. */
  rawQuery: string;
  body: unknown;
  headers: {
    authorization?: string;
    accept?: string;
    'user-agent'?: string;
    'x-github-api-version'?: string;
    'content-type'?: string;
  };
}

/** A canned answer that takes the place of the normal one, `times` times, for requests it matches. */
export interface ResponseRule {
  method?: string;
  /** Matched against the raw path. */
  path?: RegExp;
  times?: number;
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** JSON (objects) or text. */
  body?: unknown;
  /** Never answer (the connection stays open until the client gives up or the stand-in closes). */
  hang?: boolean;
  /** Drop the connection without an answer (a network failure). */
  reset?: boolean;
  /** Answer as usual, with `headers` added (status and body are ignored). */
  addHeaders?: boolean;
}

export interface StandInOptions {
  /** The token every request must carry (`Authorization: token …` or `Bearer …`). */
  token: string;
  /** The token's classic scopes (`x-oauth-scopes`); null: a fine-grained token (no header). */
  scopes?: string | null;
  host?: string;
  port?: number;
  /** The port of the log origin (default: any free one). */
  logPort?: number;
  /**
   * The host name clients reach the stand-in by, in the `Link` and `Location` URLs it writes
   * (default: the listen address; on a compose network, the container's name).
   */
  publicHost?: string;
  /** Serve GET /__stand-in/requests: every recorded request as JSON (for a check running outside the process). */
  control?: boolean;
}

export interface StandIn {
  url: string;
  /** The second origin that serves job logs (GitHub's blob storage). */
  logUrl: string;
  requests: RecordedRequest[];
  /** Requests the log origin received. */
  logRequests: RecordedRequest[];
  world: World;
  /** Adds canned answers, tried in order before the normal routes. */
  respond(...rules: ResponseRule[]): void;
  /** Sets the quota a resource reports (x-ratelimit-* headers and GET /rate_limit). */
  setQuota(resource: string, remaining: number, resetInSeconds?: number, limit?: number): void;
  /** Answers held open by a `hang` rule that the client has not given up on yet. */
  hanging(): number;
  /** The quota a resource reports now. */
  quota(resource: string): { limit: number; remaining: number; reset: number };
  /** Sets the classic scopes the token reports (null: fine-grained, no header). */
  setScopes(scopes: string | null): void;
  /** Forgets recorded requests. */
  clear(): void;
  close(): Promise<void>;
}

const WEB = 'https://github.test';
const DOCS = 'https://docs.github.com/rest';
const INLINE_LIMIT = 1024 * 1024;

class HttpAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const notFound = (message = 'Not Found') => new HttpAnswer(404, { message, documentation_url: DOCS, status: '404' });
const validationFailed = (errors: unknown[], message = 'Validation Failed') =>
  new HttpAnswer(422, { message, errors, documentation_url: DOCS, status: '422' });

function resourceOf(path: string): string {
  if (path.startsWith('/search/code')) return 'code_search';
  if (path.startsWith('/search/')) return 'search';
  return 'core';
}

interface Quota {
  limit: number;
  remaining: number;
  reset: number;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function record(request: IncomingMessage, body: unknown): RecordedRequest {
  const raw = request.url ?? '/';
  const question = raw.indexOf('?');
  const rawPath = question === -1 ? raw : raw.slice(0, question);
  const rawQuery = question === -1 ? '' : raw.slice(question + 1);
  const segments = rawPath
    .split('/')
    .slice(1)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
  const headers: RecordedRequest['headers'] = {};
  for (const name of ['authorization', 'accept', 'user-agent', 'x-github-api-version', 'content-type'] as const) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return {
    method: request.method ?? 'GET',
    rawPath,
    segments,
    query: Object.fromEntries(new URLSearchParams(rawQuery)),
    rawQuery,
    body,
    headers,
  };
}

/** GitHub's base64 `content`: the bytes in lines of 60 characters, each ended by `\n`. */
function githubBase64(bytes: Buffer): string {
  const encoded = bytes.toString('base64');
  let out = '';
  for (let i = 0; i < encoded.length; i += 60) out += `${encoded.slice(i, i + 60)}\n`;
  return out;
}

export function blobSha(bytes: Buffer | string): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(bytes)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0').repeat(5);
}

export async function startGitHubStandIn(options: StandInOptions): Promise<StandIn> {
  const world = createWorld();
  const requests: RecordedRequest[] = [];
  const logRequests: RecordedRequest[] = [];
  const rules: (ResponseRule & { left: number })[] = [];
  const quotas = new Map<string, Quota>();
  let scopes: string | null = options.scopes === undefined ? 'repo, read:org, workflow' : options.scopes;
  const hanging = new Set<ServerResponse>();
  let api = '';
  let logOrigin = '';

  const quotaOf = (resource: string): Quota => {
    let quota = quotas.get(resource);
    if (!quota) {
      const limit = resource === 'core' ? 5000 : resource === 'search' ? 30 : 10;
      quota = { limit, remaining: limit, reset: Math.floor(Date.now() / 1000) + 3600 };
      quotas.set(resource, quota);
    }
    return quota;
  };

  const rateHeaders = (resource: string): Record<string, string> => {
    const quota = quotaOf(resource);
    return {
      'x-ratelimit-limit': String(quota.limit),
      'x-ratelimit-remaining': String(quota.remaining),
      'x-ratelimit-used': String(quota.limit - quota.remaining),
      'x-ratelimit-reset': String(quota.reset),
      'x-ratelimit-resource': resource,
    };
  };

  const send = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>,
    resource: string,
    // GitHub's own answers carry the quota; a 5xx from its edge does not.
    withQuota = true,
  ) => {
    const isText = typeof body === 'string' || Buffer.isBuffer(body);
    const payload = body === undefined ? '' : isText ? body : JSON.stringify(body);
    response.writeHead(status, {
      'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'x-github-request-id': `REQ:${requests.length}`,
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      ...(scopes !== null && { 'x-oauth-scopes': scopes, 'x-accepted-oauth-scopes': acceptedScopes(resource) }),
      ...(withQuota && rateHeaders(resource)),
      ...headers,
    });
    response.end(payload);
  };

  // What each kind of endpoint accepts, as GitHub says in x-accepted-oauth-scopes.
  const acceptedScopes = (_resource: string) => 'repo';

  const repoOf = (owner: string | undefined, name: string | undefined): RepoState => {
    const state = world.repos.get(`${owner ?? ''}/${name ?? ''}`.toLowerCase());
    if (!state) throw notFound();
    return state;
  };

  const user = (record: UserRecord | null) => (record === null ? null : simpleUser(api, WEB, record));
  const findUser = (login: string) => world.users.find((u) => u.login.toLowerCase() === login.toLowerCase());

  /** A page of `items` for `?page=&per_page=`, and the `Link` header GitHub would send. */
  const paginate = <T>(
    req: RecordedRequest,
    items: T[],
    defaults: { perPage?: number; maxPerPage?: number } = {},
  ): { slice: T[]; headers: Record<string, string> } => {
    const perPage = Math.min(
      Math.max(Number(req.query['per_page'] ?? defaults.perPage ?? 30) || 30, 1),
      defaults.maxPerPage ?? 100,
    );
    const page = Math.max(Number(req.query['page'] ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const link = (n: number) => {
      const params = new URLSearchParams(req.rawQuery);
      params.set('page', String(n));
      return `<${api}${req.rawPath}?${params.toString()}>`;
    };
    const parts: string[] = [];
    if (page > 1) parts.push(`${link(page - 1)}; rel="prev"`);
    if (page < last) parts.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
    if (page > 1) parts.push(`${link(1)}; rel="first"`);
    return { slice, headers: parts.length > 0 ? { link: parts.join(', ') } : {} };
  };

  // ── builders ──────────────────────────────────────────────────────────────────────────────

  const repoBase = (state: RepoState) => `${api}/repos/${state.record.owner.login}/${state.record.name}`;
  const repoWeb = (state: RepoState) => `${WEB}/${state.record.owner.login}/${state.record.name}`;

  const commitJson = (state: RepoState, commit: CommitRecord, files?: DiffFileRecord[]): Schemas['commit'] => ({
    url: `${repoBase(state)}/commits/${commit.sha}`,
    sha: commit.sha,
    node_id: `C_${commit.sha.slice(0, 8)}`,
    html_url: `${repoWeb(state)}/commit/${commit.sha}`,
    comments_url: `${repoBase(state)}/commits/${commit.sha}/comments`,
    commit: {
      url: `${repoBase(state)}/git/commits/${commit.sha}`,
      author: {
        name: commit.authorName,
        email: `${commit.author?.login ?? 'ghost'}@users.noreply.github.test`,
        date: commit.date,
      },
      committer: { name: 'GitHub', email: 'noreply@github.test', date: commit.date },
      message: commit.message,
      comment_count: 0,
      tree: { sha: commit.sha.replace(/a/g, 'b'), url: `${repoBase(state)}/git/trees/x` },
    },
    author: user(commit.author),
    committer: null,
    parents: commit.parents.map((parent) => ({
      sha: parent,
      url: `${repoBase(state)}/commits/${parent}`,
      html_url: `${repoWeb(state)}/commit/${parent}`,
    })),
    ...(files !== undefined && {
      stats: {
        additions: commit.files.reduce((n, f) => n + f.additions, 0),
        deletions: commit.files.reduce((n, f) => n + f.deletions, 0),
        total: commit.files.reduce((n, f) => n + f.additions + f.deletions, 0),
      },
      files: files.map((file) => diffEntry(state, commit.sha, file)),
    }),
  });

  const diffEntry = (state: RepoState, ref: string, file: DiffFileRecord): Schemas['diff-entry'] => ({
    sha: blobSha(file.filename),
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${repoWeb(state)}/blob/${ref}/${file.filename}`,
    raw_url: `${repoWeb(state)}/raw/${ref}/${file.filename}`,
    contents_url: `${repoBase(state)}/contents/${file.filename}?ref=${ref}`,
    ...(file.patch !== undefined && { patch: file.patch }),
    ...(file.previous_filename !== undefined && { previous_filename: file.previous_filename }),
  });

  const issueJson = (state: RepoState, issue: IssueRecord): Schemas['issue'] => {
    const base = `${repoBase(state)}/issues/${issue.number}`;
    return {
      id: 100_000 + issue.number,
      node_id: `I_${issue.number}`,
      url: base,
      repository_url: repoBase(state),
      labels_url: `${base}/labels{/name}`,
      comments_url: `${base}/comments`,
      events_url: `${base}/events`,
      html_url: `${repoWeb(state)}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`,
      number: issue.number,
      state: issue.state,
      state_reason: issue.state_reason,
      title: issue.title,
      body: issue.body,
      user: user(issue.user),
      labels: issue.labels.map((name, i) => ({
        id: 600 + i,
        node_id: `L_${name}`,
        url: `${repoBase(state)}/labels/${encodeURIComponent(name)}`,
        name,
        description: null,
        color: 'ededed',
        default: false,
      })),
      assignee: issue.assignees[0] ? user(findUser(issue.assignees[0]) ?? null) : null,
      assignees: issue.assignees.flatMap((login) => {
        const found = findUser(login);
        return found ? [simpleUser(api, WEB, found)] : [];
      }),
      milestone: null,
      locked: issue.locked,
      comments: issue.comments.length,
      ...(issue.pull && {
        pull_request: {
          url: `${repoBase(state)}/pulls/${issue.number}`,
          html_url: `${repoWeb(state)}/pull/${issue.number}`,
          diff_url: `${repoWeb(state)}/pull/${issue.number}.diff`,
          patch_url: `${repoWeb(state)}/pull/${issue.number}.patch`,
          merged_at: issue.pull.merged ? issue.closed_at : null,
        },
      }),
      closed_at: issue.closed_at,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      author_association: issue.association,
    };
  };

  const commentJson = (state: RepoState, issue: IssueRecord, comment: CommentRecord): Schemas['issue-comment'] => ({
    id: comment.id,
    node_id: `IC_${comment.id}`,
    url: `${repoBase(state)}/issues/comments/${comment.id}`,
    html_url: `${repoWeb(state)}/issues/${issue.number}#issuecomment-${comment.id}`,
    body: comment.body,
    user: user(comment.user),
    created_at: comment.created_at,
    updated_at: comment.updated_at,
    issue_url: `${repoBase(state)}/issues/${issue.number}`,
    author_association: comment.association,
  });

  const pullSimple = (state: RepoState, issue: IssueRecord): Schemas['pull-request-simple'] => {
    const pull = issue.pull!;
    const base = `${repoBase(state)}/pulls/${issue.number}`;
    const branch = (ref: string, sha: string, owner: UserRecord, repo: RepoState) => ({
      label: `${owner.login}:${ref}`,
      ref,
      sha,
      user: simpleUser(api, WEB, owner),
      repo: repository(api, WEB, repo.record),
    });
    const fork =
      pull.head.owner.login === state.record.owner.login
        ? state
        : { ...state, record: { ...state.record, owner: pull.head.owner, id: state.record.id + 1000 } };
    const issueObject = issueJson(state, issue);
    return {
      url: base,
      id: 200_000 + issue.number,
      node_id: `PR_${issue.number}`,
      html_url: `${repoWeb(state)}/pull/${issue.number}`,
      diff_url: `${repoWeb(state)}/pull/${issue.number}.diff`,
      patch_url: `${repoWeb(state)}/pull/${issue.number}.patch`,
      issue_url: `${repoBase(state)}/issues/${issue.number}`,
      commits_url: `${base}/commits`,
      review_comments_url: `${base}/comments`,
      review_comment_url: `${repoBase(state)}/pulls/comments{/number}`,
      comments_url: `${repoBase(state)}/issues/${issue.number}/comments`,
      statuses_url: `${repoBase(state)}/statuses/${pull.head.sha}`,
      number: issue.number,
      state: issue.state,
      locked: issue.locked,
      title: issue.title,
      user: user(issue.user),
      body: issue.body,
      labels: issueObject.labels as Schemas['pull-request-simple']['labels'],
      milestone: null,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      merged_at: pull.merged ? issue.closed_at : null,
      merge_commit_sha: pull.merged ? pull.head.sha : null,
      assignee: null,
      assignees: [],
      requested_reviewers: pull.requested_reviewers.map((reviewer) => simpleUser(api, WEB, reviewer)),
      requested_teams: pull.requested_teams.map((slug, i) => ({
        id: 70 + i,
        node_id: `T_${slug}`,
        name: slug,
        slug,
        description: null,
        permission: 'push',
        url: `${api}/teams/${70 + i}`,
        html_url: `${WEB}/orgs/octo-org/teams/${slug}`,
        members_url: `${api}/teams/${70 + i}/members{/member}`,
        repositories_url: `${api}/teams/${70 + i}/repos`,
        type: 'organization' as const,
        parent: null,
      })),
      head: branch(pull.head.ref, pull.head.sha, pull.head.owner, fork),
      base: branch(pull.base.ref, pull.base.sha, state.record.owner, state),
      _links: {
        self: { href: base },
        html: { href: `${repoWeb(state)}/pull/${issue.number}` },
        issue: { href: `${repoBase(state)}/issues/${issue.number}` },
        comments: { href: `${repoBase(state)}/issues/${issue.number}/comments` },
        review_comments: { href: `${base}/comments` },
        review_comment: { href: `${repoBase(state)}/pulls/comments{/number}` },
        commits: { href: `${base}/commits` },
        statuses: { href: `${repoBase(state)}/statuses/${pull.head.sha}` },
      },
      author_association: issue.association,
      auto_merge: null,
      draft: pull.draft,
    };
  };

  const pullFull = (state: RepoState, issue: IssueRecord): Schemas['pull-request'] => {
    const pull = issue.pull!;
    const simple = pullSimple(state, issue);
    return {
      ...simple,
      state: issue.state,
      // A pull request always has an author (a deleted one shows as the "ghost" user).
      user: simple.user ?? simpleUser(api, WEB, { login: 'ghost', id: 10_137, type: 'User', name: null }),
      // The branch builder above always names a user; the simple type merely allows null.
      head: simple.head as Schemas['pull-request']['head'],
      base: simple.base as Schemas['pull-request']['base'],
      requested_teams: simple.requested_teams,
      merged: pull.merged,
      mergeable: issue.state === 'open' ? true : null,
      rebaseable: null,
      mergeable_state: issue.state === 'open' ? 'blocked' : 'unknown',
      merged_by: pull.merged ? simpleUser(api, WEB, state.record.owner) : null,
      comments: issue.comments.length,
      review_comments: 0,
      maintainer_can_modify: pull.maintainer_can_modify,
      commits: 2,
      additions: pull.files.reduce((n, f) => n + f.additions, 0),
      deletions: pull.files.reduce((n, f) => n + f.deletions, 0),
      changed_files: pull.files.length,
    };
  };

  const reviewJson = (state: RepoState, issue: IssueRecord, review: ReviewRecord): Schemas['pull-request-review'] => ({
    id: review.id,
    node_id: `PRR_${review.id}`,
    user: simpleUser(api, WEB, review.user),
    body: review.body,
    state: review.state,
    html_url: `${repoWeb(state)}/pull/${issue.number}#pullrequestreview-${review.id}`,
    pull_request_url: `${repoBase(state)}/pulls/${issue.number}`,
    _links: {
      html: { href: `${repoWeb(state)}/pull/${issue.number}#pullrequestreview-${review.id}` },
      pull_request: { href: `${repoBase(state)}/pulls/${issue.number}` },
    },
    submitted_at: review.submitted_at,
    commit_id: issue.pull!.head.sha,
    author_association: review.association,
  });

  const runJson = (state: RepoState, run: RunRecord): Schemas['workflow-run'] => {
    const base = `${repoBase(state)}/actions/runs/${run.id}`;
    const repo = minimalRepository(api, WEB, state.record);
    return {
      id: run.id,
      name: run.name,
      node_id: `WR_${run.id}`,
      head_branch: run.head_branch,
      head_sha: run.head_sha,
      path: `.github/workflows/${run.workflow_file}`,
      run_number: run.run_number,
      run_attempt: 1,
      event: run.event,
      status: run.status,
      conclusion: run.conclusion,
      workflow_id: run.workflow_id,
      url: base,
      html_url: `${repoWeb(state)}/actions/runs/${run.id}`,
      pull_requests: [],
      created_at: run.created_at,
      updated_at: run.created_at,
      actor: simpleUser(api, WEB, run.actor),
      triggering_actor: simpleUser(api, WEB, run.actor),
      run_started_at: run.created_at,
      jobs_url: `${base}/jobs`,
      logs_url: `${base}/logs`,
      check_suite_url: `${repoBase(state)}/check-suites/1`,
      artifacts_url: `${base}/artifacts`,
      cancel_url: `${base}/cancel`,
      rerun_url: `${base}/rerun`,
      workflow_url: `${repoBase(state)}/actions/workflows/${run.workflow_id}`,
      head_commit: null,
      repository: repo,
      head_repository: repo,
      display_title: run.display_title,
    };
  };

  const jobJson = (state: RepoState, run: RunRecord, job: JobRecord): Schemas['job'] => ({
    id: job.id,
    run_id: run.id,
    run_url: `${repoBase(state)}/actions/runs/${run.id}`,
    node_id: `J_${job.id}`,
    head_sha: run.head_sha,
    url: `${repoBase(state)}/actions/jobs/${job.id}`,
    html_url: `${repoWeb(state)}/actions/runs/${run.id}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion,
    created_at: run.created_at,
    started_at: run.created_at,
    completed_at: run.created_at,
    name: job.name,
    steps: job.steps.map((step) => ({ ...step, started_at: run.created_at, completed_at: run.created_at })),
    check_run_url: `${repoBase(state)}/check-runs/${job.id}`,
    labels: ['ubuntu-latest'],
    runner_id: 1,
    runner_name: 'runner-1',
    runner_group_id: 1,
    runner_group_name: 'default',
    workflow_name: run.name,
    head_branch: run.head_branch,
  });

  const knownRef = (state: RepoState, ref: string): boolean =>
    state.branches.some((b) => b.name === ref) ||
    state.tags.some((t) => t.name === ref) ||
    state.commits.some((c) => c.sha === ref) ||
    state.issues.some((i) => i.pull?.head.sha === ref);

  const contentItem = (state: RepoState, path: string, ref: string, withContent: boolean) => {
    const entry = state.files.get(path);
    const name = path.split('/').pop() ?? path;
    const self = `${repoBase(state)}/contents/${path}?ref=${ref}`;
    const html = `${repoWeb(state)}/blob/${ref}/${path}`;
    const git = `${repoBase(state)}/git/blobs/x`;
    const common = {
      name,
      path,
      url: self,
      html_url: html,
      git_url: git,
      _links: contentLinks(self, git, html),
    };
    if (entry === undefined) {
      return { ...common, type: 'dir' as const, size: 0, sha: blobSha(path), download_url: null };
    }
    if (entry.kind === 'symlink') {
      return {
        ...common,
        type: 'symlink' as const,
        target: entry.target,
        size: entry.target.length,
        sha: blobSha(entry.target),
        download_url: null,
      };
    }
    if (entry.kind === 'submodule') {
      return {
        ...common,
        type: 'submodule' as const,
        submodule_git_url: entry.url,
        size: 0,
        sha: blobSha(entry.url),
        download_url: null,
      };
    }
    const big = entry.bytes.length > INLINE_LIMIT;
    return {
      ...common,
      type: 'file' as const,
      size: entry.bytes.length,
      sha: blobSha(entry.bytes),
      download_url: `https://raw.github.test/${state.record.owner.login}/${state.record.name}/${ref}/${path}`,
      ...(withContent && {
        encoding: big ? 'none' : 'base64',
        content: big ? '' : githubBase64(entry.bytes),
      }),
    };
  };

  // ── routes ────────────────────────────────────────────────────────────────────────────────

  type Answer = { status?: number; body: unknown; headers?: Record<string, string> };

  const route = async (req: RecordedRequest): Promise<Answer> => {
    // GitHub Enterprise Server serves the same API under /api/v3.
    const s = req.segments[0] === 'api' && req.segments[1] === 'v3' ? req.segments.slice(2) : req.segments;
    const accept = req.headers.accept ?? '';
    const { method } = req;

    if (method === 'GET' && s.length === 1 && s[0] === 'user') {
      return { body: privateUser(api, WEB, TOKEN_USER) };
    }
    if (method === 'GET' && s.length === 1 && s[0] === 'rate_limit') {
      const resources = Object.fromEntries(
        ['core', 'search', 'code_search', 'graphql'].map((name) => {
          const q = quotaOf(name);
          return [name, { limit: q.limit, remaining: q.remaining, used: q.limit - q.remaining, reset: q.reset }];
        }),
      );
      const body: Schemas['rate-limit-overview'] = {
        resources: resources as Schemas['rate-limit-overview']['resources'],
        rate: resources['core'] as Schemas['rate-limit'],
      };
      return { body };
    }
    if (method === 'GET' && s[0] === 'search' && s.length === 2) return search(req, s[1] ?? '');
    if (s[0] !== 'repos' || s.length < 3) throw notFound();
    const state = repoOf(s[1], s[2]);
    const rest = s.slice(3);
    const head = rest[0];

    if (rest.length === 0 && method === 'GET') {
      const permission = state.permissions.get(TOKEN_USER.login);
      return {
        body: fullRepository(api, WEB, state.record, {
          admin: permission === 'admin',
          push: permission === 'admin' || permission === 'write',
          pull: true,
        }),
      };
    }
    if (head === 'contents' && method === 'GET') {
      if (state.empty)
        throw new HttpAnswer(409, { message: 'This repository is empty.', documentation_url: DOCS, status: '409' });
      const ref = req.query['ref'] ?? state.record.default_branch;
      if (!knownRef(state, ref)) throw notFound(`No commit found for the ref ${ref}`);
      const path = rest.slice(1).join('/');
      const entry = state.files.get(path);
      if (entry !== undefined) {
        if (entry.kind === 'file' && /\.raw\b/.test(accept)) {
          return { body: entry.bytes, headers: { 'content-type': 'application/vnd.github.raw' } };
        }
        return { body: contentItem(state, path, ref, true) };
      }
      const prefix = path === '' ? '' : `${path}/`;
      const children = new Set<string>();
      for (const file of state.files.keys()) {
        if (!file.startsWith(prefix)) continue;
        const child = file.slice(prefix.length).split('/')[0];
        if (child !== undefined) children.add(prefix + child);
      }
      if (children.size === 0) throw notFound();
      return { body: [...children].sort().map((child) => contentItem(state, child, ref, false)) };
    }
    if (head === 'commits' && method === 'GET') {
      if (state.empty)
        throw new HttpAnswer(409, { message: 'Git Repository is empty.', documentation_url: DOCS, status: '409' });
      if (rest.length === 1) {
        const { sha, path, author, since, until } = req.query;
        if (sha !== undefined && !knownRef(state, sha)) throw notFound(`No commit found for SHA: ${sha}`);
        const list = state.commits.filter(
          (c) =>
            (path === undefined || c.files.some((f) => f.filename === path || f.filename.startsWith(`${path}/`))) &&
            (author === undefined || c.author?.login === author) &&
            (since === undefined || c.date >= since) &&
            (until === undefined || c.date <= until),
        );
        const { slice, headers } = paginate(req, list);
        return { body: slice.map((c) => commitJson(state, c)), headers };
      }
      const ref = rest[1] ?? '';
      const branch = state.branches.find((b) => b.name === ref);
      const commit = state.commits.find((c) => c.sha === (branch?.sha ?? ref));
      if (!commit)
        throw new HttpAnswer(422, {
          message: `No commit found for SHA: ${ref}`,
          documentation_url: DOCS,
          status: '422',
        });
      const { slice, headers } = paginate(req, commit.files);
      return { body: commitJson(state, commit, slice), headers };
    }
    if (head === 'branches' && method === 'GET' && rest.length === 1) {
      const wanted = req.query['protected'];
      const list = state.branches.filter((b) => wanted === undefined || String(b.protected) === wanted);
      const { slice, headers } = paginate(req, list);
      const body: Schemas['short-branch'][] = slice.map((b) => ({
        name: b.name,
        commit: { sha: b.sha, url: `${repoBase(state)}/commits/${b.sha}` },
        protected: b.protected,
      }));
      return { body, headers };
    }
    if (head === 'tags' && method === 'GET') {
      const { slice, headers } = paginate(req, state.tags);
      const body: Schemas['tag'][] = slice.map((t) => ({
        name: t.name,
        commit: { sha: t.sha, url: `${repoBase(state)}/commits/${t.sha}` },
        zipball_url: `${repoBase(state)}/zipball/${t.name}`,
        tarball_url: `${repoBase(state)}/tarball/${t.name}`,
        node_id: `REF_${t.name}`,
      }));
      return { body, headers };
    }
    if (head === 'releases' && method === 'GET') {
      const { slice, headers } = paginate(req, state.releases);
      const body: Schemas['release'][] = slice.map((r) => ({
        url: `${repoBase(state)}/releases/${r.id}`,
        html_url: `${repoWeb(state)}/releases/tag/${r.tag_name}`,
        assets_url: `${repoBase(state)}/releases/${r.id}/assets`,
        upload_url: `https://uploads.github.test/repos/x/releases/${r.id}/assets{?name,label}`,
        tarball_url: null,
        zipball_url: null,
        id: r.id,
        node_id: `RE_${r.id}`,
        tag_name: r.tag_name,
        target_commitish: 'main',
        name: r.name,
        body: r.body,
        draft: r.draft,
        prerelease: r.prerelease,
        created_at: r.created_at,
        published_at: r.published_at,
        author: simpleUser(api, WEB, r.author),
        assets: [],
      }));
      return { body, headers };
    }
    if (head === 'issues') return issues(req, state, rest);
    if (head === 'pulls') return pulls(req, state, rest, accept);
    if (head === 'actions') return actions(req, state, rest);
    if (head === 'collaborators' && rest[2] === 'permission' && method === 'GET') {
      const login = rest[1] ?? '';
      const found = findUser(login);
      if (!found) throw notFound();
      const permission = state.permissions.get(found.login) ?? (state.record.private ? 'none' : 'read');
      const body: Schemas['repository-collaborator-permission'] = {
        permission,
        role_name: permission === 'none' ? 'none' : permission === 'write' ? 'write' : permission,
        user: {
          ...simpleUser(api, WEB, found),
          permissions: {
            admin: permission === 'admin',
            maintain: false,
            push: permission === 'admin' || permission === 'write',
            triage: false,
            pull: permission !== 'none',
          },
          role_name: permission,
        },
      };
      return { body };
    }
    throw notFound();
  };

  const issueOf = (state: RepoState, number: string | undefined): IssueRecord => {
    const issue = state.issues.find((i) => String(i.number) === number);
    if (!issue) throw notFound();
    return issue;
  };

  const issues = async (req: RecordedRequest, state: RepoState, rest: string[]): Promise<Answer> => {
    const { method } = req;
    if (rest.length === 1 && method === 'GET') {
      const { state: wanted = 'open', labels, assignee, since, sort = 'created', direction = 'desc' } = req.query;
      const required = labels === undefined ? [] : labels.split(',').filter((l) => l !== '');
      let list = state.issues.filter(
        (i) =>
          (wanted === 'all' || i.state === wanted) &&
          required.every((l) => i.labels.includes(l)) &&
          (assignee === undefined ||
            (assignee === 'none'
              ? i.assignees.length === 0
              : assignee === '*'
                ? i.assignees.length > 0
                : i.assignees.includes(assignee))) &&
          (since === undefined || i.updated_at >= since),
      );
      const key = sort === 'updated' ? 'updated_at' : 'created_at';
      list = [...list].sort(
        (a, b) => (direction === 'asc' ? 1 : -1) * (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0),
      );
      const { slice, headers } = paginate(req, list);
      return { body: slice.map((i) => issueJson(state, i)), headers };
    }
    if (rest.length === 1 && method === 'POST') {
      const body = (req.body ?? {}) as { title?: unknown; body?: unknown; labels?: unknown; assignees?: unknown };
      if (typeof body.title !== 'string' || body.title === '') {
        throw validationFailed([{ resource: 'Issue', code: 'missing_field', field: 'title' }]);
      }
      const assignees = Array.isArray(body.assignees) ? (body.assignees as string[]) : [];
      for (const login of assignees) {
        if (!findUser(login))
          throw validationFailed([{ value: login, resource: 'Issue', field: 'assignees', code: 'invalid' }]);
      }
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const issue: IssueRecord = {
        number: Math.max(0, ...state.issues.map((i) => i.number)) + 1,
        title: body.title,
        body: typeof body.body === 'string' ? body.body : null,
        user: TOKEN_USER,
        association: 'COLLABORATOR',
        state: 'open',
        state_reason: null,
        labels: Array.isArray(body.labels) ? (body.labels as string[]) : [],
        assignees,
        locked: false,
        created_at: now,
        updated_at: now,
        closed_at: null,
        comments: [],
      };
      state.issues.push(issue);
      return { status: 201, body: issueJson(state, issue) };
    }
    const issue = issueOf(state, rest[1]);
    if (rest.length === 2 && method === 'GET') return { body: issueJson(state, issue) };
    if (rest.length === 2 && method === 'PATCH') {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body['title'] === 'string') issue.title = body['title'];
      if (typeof body['body'] === 'string') issue.body = body['body'];
      if (body['state'] === 'open' || body['state'] === 'closed') {
        issue.state = body['state'];
        issue.closed_at = body['state'] === 'closed' ? new Date().toISOString() : null;
      }
      if (typeof body['state_reason'] === 'string')
        issue.state_reason = body['state_reason'] as IssueRecord['state_reason'];
      if (Array.isArray(body['labels'])) issue.labels = body['labels'] as string[];
      if (Array.isArray(body['assignees'])) {
        for (const login of body['assignees'] as string[]) {
          if (!findUser(login))
            throw validationFailed([{ value: login, resource: 'Issue', field: 'assignees', code: 'invalid' }]);
        }
        issue.assignees = body['assignees'] as string[];
      }
      issue.updated_at = new Date().toISOString();
      return { body: issueJson(state, issue) };
    }
    if (rest.length === 3 && rest[2] === 'comments' && method === 'GET') {
      const { slice, headers } = paginate(req, issue.comments);
      return { body: slice.map((c) => commentJson(state, issue, c)), headers };
    }
    if (rest.length === 3 && rest[2] === 'comments' && method === 'POST') {
      const body = (req.body ?? {}) as { body?: unknown };
      if (typeof body.body !== 'string' || body.body === '') {
        throw validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
      }
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const comment: CommentRecord = {
        id: world.nextId++,
        user: TOKEN_USER,
        association: 'COLLABORATOR',
        body: body.body,
        created_at: now,
        updated_at: now,
      };
      issue.comments.push(comment);
      return { status: 201, body: commentJson(state, issue, comment) };
    }
    throw notFound();
  };

  const pulls = async (req: RecordedRequest, state: RepoState, rest: string[], accept: string): Promise<Answer> => {
    const { method } = req;
    const all = state.issues.filter((i) => i.pull !== undefined);
    if (rest.length === 1 && method === 'GET') {
      const { state: wanted = 'open', head, base, direction = 'desc' } = req.query;
      const list = all
        .filter(
          (i) =>
            (wanted === 'all' || i.state === wanted) &&
            (head === undefined || `${i.pull!.head.owner.login}:${i.pull!.head.ref}` === head) &&
            (base === undefined || i.pull!.base.ref === base),
        )
        .sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
      const { slice, headers } = paginate(req, list);
      return { body: slice.map((i) => pullSimple(state, i)), headers };
    }
    if (rest.length === 1 && method === 'POST') {
      const body = (req.body ?? {}) as {
        title?: unknown;
        head?: unknown;
        base?: unknown;
        body?: unknown;
        draft?: unknown;
        maintainer_can_modify?: unknown;
      };
      const headSpec = typeof body.head === 'string' ? body.head : '';
      const colon = headSpec.indexOf(':');
      const headOwner = colon === -1 ? state.record.owner : findUser(headSpec.slice(0, colon));
      const headRef = colon === -1 ? headSpec : headSpec.slice(colon + 1);
      const baseRef = typeof body.base === 'string' ? body.base : '';
      const headBranch = state.branches.find((b) => b.name === headRef);
      if (!headOwner || !headBranch)
        throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      const baseBranch = state.branches.find((b) => b.name === baseRef);
      if (!baseBranch) throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
      if (headRef === baseRef) {
        throw validationFailed([
          { resource: 'PullRequest', code: 'custom', message: `No commits between ${baseRef} and ${headRef}` },
        ]);
      }
      const existing = all.find(
        (i) => i.state === 'open' && i.pull!.head.ref === headRef && i.pull!.head.owner.login === headOwner.login,
      );
      if (existing) {
        throw validationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${headOwner.login}:${headRef}.`,
          },
        ]);
      }
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const issue: IssueRecord = {
        number: Math.max(0, ...state.issues.map((i) => i.number)) + 1,
        title: typeof body.title === 'string' ? body.title : '',
        body: typeof body.body === 'string' ? body.body : null,
        user: TOKEN_USER,
        association: 'COLLABORATOR',
        state: 'open',
        state_reason: null,
        labels: [],
        assignees: [],
        locked: false,
        created_at: now,
        updated_at: now,
        closed_at: null,
        comments: [],
        pull: {
          head: { ref: headRef, sha: headBranch.sha, owner: headOwner },
          base: { ref: baseRef, sha: baseBranch.sha },
          draft: body.draft === true,
          merged: false,
          files: [],
          reviews: [],
          requested_reviewers: [],
          requested_teams: [],
          maintainer_can_modify: body.maintainer_can_modify === true,
        },
      };
      state.issues.push(issue);
      return { status: 201, body: pullFull(state, issue) };
    }
    const issue = all.find((i) => String(i.number) === rest[1]);
    if (!issue) throw notFound();
    if (rest.length === 2 && method === 'GET') {
      if (/\.diff\b/.test(accept)) {
        return {
          body: unifiedDiff(issue.pull!.files),
          headers: { 'content-type': 'application/vnd.github.diff; charset=utf-8' },
        };
      }
      return { body: pullFull(state, issue) };
    }
    if (rest.length === 3 && rest[2] === 'files' && method === 'GET') {
      const { slice, headers } = paginate(req, issue.pull!.files);
      return { body: slice.map((f) => diffEntry(state, issue.pull!.head.sha, f)), headers };
    }
    if (rest.length === 3 && rest[2] === 'reviews' && method === 'GET') {
      const { slice, headers } = paginate(req, issue.pull!.reviews);
      return { body: slice.map((r) => reviewJson(state, issue, r)), headers };
    }
    throw notFound();
  };

  const actions = async (req: RecordedRequest, state: RepoState, rest: string[]): Promise<Answer> => {
    if (req.method !== 'GET') throw notFound();
    const runsOf = (list: RunRecord[]) => {
      const { branch, event, status } = req.query;
      const filtered = list.filter(
        (r) =>
          (branch === undefined || r.head_branch === branch) &&
          (event === undefined || r.event === event) &&
          (status === undefined || r.status === status || r.conclusion === status),
      );
      const { slice, headers } = paginate(req, filtered);
      return { body: { total_count: filtered.length, workflow_runs: slice.map((r) => runJson(state, r)) }, headers };
    };
    if (rest[1] === 'runs' && rest.length === 2) return runsOf(state.runs);
    if (rest[1] === 'workflows' && rest[3] === 'runs' && rest.length === 4) {
      const id = rest[2] ?? '';
      const list = state.runs.filter((r) => String(r.workflow_id) === id || r.workflow_file === id);
      if (list.length === 0 && !/^\d+$/.test(id)) throw notFound();
      return runsOf(list);
    }
    if (rest[1] === 'runs' && rest.length >= 3) {
      const run = state.runs.find((r) => String(r.id) === rest[2]);
      if (!run) throw notFound();
      if (rest.length === 3) return { body: runJson(state, run) };
      if (rest[3] === 'jobs' && rest.length === 4) {
        const { slice, headers } = paginate(req, run.jobs);
        return { body: { total_count: run.jobs.length, jobs: slice.map((j) => jobJson(state, run, j)) }, headers };
      }
    }
    if (rest[1] === 'jobs' && rest.length >= 3) {
      const run = state.runs.find((r) => r.jobs.some((j) => String(j.id) === rest[2]));
      const job = run?.jobs.find((j) => String(j.id) === rest[2]);
      if (!run || !job) throw notFound();
      if (rest.length === 3) return { body: jobJson(state, run, job) };
      if (rest[3] === 'logs' && rest.length === 4) {
        // GitHub answers 302 with a short-lived, signed storage URL on another origin.
        return {
          status: 302,
          body: undefined,
          headers: { location: `${logOrigin}/jobs/${job.id}/log.txt?sig=signed-${job.id}` },
        };
      }
    }
    throw notFound();
  };

  const search = async (req: RecordedRequest, kind: string): Promise<Answer> => {
    const q = req.query['q'];
    if (q === undefined || q.trim() === '') {
      throw validationFailed([{ resource: 'Search', field: 'q', code: 'missing' }]);
    }
    const tokens = q.split(/\s+/).filter((t) => t !== '');
    const qualifiers = new Map<string, string>();
    const words: string[] = [];
    for (const token of tokens) {
      const match = /^([a-z]+):(.+)$/.exec(token);
      if (match) qualifiers.set(match[1]!, match[2]!);
      else words.push(token.toLowerCase());
    }
    const repos = [...world.repos.values()].filter((r) => {
      const repoQ = qualifiers.get('repo');
      const ownerQ = qualifiers.get('org') ?? qualifiers.get('user');
      return (
        (repoQ === undefined || `${r.record.owner.login}/${r.record.name}`.toLowerCase() === repoQ.toLowerCase()) &&
        (ownerQ === undefined || r.record.owner.login.toLowerCase() === ownerQ.toLowerCase())
      );
    });
    const matches = (text: string) => words.every((w) => text.toLowerCase().includes(w));
    if (kind === 'repositories') {
      const found = repos.filter((r) => matches(`${r.record.name} ${r.record.description ?? ''}`));
      const { slice, headers } = paginate(req, found);
      return {
        body: {
          total_count: found.length,
          incomplete_results: false,
          items: slice.map((r) => repoSearchItem(api, WEB, r.record)),
        },
        headers,
      };
    }
    if (kind === 'code') {
      const found = repos.flatMap((r) =>
        [...r.files].flatMap(([path, entry]) =>
          entry.kind === 'file' && entry.bytes.length < INLINE_LIMIT && matches(entry.bytes.toString('utf8'))
            ? [{ r, path, entry }]
            : [],
        ),
      );
      const { slice, headers } = paginate(req, found);
      const items: Schemas['code-search-result-item'][] = slice.map(({ r, path, entry }) => ({
        name: path.split('/').pop() ?? path,
        path,
        sha: blobSha(entry.kind === 'file' ? entry.bytes : ''),
        url: `${repoBase(r)}/contents/${path}`,
        git_url: `${repoBase(r)}/git/blobs/x`,
        html_url: `${repoWeb(r)}/blob/main/${path}`,
        repository: minimalRepository(api, WEB, r.record),
        score: 1,
      }));
      return { body: { total_count: found.length, incomplete_results: false, items }, headers };
    }
    if (kind === 'issues') {
      const is = qualifiers.get('is');
      const found = repos.flatMap((r) =>
        r.issues
          .filter(
            (i) =>
              (is === undefined ||
                (is === 'pr' ? i.pull !== undefined : is === 'issue' ? i.pull === undefined : i.state === is)) &&
              matches(`${i.title} ${i.body ?? ''}`),
          )
          .map((i) => ({ r, i })),
      );
      const { slice, headers } = paginate(req, found);
      const items: Schemas['issue-search-result-item'][] = slice.map(({ r, i }) => {
        const { body: _body, ...issue } = issueJson(r, i);
        return {
          ...issue,
          ...(i.body !== null && { body: i.body }),
          labels: issue.labels as unknown as Schemas['issue-search-result-item']['labels'],
          state_reason: i.state_reason,
          score: 1,
          author_association: i.association,
        };
      });
      return { body: { total_count: found.length, incomplete_results: false, items }, headers };
    }
    throw notFound();
  };

  // ── servers ───────────────────────────────────────────────────────────────────────────────

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    if (options.control === true && request.method === 'GET' && request.url === '/__stand-in/requests') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ requests, logRequests }));
      return;
    }
    const req = record(request, body);
    requests.push(req);
    const apiPath = req.rawPath.replace(/^\/api\/v3(?=\/)/, '');
    const resource = resourceOf(apiPath);
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}`) {
      send(response, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' }, {}, resource);
      return;
    }
    const rule = rules.find(
      (r) =>
        r.left > 0 &&
        (r.method === undefined || r.method === req.method) &&
        (r.path === undefined || r.path.test(req.rawPath)),
    );
    let added: Record<string, string> = {};
    if (rule?.addHeaders) {
      rule.left -= 1;
      added = rule.headers ?? {};
    } else if (rule) {
      rule.left -= 1;
      if (rule.reset) {
        response.socket?.destroy();
        return;
      }
      if (rule.hang) {
        hanging.add(response);
        response.on('close', () => hanging.delete(response));
        return;
      }
      send(response, rule.status ?? 200, rule.body, rule.headers ?? {}, resource, (rule.status ?? 200) < 500);
      return;
    }
    if (apiPath !== '/rate_limit') {
      const quota = quotaOf(resource);
      quota.remaining = Math.max(quota.remaining - 1, 0);
    }
    try {
      const answer = await route(req);
      send(response, answer.status ?? 200, answer.body, { ...answer.headers, ...added }, resource);
    } catch (error) {
      if (error instanceof HttpAnswer) send(response, error.status, error.body, error.headers, resource);
      else send(response, 500, { message: `stand-in bug: ${(error as Error).message}` }, {}, resource);
    }
  };

  const handleLog = async (request: IncomingMessage, response: ServerResponse) => {
    const req = record(request, await readBody(request));
    logRequests.push(req);
    const match = /^\/jobs\/(\d+)\/log\.txt$/.exec(req.rawPath);
    const job = [...world.repos.values()]
      .flatMap((r) => r.runs.flatMap((run) => run.jobs))
      .find((j) => match !== null && String(j.id) === match[1]);
    if (!job || req.query['sig'] !== `signed-${job.id}`) {
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end('<Error><Code>AuthenticationFailed</Code></Error>');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(job.log);
  };

  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host ?? '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });

  const apiServer = createServer((request, response) => void handle(request, response));
  const logServer = createServer((request, response) => void handleLog(request, response));
  const host = options.host ?? '127.0.0.1';
  const shown = options.publicHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host);
  api = `http://${shown}:${await listen(apiServer, options.port ?? 0)}`;
  logOrigin = `http://${shown}:${await listen(logServer, options.logPort ?? 0)}`;

  return {
    url: api,
    logUrl: logOrigin,
    requests,
    logRequests,
    world,
    respond: (...added) => rules.push(...added.map((rule) => ({ ...rule, left: rule.times ?? 1 }))),
    setQuota: (resource, remaining, resetInSeconds = 3600, limit) => {
      const quota = quotaOf(resource);
      quota.remaining = remaining;
      quota.reset = Math.floor(Date.now() / 1000) + resetInSeconds;
      if (limit !== undefined) quota.limit = limit;
    },
    hanging: () => hanging.size,
    quota: (resource) => ({ ...quotaOf(resource) }),
    setScopes: (value) => (scopes = value),
    clear: () => {
      requests.length = 0;
      logRequests.length = 0;
    },
    close: async () => {
      for (const response of hanging) response.destroy();
      apiServer.closeAllConnections();
      logServer.closeAllConnections();
      await Promise.all([
        new Promise((resolve) => apiServer.close(resolve)),
        new Promise((resolve) => logServer.close(resolve)),
      ]);
    },
  };
}
