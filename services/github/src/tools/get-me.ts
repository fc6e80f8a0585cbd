import { z } from 'zod';

import { getMe as getMeFrom, meSchema } from '../users.js';
import { defineGitHubTool } from './define.js';
import { callOf, READ_ANNOTATIONS } from './schemas.js';

export const getMe = defineGitHubTool({
  name: 'get_me',
  title: 'Get the authenticated user',
  toolset: 'context',
  description:
    "Returns the GitHub user the server's token belongs to (login, name, type), the token's scopes (classic " +
    'tokens) and the rate-limit quota left. Use it to learn who "me" is before searching or writing.',
  input: z.object({}),
  output: meSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (_input, ctx) => getMeFrom(ctx.deps.github, callOf(ctx)),
});
