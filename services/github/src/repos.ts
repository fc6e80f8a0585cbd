import { z } from 'zod';

import type { Call, GitHub, Paging, RepoRef } from './context.js';
import { listAnswer, listSchema, type SearchArgs, searchParams, searchSchema } from './lists.js';
import { pageInfo } from './paging.js';
import {
  commitSchema,
  fileSchema,
  pageFields,
  repoSchema,
  toCommit,
  toFile,
  toRepo,
  untrustedFields,
} from './shapes.js';
import { capText, fitList, UNTRUSTED } from './text.js';

const what = ({ owner, repo }: RepoRef) => `repository ${owner}/${repo}`;

// ── search_repositories ─────────────────────────────────────────────────────────────────────

export const searchRepositoriesSchema = searchSchema('repositories', repoSchema);

export async function searchRepositories(
  gh: GitHub,
  call: Call,
  args: SearchArgs<'stars' | 'forks' | 'help-wanted-issues' | 'updated'>,
) {
  const { data, headers } = await gh.client.call(
    'the repository search',
    () => gh.client.rest.search.repos({ ...searchParams(args), request: gh.client.requestOptions(call) }),
    'search',
  );
  return listAnswer('repositories', data.items.map(toRepo), headers.link, args, call.budget, {
    total_count: data.total_count,
    incomplete_results: data.incomplete_results,
  });
}

// ── get_repository ──────────────────────────────────────────────────────────────────────────

export const getRepositorySchema = repoSchema.extend(untrustedFields);

export async function getRepository(gh: GitHub, call: Call, ref: RepoRef) {
  const { data } = await gh.client.call(what(ref), () =>
    gh.client.rest.repos.get({ ...ref, request: gh.client.requestOptions(call) }),
  );
  return { ...toRepo(data), ...UNTRUSTED };
}

// ── list_commits ────────────────────────────────────────────────────────────────────────────

export const listCommitsSchema = listSchema('commits', commitSchema);

