import { z } from 'zod';

import type { Call, GitHub, Paging, RepoRef } from './context.js';
import { GitHubError } from './github-error.js';
import { authoredListAnswer, listFields, listSchema } from './lists.js';
import { withholdUntrusted } from './lockdown.js';
import { pageInfo } from './paging.js';
import {
  fileSchema,
  type GhReview,
  pageFields,
  pullSchema,
  reviewSchema,
  toFile,
  toPull,
  toReview,
  untrustedFields,
} from './shapes.js';
import { readDiffPage } from './streams.js';
import { fitList, UNTRUSTED } from './text.js';

const repoName = ({ owner, repo }: RepoRef) => `${owner}/${repo}`;
const pullName = (args: RepoRef & { number: number }) => `pull request #${args.number} of repository ${repoName(args)}`;

// ── list_pull_requests ──────────────────────────────────────────────────────────────────────

export const listPullRequestsSchema = listSchema('pull_requests', pullSchema);

export interface ListPullsArgs extends RepoRef, Paging {
  state?: 'open' | 'closed' | 'all' | undefined;
  head?: string | undefined;
  base?: string | undefined;
  sort?: 'created' | 'updated' | 'popularity' | 'long-running' | undefined;
  direction?: 'asc' | 'desc' | undefined;
}

export async function listPullRequests(gh: GitHub, call: Call, args: ListPullsArgs) {
  const { data, headers } = await gh.client.call(`the pull requests of repository ${repoName(args)}`, () =>
    gh.client.rest.pulls.list({ ...args, request: gh.client.requestOptions(call) }),
  );
  const pulls = data.map((pull) => toPull(pull, gh.limits.bodyChars));
  return authoredListAnswer(gh, call, args, 'pull_requests', pulls, headers.link);
}

// ── get_pull_request ────────────────────────────────────────────────────────────────────────

const reviewStateSchema = z.object({
  approved: z.array(z.string()),
  changes_requested: z.array(z.string()),
  commented: z.array(z.string()),
  dismissed: z.array(z.string()),
  requested: z.array(z.string()).describe('Reviewers (users and @teams) asked for a review who have not given one'),
});

export const getPullRequestSchema = z.object({
  pull_request: pullSchema.extend({
    merged: z.boolean(),
    mergeable: z.boolean().nullable(),
    mergeable_state: z.string(),
    commits: z.number().int(),
    additions: z.number().int(),
    deletions: z.number().int(),
    changed_files: z.number().int(),
  }),
  review_state: reviewStateSchema.describe("Each reviewer's latest decision"),
  reviews: z.array(reviewSchema).describe('The first 100 reviews, oldest first'),
  reviews_has_more: z.boolean(),
  files: z.array(fileSchema),
  files_page: z.object(pageFields),
  files_withheld: z.string().optional().describe('GITHUB_LOCKDOWN withheld the changes of this pull request: why'),
  truncated: listFields.truncated,
  omitted: z.number().int().optional().describe('Files of this page left out to fit MCP_MAX_RESULT_BYTES'),
  ...untrustedFields,
});

/** Each reviewer's latest decision: a later APPROVED, CHANGES_REQUESTED or DISMISSED replaces an earlier one; COMMENTED never replaces a decision. */
export function reviewState(
  reviews: readonly GhReview[],
  requested: readonly string[],
): z.infer<typeof reviewStateSchema> {
  const latest = new Map<string, string>();
  for (const review of reviews) {
    const login = review.user?.login;
    if (login === undefined || review.state === 'PENDING') continue;
    if (review.state === 'COMMENTED' && latest.has(login)) continue;
    latest.set(login, review.state);
  }
  const who = (state: string) => [...latest].filter(([, value]) => value === state).map(([login]) => login);
  return {
    approved: who('APPROVED'),
    changes_requested: who('CHANGES_REQUESTED'),
    commented: who('COMMENTED'),
    dismissed: who('DISMISSED'),
    requested: [...requested],
  };
}

export interface GetPullArgs extends RepoRef, Paging {
  number: number;
}

/** The pull request, its review state and one page of its changed files (three requests at once). */
export async function getPullRequest(gh: GitHub, call: Call, args: GetPullArgs) {
  const { owner, repo, number, page, per_page } = args;
  const what = pullName(args);
  const [pullAnswer, filesAnswer, reviewsAnswer, filter] = await Promise.all([
    gh.client.call(what, () =>
      gh.client.rest.pulls.get({ owner, repo, pull_number: number, request: gh.client.requestOptions(call) }),
    ),
    gh.client.call(`the files of ${what}`, () =>
      gh.client.rest.pulls.listFiles({
        owner,
        repo,
        pull_number: number,
        page,
        per_page,
        request: gh.client.requestOptions(call),
      }),
    ),
    gh.client.call(`the reviews of ${what}`, () =>
      gh.client.rest.pulls.listReviews({
        owner,
        repo,
        pull_number: number,
        per_page: 100,
        request: gh.client.requestOptions(call),
      }),
    ),
    gh.lockdown.forRepo(call, owner, repo),
  ]);
  const data = pullAnswer.data;
  const [pull] = await withholdUntrusted(filter, [toPull(data, gh.limits.bodyChars)]);
  const withheld = pull!.withheld;
  const reviews = await withholdUntrusted(
    filter,
    reviewsAnswer.data.map((review) => toReview(review, gh.limits.bodyChars)),
  );
  const files = withheld === undefined ? filesAnswer.data.map((file) => toFile(file, gh.limits.patchChars)) : [];
  const requested = [
    ...(data.requested_reviewers ?? []).map((user) => user.login),
    ...(data.requested_teams ?? []).map((team) => `@${team.slug}`),
  ];
  const answer = {
    pull_request: {
      ...pull!,
      merged: data.merged,
      mergeable: data.mergeable,
      mergeable_state: data.mergeable_state,
      commits: data.commits,
      additions: data.additions,
      deletions: data.deletions,
      changed_files: data.changed_files,
    },
    review_state: reviewState(reviewsAnswer.data, requested),
    reviews,
    reviews_has_more: pageInfo(reviewsAnswer.headers.link, 1, 100).has_more,
    files,
    files_page: pageInfo(filesAnswer.headers.link, page, per_page),
    ...(withheld !== undefined && { files_withheld: withheld }),
    truncated: pull!.truncated || reviews.some((review) => review.truncated) || files.some((file) => file.truncated),
    ...UNTRUSTED,
  };
  return fitList(answer, 'files', call.budget);
}

