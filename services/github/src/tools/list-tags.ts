import { z } from 'zod';

import { listTags as list, listTagsSchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import { callOf, ownerSchema, pageSchema, perPageSchema, READ_ANNOTATIONS, repoSchema } from './schemas.js';

export const listTags = defineGitHubTool({
  name: 'list_tags',
  title: 'List tags',
  toolset: 'repos',
  description: 'Lists the tags of a repository with the commit each points to. Paged.',
  input: z.object({ owner: ownerSchema, repo: repoSchema, page: pageSchema, per_page: perPageSchema }),
  output: listTagsSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => list(ctx.deps.github, callOf(ctx), input),
});
