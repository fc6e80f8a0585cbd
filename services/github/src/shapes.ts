import { z } from 'zod';

import { capText } from './text.js';

/**
 * What the tools return, as zod schemas (their output schemas, and the types the domain builds), and
 * the mappers from GitHub's REST shapes. The mappers read GitHub's answers structurally (only the
 * fields used), so that they do not depend on one version of Octokit's generated types.
 */

// ── GitHub's shapes, as far as they are read ──────────────────────────────────────────────────

export interface GhUser {
  login: string;
}
type MaybeUser = GhUser | null | undefined;
interface GhLabel {
  name?: string | undefined;
}
export interface GhIssue {
  number: number;
  title: string;
  state: string;
  state_reason?: string | null | undefined;
  body?: string | null | undefined;
  user: MaybeUser;
  author_association?: string | undefined;
  labels: (string | GhLabel)[];
  assignees?: GhUser[] | null | undefined;
  comments: number;
  pull_request?: unknown;
  locked: boolean;
  milestone?: { title: string } | null | undefined;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  html_url: string;
  repository_url?: string | undefined;
}
export interface GhComment {
  id: number;
  user: MaybeUser;
  author_association?: string | undefined;
  body?: string | undefined;
  created_at: string;
  updated_at: string;
  html_url: string;
}
interface GhBranchRef {
  ref: string;
  sha: string;
  repo?: { full_name: string } | null | undefined;
}
export interface GhPull {
  number: number;
  title: string;
  state: string;
  draft?: boolean | undefined;
  body: string | null;
  user: MaybeUser;
  author_association?: string | undefined;
  labels: GhLabel[];
  head: GhBranchRef;
  base: GhBranchRef;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  merged_at: string | null;
  html_url: string;
  requested_reviewers?: GhUser[] | null | undefined;
  requested_teams?: { slug: string }[] | null | undefined;
}
export interface GhReview {
  id: number;
  user: MaybeUser;
  author_association?: string | undefined;
  state: string;
  body: string;
  submitted_at?: string | undefined;
  html_url: string;
}
export interface GhFile {
  filename: string;
  status: string;
  additions: number;
  deletions: number;
  changes: number;
  previous_filename?: string | undefined;
  patch?: string | undefined;
}
interface GhGitPerson {
  name?: string | undefined;
  date?: string | undefined;
}
export interface GhCommit {
  sha: string;
  html_url: string;
  commit: { message: string; author: GhGitPerson | null; committer: GhGitPerson | null };
  author: MaybeUser | Record<string, never>;
  committer: MaybeUser | Record<string, never>;
  parents: { sha: string }[];
}
export interface GhRepo {
  full_name: string;
  name: string;
  owner: GhUser | null;
  description: string | null;
  private: boolean;
  visibility?: string | undefined;
  fork: boolean;
  archived?: boolean | undefined;
  default_branch?: string | undefined;
  language?: string | null | undefined;
  topics?: string[] | undefined;
  stargazers_count?: number | undefined;
  forks_count?: number | undefined;
  open_issues_count?: number | undefined;
  html_url: string;
  created_at?: string | null | undefined;
  updated_at?: string | null | undefined;
  pushed_at?: string | null | undefined;
  license?: { spdx_id?: string | null | undefined } | null | undefined;
  permissions?: { admin?: boolean; push?: boolean; pull?: boolean } | undefined;
}

// ── Output schemas ───────────────────────────────────────────────────────────────────────────

const login = z.string().nullable().describe('GitHub login; null for a deleted account');
const timestamp = z.string().nullable();
const withheld = z
  .string()
  .optional()
  .describe('Present when GITHUB_LOCKDOWN withheld this text: why (the author is named, the text is not)');
const truncated = z.boolean().describe('Some text of this item was cut at the server limit');

export const pageFields = {
  page: z.number().int(),
  per_page: z.number().int(),
  has_more: z.boolean().describe('GitHub has more on the next page'),
  next_page: z.number().int().optional().describe('Pass as `page` to read on'),
  last_page: z.number().int().optional(),
};

export const untrustedFields = {
  untrusted: z.literal(true),
  notice: z.string(),
};

