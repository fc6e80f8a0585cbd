import { z } from 'zod';

import type { Call, GitHub } from './context.js';
import { parseScopes } from './scopes.js';

export const meSchema = z.object({
  login: z.string(),
  id: z.number(),
  type: z.string().describe('User, Bot or Organization'),
  name: z.string().nullable(),
  html_url: z.string(),
  scopes: z
    .array(z.string())
    .nullable()
    .describe(
      "The classic token's scopes (x-oauth-scopes); null for fine-grained and app tokens, whose permissions GitHub does not list",
    ),
  rate_limit: z.record(
    z.string(),
    z.object({ limit: z.number(), remaining: z.number(), used: z.number(), resets_at: z.string() }),
  ),
});
export type MeOut = z.infer<typeof meSchema>;

/** GET /user: who the token belongs to, and what it may do. */
export async function getMe(gh: GitHub, call: Call): Promise<MeOut> {
  const { data, headers } = await gh.client.call('the authenticated user', () =>
    gh.client.rest.users.getAuthenticated({ request: gh.client.requestOptions(call) }),
  );
  const scopesHeader = headers['x-oauth-scopes'];
  return {
    login: data.login,
    id: data.id,
    type: data.type,
    name: data.name ?? null,
    html_url: data.html_url,
    scopes: scopesHeader === undefined ? null : parseScopes(String(scopesHeader)),
    rate_limit: gh.client.quota.snapshot(),
  };
}
