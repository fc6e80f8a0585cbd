import { z } from 'zod';

import type { Call, GitHub, Paging, RepoRef } from './context.js';
import {
  authoredListAnswer,
  listAnswer,
  listFields,
  listSchema,
  type SearchArgs,
  searchParams,
  searchSchema,
} from './lists.js';
import { type ContentFilter, withholdUntrusted } from './lockdown.js';
import { pageInfo } from './paging.js';
import { commentSchema, issueSchema, toComment, toIssue, untrustedFields } from './shapes.js';
import { fitList, UNTRUSTED } from './text.js';

const repoName = ({ owner, repo }: RepoRef) => `${owner}/${repo}`;

// ── list_issues ─────────────────────────────────────────────────────────────────────────────

export const listIssuesSchema = listSchema('issues', issueSchema);

export interface ListIssuesArgs extends RepoRef, Paging {
  state?: 'open' | 'closed' | 'all' | undefined;
  labels?: string[] | undefined;
  assignee?: string | undefined;
  since?: string | undefined;
  sort?: 'created' | 'updated' | 'comments' | undefined;
  direction?: 'asc' | 'desc' | undefined;
}

export async function listIssues(gh: GitHub, call: Call, args: ListIssuesArgs) {
  const { labels } = args;
  const { data, headers } = await gh.client.call(`the issues of repository ${repoName(args)}`, () =>
    gh.client.rest.issues.listForRepo({
      ...args,
      labels: labels !== undefined && labels.length > 0 ? labels.join(',') : undefined,
      request: gh.client.requestOptions(call),
    }),
  );
  const issues = data.map((issue) => toIssue(issue, gh.limits.bodyChars));
  return authoredListAnswer(gh, call, args, 'issues', issues, headers.link);
}

// ── get_issue ───────────────────────────────────────────────────────────────────────────────

export const getIssueSchema = z.object({
  issue: issueSchema,
  comments: z.array(commentSchema).describe('The comments of this page, oldest first'),
  comments_page: z.object(pageInfoShape()),
  truncated: listFields.truncated,
  omitted: listFields.omitted,
  ...untrustedFields,
});

function pageInfoShape() {
  const { page, per_page, has_more, next_page, last_page } = listFields;
  return { page, per_page, has_more, next_page, last_page };
}

export interface GetIssueArgs extends RepoRef, Paging {
  number: number;
}

/** GET the issue and one page of its comments (both requests at once). */
export async function getIssue(gh: GitHub, call: Call, args: GetIssueArgs) {
  const { owner, repo, number, page, per_page } = args;
  const what = `issue #${number} of repository ${repoName(args)}`;
  const [issueAnswer, commentsAnswer, filter] = await Promise.all([
    gh.client.call(what, () =>
      gh.client.rest.issues.get({ owner, repo, issue_number: number, request: gh.client.requestOptions(call) }),
    ),
    gh.client.call(`the comments of ${what}`, () =>
      gh.client.rest.issues.listComments({
        owner,
        repo,
        issue_number: number,
        page,
        per_page,
        request: gh.client.requestOptions(call),
      }),
    ),
    gh.lockdown.forRepo(call, owner, repo),
  ]);
  const [issue] = await withholdUntrusted(filter, [toIssue(issueAnswer.data, gh.limits.bodyChars)]);
  const comments = await withholdUntrusted(
    filter,
    commentsAnswer.data.map((comment) => toComment(comment, gh.limits.bodyChars)),
  );
  const answer = {
    issue: issue!,
    comments,
    comments_page: pageInfo(commentsAnswer.headers.link, page, per_page),
    truncated: issue!.truncated || comments.some((comment) => comment.truncated),
    ...UNTRUSTED,
  };
  return fitList(answer, 'comments', call.budget);
}

// ── search_issues ───────────────────────────────────────────────────────────────────────────

export const searchIssuesSchema = searchSchema('items', issueSchema);

