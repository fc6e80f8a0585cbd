import { z } from 'zod';

import { createIssue as create, writtenIssueSchema } from '../issues.js';
import { defineGitHubTool } from './define.js';
import {
  bodySchema,
  callOf,
  CREATE_ANNOTATIONS,
  labelSchema,
  loginSchema,
  ownerSchema,
  repoSchema,
  titleSchema,
} from './schemas.js';

export const createIssue = defineGitHubTool({
  name: 'create_issue',
  title: 'Create an issue',
  toolset: 'issues',
  description:
    'Opens a new issue. Labels and assignees need push access to the repository (GitHub drops them silently ' +
    'otherwise). Returns the number and URL. Not retried on a server error: check before calling again.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    title: titleSchema.describe('The title, at most 256 characters'),
    body: bodySchema.optional(),
    labels: z.array(labelSchema).max(100).optional(),
    assignees: z.array(loginSchema).max(10).optional().describe('Logins, at most 10'),
  }),
  output: writtenIssueSchema,
  annotations: CREATE_ANNOTATIONS,
  handler: async (input, ctx) => create(ctx.deps.github, callOf(ctx), input),
});
