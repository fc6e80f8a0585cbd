import { z } from 'zod';

import { getCommit as get, getCommitSchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import { callOf, ownerSchema, pageSchema, perPageSchema, READ_ANNOTATIONS, refSchema, repoSchema } from './schemas.js';

export const getCommit = defineGitHubTool({
  name: 'get_commit',
  title: 'Get a commit',
  toolset: 'repos',
  description:
    'Returns one commit: message, author, committer, parents, stats, and its changed files with their patches ' +
    '(each cut at GITHUB_MAX_PATCH_CHARS). Files are paged (`page`, `per_page`).',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    sha: refSchema.describe('Commit SHA, or a branch or tag name for its head commit'),
    page: pageSchema,
    per_page: perPageSchema,
  }),
  output: getCommitSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => get(ctx.deps.github, callOf(ctx), input),
});