/** GET /search/issues (issues and pull requests, across repositories); lockdown looks at each item's repository. */
export async function searchIssues(
  gh: GitHub,
  call: Call,
  args: SearchArgs<'comments' | 'reactions' | 'created' | 'updated'>,
) {
  const { data, headers } = await gh.client.call(
    'the issue search',
    () =>
      gh.client.rest.search.issuesAndPullRequests({ ...searchParams(args), request: gh.client.requestOptions(call) }),
    'search',
  );
  const items = data.items.map((item) => toIssue(item, gh.limits.bodyChars));
  if (gh.lockdown.enabled) {
    const byRepo = new Map<string, typeof items>();
    for (const item of items) byRepo.set(item.repository ?? '', [...(byRepo.get(item.repository ?? '') ?? []), item]);
    for (const [name, group] of byRepo) {
      const [owner, repo] = name.split('/');
      const filter =
        owner && repo
          ? await gh.lockdown.forRepo(call, owner, repo).catch(() => closedFilter(`${name} could not be checked`))
          : closedFilter('the repository of this item is unknown');
      await withholdUntrusted(filter, group);
    }
  }
  return listAnswer('items', items, headers.link, args, call.budget, {
    total_count: data.total_count,
    incomplete_results: data.incomplete_results,
  });
}

/** A filter that withholds everything, for items lockdown cannot check. */
function closedFilter(why: string): ContentFilter {
  return { withhold: async () => `GITHUB_LOCKDOWN: ${why}, so the text is withheld` };
}

// ── create_issue, add_issue_comment, update_issue ───────────────────────────────────────────

export const writtenIssueSchema = z.object({
  number: z.number().int(),
  title: z.string(),
  state: z.string(),
  labels: z.array(z.string()),
  assignees: z.array(z.string()),
  html_url: z.string(),
});

function toWritten(issue: Parameters<typeof toIssue>[0]) {
  const out = toIssue(issue, 0);
  return {
    number: out.number,
    title: issue.title,
    state: out.state,
    labels: out.labels,
    assignees: out.assignees,
    html_url: out.html_url,
  };
}

export interface CreateIssueArgs extends RepoRef {
  title: string;
  body?: string | undefined;
  labels?: string[] | undefined;
  assignees?: string[] | undefined;
}

export async function createIssue(gh: GitHub, call: Call, args: CreateIssueArgs) {
  const { owner, repo, title, body, labels, assignees } = args;
  const { data } = await gh.client.call(`a new issue in repository ${repoName(args)}`, () =>
    gh.client.rest.issues.create({
      owner,
      repo,
      title,
      body,
      labels,
      assignees,
      request: gh.client.requestOptions(call, { write: true }),
    }),
  );
  return toWritten(data);
}

export const writtenCommentSchema = z.object({
  id: z.number(),
  html_url: z.string(),
  created_at: z.string(),
});

export async function addIssueComment(gh: GitHub, call: Call, args: RepoRef & { number: number; body: string }) {
  const { owner, repo, number, body } = args;
  const { data } = await gh.client.call(`a comment on issue #${number} of repository ${repoName(args)}`, () =>
    gh.client.rest.issues.createComment({
      owner,
      repo,
      issue_number: number,
      body,
      request: gh.client.requestOptions(call, { write: true }),
    }),
  );
  return { id: data.id, html_url: data.html_url, created_at: data.created_at };
}

export interface UpdateIssueArgs extends RepoRef {
  number: number;
  title?: string | undefined;
  body?: string | undefined;
  state?: 'open' | 'closed' | undefined;
  state_reason?: 'completed' | 'not_planned' | 'reopened' | undefined;
  labels?: string[] | undefined;
  assignees?: string[] | undefined;
}

/** PATCH the issue with the fields given (labels and assignees replace the current lists). */
export async function updateIssue(gh: GitHub, call: Call, args: UpdateIssueArgs) {
  const { owner, repo, number, title, body, state, state_reason, labels, assignees } = args;
  const { data } = await gh.client.call(`issue #${number} of repository ${repoName(args)}`, () =>
    gh.client.rest.issues.update({
      owner,
      repo,
      issue_number: number,
      title,
      body,
      state,
      state_reason,
      labels,
      assignees,
      // A PATCH sets fields to values: sending it twice does the same, so it may be retried.
      request: gh.client.requestOptions(call),
    }),
  );
  return toWritten(data);
}
