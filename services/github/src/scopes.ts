/**
 * OAuth scopes of classic tokens, and the scopes each one grants besides itself
 * (docs.github.com: "Scopes for OAuth apps"). Used to say which scope a refused call lacks.
 */
const IMPLIED: Readonly<Record<string, readonly string[]>> = {
  repo: ['repo:status', 'repo_deployment', 'public_repo', 'repo:invite', 'security_events'],
  'admin:org': ['write:org', 'read:org', 'manage_runners:org'],
  'write:org': ['read:org'],
  'admin:public_key': ['write:public_key', 'read:public_key'],
  'write:public_key': ['read:public_key'],
  'admin:repo_hook': ['write:repo_hook', 'read:repo_hook'],
  'write:repo_hook': ['read:repo_hook'],
  'admin:gpg_key': ['write:gpg_key', 'read:gpg_key'],
  'write:gpg_key': ['read:gpg_key'],
  user: ['read:user', 'user:email', 'user:follow'],
  'write:packages': ['read:packages'],
  'admin:enterprise': ['manage_runners:enterprise', 'manage_billing:enterprise', 'read:enterprise'],
  project: ['read:project'],
};

/** A comma-separated scope header as a list (`x-oauth-scopes: repo, read:org`). */
export function parseScopes(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope.length > 0);
}

/** Every scope a token with `granted` has, implied ones included. */
export function effectiveScopes(granted: readonly string[]): Set<string> {
  const all = new Set<string>();
  for (const scope of granted) {
    all.add(scope);
    for (const implied of IMPLIED[scope] ?? []) all.add(implied);
  }
  return all;
}

/**
 * What a classic token lacks for an endpoint: the accepted scopes (any one suffices), when the token
 * has none of them; undefined when it has one, or when the headers say nothing (fine-grained tokens
 * and app tokens carry no `x-oauth-scopes`).
 */
export function missingScopes(accepted: string | undefined, granted: string | undefined): string[] | undefined {
  const wanted = parseScopes(accepted);
  if (wanted.length === 0 || granted === undefined) return undefined;
  const has = effectiveScopes(parseScopes(granted));
  return wanted.some((scope) => has.has(scope)) ? undefined : wanted;
}
