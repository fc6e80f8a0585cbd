import { z } from 'zod';

import { getRepository as get, getRepositorySchema } from '../repos.js';
import { defineGitHubTool } from './define.js';
import { callOf, ownerSchema, READ_ANNOTATIONS, repoSchema } from './schemas.js';

export const getRepository = defineGitHubTool({
  name: 'get_repository',
  title: 'Get a repository',
  toolset: 'repos',
  description:
    "Returns a repository's metadata: description, visibility, default branch, language, topics, stars, forks, " +
    "open issues, license, dates, and the token's permissions on it.",
  input: z.object({ owner: ownerSchema, repo: repoSchema }),
  output: getRepositorySchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => get(ctx.deps.github, callOf(ctx), input),
});