export const repoSchema = z.object({
  full_name: z.string(),
  owner: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  private: z.boolean(),
  visibility: z.string().optional(),
  fork: z.boolean(),
  archived: z.boolean(),
  default_branch: z.string().optional(),
  language: z.string().nullable(),
  topics: z.array(z.string()),
  stargazers_count: z.number().int(),
  forks_count: z.number().int(),
  open_issues_count: z.number().int(),
  license: z.string().nullable(),
  html_url: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
  pushed_at: timestamp,
  permissions: z.object({ admin: z.boolean(), push: z.boolean(), pull: z.boolean() }).optional(),
});
export type RepoOut = z.infer<typeof repoSchema>;

export const issueSchema = z.object({
  number: z.number().int(),
  title: z.string().nullable(),
  state: z.string(),
  state_reason: z.string().nullable(),
  author: login,
  author_association: z.string().nullable(),
  labels: z.array(z.string()),
  assignees: z.array(z.string()),
  comments: z.number().int(),
  is_pull_request: z.boolean(),
  locked: z.boolean(),
  milestone: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  closed_at: timestamp,
  html_url: z.string(),
  repository: z.string().optional().describe('owner/repo of the issue'),
  body: z.string().nullable(),
  truncated,
  withheld,
});
export type IssueOut = z.infer<typeof issueSchema>;

export const commentSchema = z.object({
  id: z.number(),
  author: login,
  author_association: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  html_url: z.string(),
  body: z.string().nullable(),
  truncated,
  withheld,
});
export type CommentOut = z.infer<typeof commentSchema>;

const branchRefSchema = z.object({ ref: z.string(), sha: z.string(), repo: z.string().nullable() });

export const pullSchema = z.object({
  number: z.number().int(),
  title: z.string().nullable(),
  state: z.string(),
  draft: z.boolean(),
  author: login,
  author_association: z.string().nullable(),
  labels: z.array(z.string()),
  head: branchRefSchema,
  base: branchRefSchema,
  requested_reviewers: z.array(z.string()),
  requested_teams: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  closed_at: timestamp,
  merged_at: timestamp,
  html_url: z.string(),
  body: z.string().nullable(),
  truncated,
  withheld,
});
export type PullOut = z.infer<typeof pullSchema>;

export const fileSchema = z.object({
  filename: z.string(),
  status: z.string(),
  additions: z.number().int(),
  deletions: z.number().int(),
  changes: z.number().int(),
  previous_filename: z.string().optional(),
  patch: z
    .string()
    .nullable()
    .describe('Unified diff of this file; null for binary files or when GitHub leaves it out'),
  truncated,
});
export type FileOut = z.infer<typeof fileSchema>;

const personSchema = z.object({ name: z.string().nullable(), login, date: timestamp });

export const commitSchema = z.object({
  sha: z.string(),
  message: z.string().nullable(),
  author: personSchema,
  committer: personSchema,
  parents: z.array(z.string()),
  html_url: z.string(),
  truncated,
});
export type CommitOut = z.infer<typeof commitSchema>;

export const reviewSchema = z.object({
  id: z.number(),
  author: login,
  author_association: z.string().nullable(),
  state: z.string().describe('APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING'),
  submitted_at: timestamp,
  html_url: z.string(),
  body: z.string().nullable(),
  truncated,
  withheld,
});
export type ReviewOut = z.infer<typeof reviewSchema>;

// ── Mappers ─────────────────────────────────────────────────────────────────────────────────

function loginOf(user: MaybeUser | Record<string, never>): string | null {
  return user !== null && user !== undefined && typeof (user as GhUser).login === 'string'
    ? (user as GhUser).login
    : null;
}

function labelNames(labels: (string | GhLabel)[]): string[] {
  return labels.flatMap((label) =>
    typeof label === 'string' ? [label] : label.name !== undefined ? [label.name] : [],
  );
}

/** `https://api.github.com/repos/octo/hello` → `octo/hello` (search results name their repository this way). */
export function repoOfUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const match = /\/repos\/([^/]+)\/([^/]+)$/.exec(url);
  return match ? `${decodeURIComponent(match[1] ?? '')}/${decodeURIComponent(match[2] ?? '')}` : undefined;
}

