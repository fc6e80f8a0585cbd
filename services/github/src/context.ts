import type { CallScope, GitHubClient } from './github-client.js';
import type { Lockdown } from './lockdown.js';

/** The server limits every operation applies (from the settings). */
export interface Limits {
  /** GITHUB_MAX_BODY_CHARS: one body, comment, review or commit message. */
  bodyChars: number;
  /** GITHUB_MAX_PATCH_CHARS: one file's patch or diff section. */
  patchChars: number;
  /** GITHUB_MAX_FILE_BYTES: one file's content. */
  fileBytes: number;
  /** GITHUB_MAX_RESPONSE_BYTES: bytes read from one GitHub answer. */
  responseBytes: number;
}

/** What every GitHub operation works with: the process's client, lockdown and limits. */
export interface GitHub {
  client: GitHubClient;
  lockdown: Lockdown;
  limits: Limits;
}

/** One tool call: its signal and deadline, and its answer's byte budget (MCP_MAX_RESULT_BYTES). */
export interface Call extends CallScope {
  budget: number;
}

/** A repository as the tools name it. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** `?page=&per_page=` of a list. */
export interface Paging {
  page: number;
  per_page: number;
}
