/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings:
 * path traversal in every encoding for owner, repo, path and ref, search qualifiers, NUL, long
 * text; and ill-shaped), sent through a real MCP client to the service run as a real process in
 * read-only mode against the GitHub stand-in its tests use. No request other than GET may reach
 * the stand-in, no request may leave the API's own paths (a traversal reaching another route shows
 * as a path outside /repos, /search, /user, /rate_limit, /users, /orgs), the process stays alive and
 * /health 200. FUZZ_RUNS / FUZZ_SEED: see the README's Testing section.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fuzzService, fuzzSettings, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, describe, it } from 'vitest';

import { startGitHubStandIn } from './helpers/github-stand-in.js';
import { TOKEN } from './helpers/harness.js';

const FILE = 'services/github/test/tools.fuzz.test.ts';
const settings = fuzzSettings(4);
const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

const hints = {
  known: {
    owner: ['octo-org', 'octo-bot', 'mallory'],
    repo: ['hello', 'secret', 'empty'],
    path: ['README.md', 'src', '', '../../../user', 'src/../../..'],
    ref: ['main', 'feature/x', '../../user'],
    sha: ['main'],
    number: [1, 2, 3],
    query: ['repo:octo-org/hello bug', 'user:octo-bot', 'is:issue is:open'],
  },
};

describe('github tools under fuzzing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-github-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('read-only: every tool answers in time, the process stays healthy, and only GETs of API paths reach GitHub', async () => {
    const standIn = await startGitHubStandIn({ token: TOKEN });
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const proc = await startServiceProcess(ENTRY, {
      env: {
        GITHUB_TOKEN_FILE: file,
        GITHUB_API_URL: standIn.url,
        MCP_READ_ONLY: 'true',
        MCP_RATE_LIMIT: '0',
        MCP_TOOL_TIMEOUT_MS: '10000',
      },
    });
    const API_ROOTS = new Set(['repos', 'search', 'user', 'users', 'orgs', 'rate_limit']);
    try {
      const { summary } = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        dump: async () => ({
          writes: standIn.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.rawPath}`),
          elsewhere: standIn.requests.filter((r) => !API_ROOTS.has(r.segments[0] ?? '')).map((r) => r.rawPath),
          logs: standIn.logRequests.filter((r) => r.method !== 'GET').length,
        }),
      });
      console.info(`github read-only: ${summary}`);
    } finally {
      await proc.stop('SIGKILL');
      await standIn.close();
    }
  }, 180_000);
});
