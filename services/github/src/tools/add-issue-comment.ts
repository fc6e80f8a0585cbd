import { z } from 'zod';

import { addIssueComment as add, writtenCommentSchema } from '../issues.js';
import { defineGitHubTool } from './define.js';
import { bodySchema, callOf, CREATE_ANNOTATIONS, numberSchema, ownerSchema, repoSchema } from './schemas.js';

export const addIssueComment = defineGitHubTool({
  name: 'add_issue_comment',
  title: 'Comment on an issue or pull request',
  toolset: 'issues',
  description:
    'Adds a comment to an issue or pull request (pull requests take issue comments too). Returns its id and URL. ' +
    'Not retried on a server error: check before calling again.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    number: numberSchema,
    body: bodySchema.refine((value) => value.trim().length > 0, 'must not be empty'),
  }),
  output: writtenCommentSchema,
  annotations: CREATE_ANNOTATIONS,
  handler: async (input, ctx) => add(ctx.deps.github, callOf(ctx), input),
});