export function toRepo(repo: GhRepo): RepoOut {
  const out: RepoOut = {
    full_name: repo.full_name,
    owner: repo.owner?.login ?? repo.full_name.split('/')[0] ?? '',
    name: repo.name,
    description: repo.description,
    private: repo.private,
    fork: repo.fork,
    archived: repo.archived ?? false,
    language: repo.language ?? null,
    topics: repo.topics ?? [],
    stargazers_count: repo.stargazers_count ?? 0,
    forks_count: repo.forks_count ?? 0,
    open_issues_count: repo.open_issues_count ?? 0,
    license: repo.license?.spdx_id ?? null,
    html_url: repo.html_url,
    created_at: repo.created_at ?? null,
    updated_at: repo.updated_at ?? null,
    pushed_at: repo.pushed_at ?? null,
  };
  if (repo.visibility !== undefined) out.visibility = repo.visibility;
  if (repo.default_branch !== undefined) out.default_branch = repo.default_branch;
  if (repo.permissions !== undefined) {
    out.permissions = {
      admin: repo.permissions.admin === true,
      push: repo.permissions.push === true,
      pull: repo.permissions.pull === true,
    };
  }
  return out;
}

export function toIssue(issue: GhIssue, maxBody: number): IssueOut {
  const body = capText(issue.body, maxBody);
  const out: IssueOut = {
    number: issue.number,
    title: issue.title,
    state: issue.state,
    state_reason: issue.state_reason ?? null,
    author: loginOf(issue.user),
    author_association: issue.author_association ?? null,
    labels: labelNames(issue.labels),
    assignees: (issue.assignees ?? []).map((user) => user.login),
    comments: issue.comments,
    is_pull_request: issue.pull_request !== undefined && issue.pull_request !== null,
    locked: issue.locked,
    milestone: issue.milestone?.title ?? null,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: issue.closed_at,
    html_url: issue.html_url,
    body: body.text,
    truncated: body.truncated,
  };
  const repository = repoOfUrl(issue.repository_url);
  if (repository !== undefined) out.repository = repository;
  return out;
}

export function toComment(comment: GhComment, maxBody: number): CommentOut {
  const body = capText(comment.body, maxBody);
  return {
    id: comment.id,
    author: loginOf(comment.user),
    author_association: comment.author_association ?? null,
    created_at: comment.created_at,
    updated_at: comment.updated_at,
    html_url: comment.html_url,
    body: body.text,
    truncated: body.truncated,
  };
}

function toBranchRef(ref: GhBranchRef): z.infer<typeof branchRefSchema> {
  return { ref: ref.ref, sha: ref.sha, repo: ref.repo?.full_name ?? null };
}

export function toPull(pull: GhPull, maxBody: number): PullOut {
  const body = capText(pull.body, maxBody);
  return {
    number: pull.number,
    title: pull.title,
    state: pull.state,
    draft: pull.draft === true,
    author: loginOf(pull.user),
    author_association: pull.author_association ?? null,
    labels: labelNames(pull.labels),
    head: toBranchRef(pull.head),
    base: toBranchRef(pull.base),
    requested_reviewers: (pull.requested_reviewers ?? []).map((user) => user.login),
    requested_teams: (pull.requested_teams ?? []).map((team) => team.slug),
    created_at: pull.created_at,
    updated_at: pull.updated_at,
    closed_at: pull.closed_at,
    merged_at: pull.merged_at,
    html_url: pull.html_url,
    body: body.text,
    truncated: body.truncated,
  };
}

export function toFile(file: GhFile, maxPatch: number): FileOut {
  const patch = capText(file.patch, maxPatch);
  const out: FileOut = {
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.changes,
    patch: patch.text,
    truncated: patch.truncated,
  };
  if (file.previous_filename !== undefined) out.previous_filename = file.previous_filename;
  return out;
}

export function toCommit(commit: GhCommit, maxMessage: number): CommitOut {
  const message = capText(commit.commit.message, maxMessage);
  const person = (git: GhGitPerson | null, user: MaybeUser | Record<string, never>) => ({
    name: git?.name ?? null,
    login: loginOf(user),
    date: git?.date ?? null,
  });
  return {
    sha: commit.sha,
    message: message.text,
    author: person(commit.commit.author, commit.author),
    committer: person(commit.commit.committer, commit.committer),
    parents: commit.parents.map((parent) => parent.sha),
    html_url: commit.html_url,
    truncated: message.truncated,
  };
}

export function toReview(review: GhReview, maxBody: number): ReviewOut {
  const body = capText(review.body, maxBody);
  return {
    id: review.id,
    author: loginOf(review.user),
    author_association: review.author_association ?? null,
    state: review.state,
    submitted_at: review.submitted_at ?? null,
    html_url: review.html_url,
    body: body.text,
    truncated: body.truncated,
  };
}
