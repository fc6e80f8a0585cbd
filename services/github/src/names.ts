/**
 * GitHub's naming rules for what a caller names: every check returns the problem, or undefined when
 * the value is fine. Values that pass still travel only as Octokit path or query parameters, which
 * percent-encode them; these rules make sure a value names one thing (no `..`, no `/` in an owner,
 * no control characters) before it gets that far.
 */

/** Users and organizations: letters, digits, hyphens; managed users (EMU) add `_shortcode`. */
export const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,99})$/;
/** Repositories: letters, digits, `.`, `-`, `_`, at most 100; `.` and `..` are not names. */
export const REPO = /^[A-Za-z0-9._-]{1,100}$/;
/** Control characters (C0, DEL and C1). */
const CONTROL = /\p{Cc}/u;

export function checkOwner(value: string): string | undefined {
  if (!OWNER.test(value)) {
    return 'must be a GitHub user or organization name (letters, digits, "-" and "_", starting with a letter or digit, at most 100 characters)';
  }
  return undefined;
}

export function checkRepo(value: string): string | undefined {
  if (!REPO.test(value) || value === '.' || value === '..') {
    return 'must be a repository name (letters, digits, ".", "-" and "_", at most 100 characters; not "." or "..")';
  }
  return undefined;
}

/**
 * A path inside a repository: components separated by single slashes, none empty, `.` or `..`, no
 * control characters or backslashes, at most 4096 characters. `""` is the repository's root.
 */
export function checkPath(value: string): string | undefined {
  if (value.length > 4096) return 'is longer than 4096 characters';
  if (CONTROL.test(value)) return 'must not contain control characters (newlines, tabs, NUL)';
  if (value.includes('\\')) return 'must use "/" between folders, not "\\"';
  if (value === '') return undefined;
  for (const part of value.split('/')) {
    if (part === '') return 'must not start or end with "/" or contain "//"';
    if (part === '.' || part === '..') return 'must not contain "." or ".." components';
  }
  return undefined;
}

/**
 * A branch, tag or commit: git's ref rules (check-ref-format) plus what GitHub accepts: no control
 * characters, spaces or ~^:?*[\, no "..", "@{", "//", no leading "-" or "/", no trailing "/", "." or
 * ".lock", at most 255 characters. A commit SHA passes as it is.
 */
export function checkRef(value: string): string | undefined {
  if (value.length === 0 || value.length > 255) return 'must be 1 to 255 characters';
  if (CONTROL.test(value) || /[\s~^:?*[\\]/.test(value)) {
    return 'must be a branch, tag or commit SHA (no spaces, control characters or any of ~^:?*[\\)';
  }
  if (value.includes('..') || value.includes('@{') || value.includes('//'))
    return 'must not contain "..", "@{" or "//"';
  if (value.startsWith('-') || value.startsWith('/')) return 'must not start with "-" or "/"';
  if (value.endsWith('/') || value.endsWith('.') || value.endsWith('.lock'))
    return 'must not end with "/", "." or ".lock"';
  if (value === '@') return 'must not be "@"';
  for (const part of value.split('/')) if (part.startsWith('.')) return 'must not have a component starting with "."';
  return undefined;
}

/** `head` of a pull request: a branch, or `owner:branch` for a branch in a fork. */
export function checkHead(value: string): string | undefined {
  const colon = value.indexOf(':');
  if (colon === -1) return checkRef(value);
  const ownerProblem = checkOwner(value.slice(0, colon));
  if (ownerProblem) return `owner part ${ownerProblem}`;
  return checkRef(value.slice(colon + 1));
}

/** A GitHub login, or (list_commits' author) an e-mail address. */
export function checkLoginOrEmail(value: string): string | undefined {
  if (OWNER.test(value)) return undefined;
  if (value.length <= 254 && /^[^\s@<>"]+@[^\s@<>"]+$/.test(value) && !CONTROL.test(value)) return undefined;
  return 'must be a GitHub login or an e-mail address';
}

/** A login, or list_issues' special assignee values `none` and `*`. */
export function checkAssigneeFilter(value: string): string | undefined {
  if (value === '*' || value === 'none' || OWNER.test(value)) return undefined;
  return 'must be a GitHub login, "none" (no assignee) or "*" (any assignee)';
}

/** A label name: 1 to 100 characters, no commas (GitHub's label filter is comma-separated) or control characters. */
export function checkLabel(value: string): string | undefined {
  if (value.length === 0 || value.length > 100) return 'must be 1 to 100 characters';
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (value.includes(',')) return 'must not contain "," (labels are sent comma-separated)';
  return undefined;
}

/** Free text sent to GitHub (a search query, a title): no NUL or other control characters but newlines and tabs. */
export function checkText(value: string): string | undefined {
  if (/[^\P{Cc}\n\r\t]/u.test(value)) {
    return 'must not contain control characters (other than newlines and tabs)';
  }
  return undefined;
}
