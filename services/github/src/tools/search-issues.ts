import { z } from 'zod';

import { searchIssues as search, searchIssuesSchema } from '../issues.js';
import { defineGitHubTool } from './define.js';
import { callOf, pageSchema, perPageSchema, querySchema, READ_ANNOTATIONS } from './schemas.js';

export const searchIssues = defineGitHubTool({
  name: 'search_issues',
  title: 'Search issues and pull requests',
  toolset: 'issues',
  description:
    'Searches issues and pull requests across GitHub with its search syntax (`repo:octo/hello is:issue is:open ' +
    'label:bug`, `author:me`, `involves:octocat`). Each item names its `repository`. Paged.',
  input: z.object({
    query: querySchema,
    sort: z.enum(['comments', 'reactions', 'created', 'updated']).optional().describe('Default: best match'),
    order: z.enum(['asc', 'desc']).optional(),
    page: pageSchema,
    per_page: perPageSchema,
  }),
  output: searchIssuesSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => search(ctx.deps.github, callOf(ctx), input),
});
