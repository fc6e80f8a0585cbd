import { z } from 'zod';

import { searchCode as search, searchCodeSchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import { callOf, pageSchema, perPageSchema, querySchema, READ_ANNOTATIONS } from './schemas.js';

export const searchCode = defineGitHubTool({
  name: 'search_code',
  title: 'Search code',
  toolset: 'repos',
  description:
    "Searches code with GitHub's code search syntax (`addClass repo:jquery/jquery`, `filename:Dockerfile org:octo`, " +
    '`language:go`). Returns the matching files (repository, path, blob sha); read them with get_file_contents. Paged.',
  input: z.object({ query: querySchema, page: pageSchema, per_page: perPageSchema }),
  output: searchCodeSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => search(ctx.deps.github, callOf(ctx), input),
});
