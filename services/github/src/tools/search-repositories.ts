import { z } from 'zod';

import { searchRepositories as search, searchRepositoriesSchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import { callOf, pageSchema, perPageSchema, querySchema, READ_ANNOTATIONS } from './schemas.js';

export const searchRepositories = defineGitHubTool({
  name: 'search_repositories',
  title: 'Search repositories',
  toolset: 'repos',
  description:
    "Searches repositories with GitHub's search syntax (`topic:mcp language:typescript stars:>50`, " +
    '`org:octo`, `user:me`). Paged: `has_more` and `next_page` say how to read on (GitHub stops at 1000 results).',
  input: z.object({
    query: querySchema,
    sort: z.enum(['stars', 'forks', 'help-wanted-issues', 'updated']).optional().describe('Default: best match'),
    order: z.enum(['asc', 'desc']).optional(),
    page: pageSchema,
    per_page: perPageSchema,
  }),
  output: searchRepositoriesSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => search(ctx.deps.github, callOf(ctx), input),
});