export interface ListCommitsArgs extends RepoRef, Paging {
  sha?: string | undefined;
  path?: string | undefined;
  author?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export async function listCommits(gh: GitHub, call: Call, args: ListCommitsArgs) {
  const { data, headers } = await gh.client.call(`the commits of ${what(args)}`, () =>
    gh.client.rest.repos.listCommits({ ...args, request: gh.client.requestOptions(call) }),
  );
  const commits = data.map((commit) => toCommit(commit, gh.limits.bodyChars));
  return listAnswer('commits', commits, headers.link, args, call.budget);
}

// ── get_commit ──────────────────────────────────────────────────────────────────────────────

export const getCommitSchema = commitSchema.extend({
  stats: z.object({ additions: z.number().int(), deletions: z.number().int(), total: z.number().int() }).nullable(),
  files: z.array(fileSchema),
  ...pageFields,
  truncated: z
    .boolean()
    .describe('The message or a patch was cut, or files were left out to fit the answer size limit'),
  omitted: z.number().int().optional().describe('Files of this page left out to fit MCP_MAX_RESULT_BYTES'),
  ...untrustedFields,
});

export interface GetCommitArgs extends RepoRef, Paging {
  sha: string;
}

export async function getCommit(gh: GitHub, call: Call, args: GetCommitArgs) {
  const { owner, repo, sha, page, per_page } = args;
  const { data, headers } = await gh.client.call(`commit ${JSON.stringify(sha)} of ${what(args)}`, () =>
    gh.client.rest.repos.getCommit({ owner, repo, ref: sha, page, per_page, request: gh.client.requestOptions(call) }),
  );
  const commit = toCommit(data, gh.limits.bodyChars);
  const files = (data.files ?? []).map((file) => toFile(file, gh.limits.patchChars));
  const answer = {
    ...commit,
    stats:
      data.stats === undefined
        ? null
        : { additions: data.stats.additions ?? 0, deletions: data.stats.deletions ?? 0, total: data.stats.total ?? 0 },
    files,
    ...pageInfo(headers.link, page, per_page),
    truncated: commit.truncated || files.some((file) => file.truncated),
    ...UNTRUSTED,
  };
  return fitList(answer, 'files', call.budget);
}

// ── search_code ─────────────────────────────────────────────────────────────────────────────

const codeHitSchema = z.object({
  name: z.string(),
  path: z.string(),
  sha: z.string(),
  repository: z.string(),
  html_url: z.string(),
});

export const searchCodeSchema = searchSchema('items', codeHitSchema);

export async function searchCode(gh: GitHub, call: Call, args: SearchArgs) {
  const { data, headers } = await gh.client.call(
    'the code search',
    () => gh.client.rest.search.code({ ...searchParams(args), request: gh.client.requestOptions(call) }),
    'code_search',
  );
  const items = data.items.map((item) => ({
    name: item.name,
    path: item.path,
    sha: item.sha,
    repository: item.repository.full_name,
    html_url: item.html_url,
  }));
  return listAnswer('items', items, headers.link, args, call.budget, {
    total_count: data.total_count,
    incomplete_results: data.incomplete_results,
  });
}

// ── list_branches, list_tags, list_releases ─────────────────────────────────────────────────

const branchSchema = z.object({ name: z.string(), sha: z.string(), protected: z.boolean() });
export const listBranchesSchema = listSchema('branches', branchSchema);

export async function listBranches(
  gh: GitHub,
  call: Call,
  args: RepoRef & Paging & { protected?: boolean | undefined },
) {
  const { owner, repo, page, per_page } = args;
  const { data, headers } = await gh.client.call(`the branches of ${what(args)}`, () =>
    gh.client.rest.repos.listBranches({
      owner,
      repo,
      protected: args.protected,
      page,
      per_page,
      request: gh.client.requestOptions(call),
    }),
  );
  const branches = data.map((branch) => ({ name: branch.name, sha: branch.commit.sha, protected: branch.protected }));
  return listAnswer('branches', branches, headers.link, args, call.budget);
}

const tagSchema = z.object({ name: z.string(), sha: z.string() });
export const listTagsSchema = listSchema('tags', tagSchema);

export async function listTags(gh: GitHub, call: Call, args: RepoRef & Paging) {
  const { owner, repo, page, per_page } = args;
  const { data, headers } = await gh.client.call(`the tags of ${what(args)}`, () =>
    gh.client.rest.repos.listTags({ owner, repo, page, per_page, request: gh.client.requestOptions(call) }),
  );
  const tags = data.map((tag) => ({ name: tag.name, sha: tag.commit.sha }));
  return listAnswer('tags', tags, headers.link, args, call.budget);
}

const releaseSchema = z.object({
  id: z.number(),
  tag_name: z.string(),
  name: z.string().nullable(),
  draft: z.boolean(),
  prerelease: z.boolean(),
  author: z.string().nullable(),
  created_at: z.string(),
  published_at: z.string().nullable(),
  html_url: z.string(),
  body: z.string().nullable(),
  truncated: z.boolean(),
});
export const listReleasesSchema = listSchema('releases', releaseSchema);

export async function listReleases(gh: GitHub, call: Call, args: RepoRef & Paging) {
  const { owner, repo, page, per_page } = args;
  const { data, headers } = await gh.client.call(`the releases of ${what(args)}`, () =>
    gh.client.rest.repos.listReleases({ owner, repo, page, per_page, request: gh.client.requestOptions(call) }),
  );
  const releases = data.map((release) => {
    const body = capText(release.body, gh.limits.bodyChars);
    return {
      id: release.id,
      tag_name: release.tag_name,
      name: release.name,
      draft: release.draft,
      prerelease: release.prerelease,
      author: release.author?.login ?? null,
      created_at: release.created_at,
      published_at: release.published_at,
      html_url: release.html_url,
      body: body.text,
      truncated: body.truncated,
    };
  });
  return listAnswer('releases', releases, headers.link, args, call.budget);
}
