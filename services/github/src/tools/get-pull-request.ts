import { z } from 'zod';

import { getPullRequest as get, getPullRequestSchema } from '../pulls.js';
import { defineGitHubTool } from './define.js';
import {
  callOf,
  numberSchema,
  ownerSchema,
  pageSchema,
  perPageSchema,
  READ_ANNOTATIONS,
  repoSchema,
} from './schemas.js';

export const getPullRequest = defineGitHubTool({
  name: 'get_pull_request',
  title: 'Get a pull request',
  toolset: 'pull_requests',
  description:
    'Returns one pull request: title, body, branches, merge state, size; its review state (who approved, who ' +
    'asked for changes, who is still requested) and reviews; and a page of its changed files with patches ' +
    '(`page`/`per_page` page the files; patches cut at GITHUB_MAX_PATCH_CHARS).',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    number: numberSchema,
    page: pageSchema.describe('Page of changed files, from 1'),
    per_page: perPageSchema.describe('Files per page (1-100)'),
  }),
  output: getPullRequestSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => get(ctx.deps.github, callOf(ctx), input),
});