// ── get_pull_request_diff ───────────────────────────────────────────────────────────────────

export const getPullRequestDiffSchema = z.object({
  number: z.number().int(),
  files: z.array(
    z.object({
      filename: z.string(),
      diff: z.string().describe('This file\'s part of the unified diff, from its "diff --git" line'),
      truncated: z.boolean(),
    }),
  ),
  ...pageFields,
  complete: z
    .boolean()
    .describe('false when the diff is larger than GITHUB_MAX_RESPONSE_BYTES and was read only that far'),
  withheld: z.string().optional().describe('GITHUB_LOCKDOWN withheld this diff: why'),
  truncated: listFields.truncated,
  omitted: z.number().int().optional(),
  ...untrustedFields,
});

/**
 * The unified diff (GitHub's `diff` media type), paged by file: page N holds files
 * (N-1)·per_page+1 … N·per_page, each cut at GITHUB_MAX_PATCH_CHARS. The diff is streamed and read
 * only as far as the page needs.
 */
export async function getPullRequestDiff(gh: GitHub, call: Call, args: GetPullArgs) {
  const { owner, repo, number, page, per_page } = args;
  const what = pullName(args);
  const base = { number, page, per_page, ...UNTRUSTED };
  if (gh.lockdown.enabled) {
    const [{ data }, filter] = await Promise.all([
      gh.client.call(what, () =>
        gh.client.rest.pulls.get({ owner, repo, pull_number: number, request: gh.client.requestOptions(call) }),
      ),
      gh.lockdown.forRepo(call, owner, repo),
    ]);
    const withheld = await filter.withhold(data.user?.login, data.author_association);
    if (withheld !== undefined) {
      return { ...base, files: [], has_more: false, complete: true, withheld, truncated: false };
    }
  }
  const { data: body } = await gh.client
    .call(`the diff of ${what}`, () =>
      gh.client.rest.pulls.get({
        owner,
        repo,
        pull_number: number,
        mediaType: { format: 'diff' },
        request: gh.client.requestOptions(call, { stream: true }),
      }),
    )
    .catch((error: unknown) => {
      if (error instanceof GitHubError && (error.cause as { status?: number } | undefined)?.status === 406) {
        throw new GitHubError(
          'UPSTREAM_FAILED',
          `${error.message}. GitHub does not make diffs this large: read the changes file by file with get_pull_request (files are paged)`,
        );
      }
      throw error;
    });
  const diff = await readDiffPage(body as unknown as ReadableStream<Uint8Array>, {
    page,
    perPage: per_page,
    maxFileChars: gh.limits.patchChars,
    maxBytes: gh.limits.responseBytes,
  });
  const answer = {
    ...base,
    files: diff.files,
    has_more: diff.has_more,
    ...(diff.has_more && { next_page: page + 1 }),
    complete: diff.complete,
    truncated: !diff.complete || diff.files.some((file) => file.truncated),
  };
  return fitList(answer, 'files', call.budget);
}

// ── create_pull_request ─────────────────────────────────────────────────────────────────────

export const createdPullSchema = z.object({
  number: z.number().int(),
  title: z.string(),
  state: z.string(),
  draft: z.boolean(),
  head: z.string(),
  base: z.string(),
  html_url: z.string(),
});

export interface CreatePullArgs extends RepoRef {
  title: string;
  head: string;
  base: string;
  body?: string | undefined;
  draft?: boolean | undefined;
  maintainer_can_modify?: boolean | undefined;
}

export async function createPullRequest(gh: GitHub, call: Call, args: CreatePullArgs) {
  const { owner, repo, title, head, base, body, draft, maintainer_can_modify } = args;
  const { data } = await gh.client.call(`a new pull request in repository ${repoName(args)}`, () =>
    gh.client.rest.pulls.create({
      owner,
      repo,
      title,
      head,
      base,
      body,
      draft,
      maintainer_can_modify,
      request: gh.client.requestOptions(call, { write: true }),
    }),
  );
  return {
    number: data.number,
    title: data.title,
    state: data.state,
    draft: data.draft === true,
    head: data.head.ref,
    base: data.base.ref,
    html_url: data.html_url,
  };
}
