/**
 * Checks GITHUB_API_URL: an absolute http(s) URL without credentials, query or fragment. Returns
 * the problem, or undefined when it is fine. (Octokit appends `/repos/...` to it as is.)
 */
export function checkApiUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://api.github.com or https://github.example.com/api/v3';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (use GITHUB_TOKEN)';
  if (url.search !== '' || url.hash !== '') return 'must not have a query or fragment';
  return undefined;
}

/** The API root without a trailing slash, as Octokit's baseUrl wants it. */
export function normalizeApiUrl(value: string): string {
  return value.replace(/\/+$/, '');
}
