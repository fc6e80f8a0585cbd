import { z } from 'zod';

import { listCommits as list, listCommitsSchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import {
  authorSchema,
  callOf,
  ownerSchema,
  pageSchema,
  pathSchema,
  perPageSchema,
  READ_ANNOTATIONS,
  refSchema,
  repoSchema,
  timestampSchema,
} from './schemas.js';

export const listCommits = defineGitHubTool({
  name: 'list_commits',
  title: 'List commits',
  toolset: 'repos',
  description:
    'Lists the commits of a branch (newest first), optionally only those touching a path, by an author, or ' +
    'within a time range. Messages are cut at GITHUB_MAX_BODY_CHARS. Paged.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    sha: refSchema.optional().describe('Branch, tag or commit to start from (default: the default branch)'),
    path: pathSchema.optional().describe('Only commits touching this file or folder'),
    author: authorSchema.optional().describe('Only commits by this login or e-mail address'),
    since: timestampSchema.optional(),
    until: timestampSchema.optional(),
    page: pageSchema,
    per_page: perPageSchema,
  }),
  output: listCommitsSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => list(ctx.deps.github, callOf(ctx), input),
});
