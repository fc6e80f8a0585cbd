import { z } from 'zod';

import { listBranches as list, listBranchesSchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import { callOf, ownerSchema, pageSchema, perPageSchema, READ_ANNOTATIONS, repoSchema } from './schemas.js';

export const listBranches = defineGitHubTool({
  name: 'list_branches',
  title: 'List branches',
  toolset: 'repos',
  description: 'Lists the branches of a repository with their head commit and whether they are protected. Paged.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    protected: z.boolean().optional().describe('true: only protected branches; false: only unprotected ones'),
    page: pageSchema,
    per_page: perPageSchema,
  }),
  output: listBranchesSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => list(ctx.deps.github, callOf(ctx), input),
});
