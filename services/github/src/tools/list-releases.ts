import { z } from 'zod';

import { listReleases as list, listReleasesSchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import { callOf, ownerSchema, pageSchema, perPageSchema, READ_ANNOTATIONS, repoSchema } from './schemas.js';

export const listReleases = defineGitHubTool({
  name: 'list_releases',
  title: 'List releases',
  toolset: 'repos',
  description:
    'Lists the releases of a repository, newest first: tag, name, draft/prerelease, author, dates and release ' +
    'notes (cut at GITHUB_MAX_BODY_CHARS). Paged.',
  input: z.object({ owner: ownerSchema, repo: repoSchema, page: pageSchema, per_page: perPageSchema }),
  output: listReleasesSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => list(ctx.deps.github, callOf(ctx), input),
});
