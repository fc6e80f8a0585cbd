import { toolDefiner, type Toolsets } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { GitHub } from '../context.js';

export interface Deps {
  github: GitHub;
}

export const toolsets = {
  context: { description: 'Who the token belongs to: its user, scopes and rate limit', default: true },
  repos: {
    description: 'Repositories: search, metadata, file contents, commits, branches, tags, releases, code search',
    default: true,
  },
  issues: {
    description: 'Issues: list, read with comments, search; create, comment on and update them',
    default: true,
  },
  pull_requests: {
    description: 'Pull requests: list, read with changed files and review state, the diff; open one',
    default: true,
  },
  actions: { description: 'GitHub Actions: workflow runs, their jobs, and the logs of (failed) jobs', default: false },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const defineGitHubTool = toolDefiner<Config, Deps, Toolset>();
