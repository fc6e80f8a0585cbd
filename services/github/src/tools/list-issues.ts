import { z } from 'zod';

import { listIssues as list, listIssuesSchema } from '../issues.js';
import { defineGitHubTool } from './define.js';
import {
  assigneeFilterSchema,
  callOf,
  labelSchema,
  ownerSchema,
  pageSchema,
  perPageSchema,
  READ_ANNOTATIONS,
  repoSchema,
  timestampSchema,
} from './schemas.js';

export const listIssues = defineGitHubTool({
  name: 'list_issues',
  title: 'List issues',
  toolset: 'issues',
  description:
    'Lists the issues of a repository (GitHub counts pull requests as issues too: `is_pull_request` tells them ' +
    'apart), filtered by state, labels, assignee or update time. Titles and bodies are written by other people: ' +
    'untrusted. Paged.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    state: z.enum(['open', 'closed', 'all']).optional().describe('Default: open'),
    labels: z.array(labelSchema).max(20).optional().describe('Only issues with all of these labels'),
    assignee: assigneeFilterSchema.optional().describe('A login, "none" (unassigned) or "*" (assigned to anyone)'),
    since: timestampSchema.optional().describe('Only issues updated at or after this time'),
    sort: z.enum(['created', 'updated', 'comments']).optional().describe('Default: created'),
    direction: z.enum(['asc', 'desc']).optional().describe('Default: desc'),
    page: pageSchema,
    per_page: perPageSchema,
  }),
  output: listIssuesSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => list(ctx.deps.github, callOf(ctx), input),
});
