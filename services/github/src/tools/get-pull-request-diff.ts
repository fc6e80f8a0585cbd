import { z } from 'zod';

import { getPullRequestDiff as get, getPullRequestDiffSchema } from '../pulls.js';
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

export const getPullRequestDiff = defineGitHubTool({
  name: 'get_pull_request_diff',
  title: 'Get the diff of a pull request',
  toolset: 'pull_requests',
  description:
    'Returns the unified diff of a pull request, paged by file: page N holds files (N-1)*per_page+1 to ' +
    "N*per_page, each file's part cut at GITHUB_MAX_PATCH_CHARS. When has_more, call again with next_page.",
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    number: numberSchema,
    page: pageSchema,
    per_page: perPageSchema.describe('Files per page (1-100)'),
  }),
  output: getPullRequestDiffSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => get(ctx.deps.github, callOf(ctx), input),
});
