import { z } from 'zod';

import { createdPullSchema, createPullRequest as create } from '../pulls.js';
import { defineGitHubTool } from './define.js';
import {
  bodySchema,
  callOf,
  CREATE_ANNOTATIONS,
  headSchema,
  ownerSchema,
  refSchema,
  repoSchema,
  titleSchema,
} from './schemas.js';

export const createPullRequest = defineGitHubTool({
  name: 'create_pull_request',
  title: 'Open a pull request',
  toolset: 'pull_requests',
  description:
    'Opens a pull request from `head` (a branch here, or "user:branch" in a fork) into `base`. Both branches must ' +
    'exist and differ. Returns the number and URL. Not retried on a server error: check before calling again.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    title: titleSchema,
    head: headSchema.describe('The branch with the changes: "branch", or "user:branch" for a fork'),
    base: refSchema.describe('The branch to merge into, e.g. "main"'),
    body: bodySchema.optional(),
    draft: z.boolean().optional(),
    maintainer_can_modify: z.boolean().optional().describe('Let maintainers push to the head branch (forks)'),
  }),
  output: createdPullSchema,
  annotations: CREATE_ANNOTATIONS,
  handler: async (input, ctx) => create(ctx.deps.github, callOf(ctx), input),
});
