import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { httpRequest, rpc, startServiceProcess } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startGitHubStandIn } from './helpers/github-stand-in.js';
import { call, connectClient, type Harness, startHarness, TOKEN } from './helpers/harness.js';

/** The token and pieces of it that would give it away. */
const SECRETS = [TOKEN, TOKEN.slice(4), TOKEN.slice(-20), Buffer.from(TOKEN).toString('base64')];

function expectNoToken(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} holds the token`).toBe(false);
}

const REPO = { owner: 'octo-org', repo: 'hello' };

/** Successful calls of every tool, then every kind of failure. */
const CALLS: [string, Record<string, unknown>][] = [
  ['get_me', {}],
  ['search_repositories', { query: 'hello' }],
  ['get_repository', REPO],
  ['get_file_contents', { ...REPO, path: 'README.md' }],
  ['get_file_contents', { ...REPO, path: 'data/big.txt' }],
  ['list_commits', REPO],
  ['get_commit', { ...REPO, sha: 'main' }],
  ['search_code', { query: 'hello' }],
  ['list_branches', REPO],
  ['list_tags', REPO],
  ['list_releases', REPO],
  ['list_issues', REPO],
  ['get_issue', { ...REPO, number: 1 }],
  ['search_issues', { query: 'crash' }],
  ['create_issue', { ...REPO, title: 'x' }],
  ['add_issue_comment', { ...REPO, number: 1, body: 'x' }],
  ['update_issue', { ...REPO, number: 1, title: 'y' }],
  ['list_pull_requests', REPO],
  ['get_pull_request', { ...REPO, number: 3 }],
  ['get_pull_request_diff', { ...REPO, number: 3 }],
  ['create_pull_request', { ...REPO, title: 't', head: 'topic-2', base: 'main' }],
  ['list_workflow_runs', REPO],
  ['get_workflow_run', { ...REPO, run_id: 3001 }],
  ['get_job_logs', { ...REPO, job_id: 4002 }],
  ['get_repository', { owner: 'octo-org', repo: 'nope' }],
  ['create_issue', { ...REPO, title: 'x', assignees: ['nobody'] }],
];

describe('the token never appears in a log line, an answer, /health, / or /metrics', () => {
  let h: Harness;
  let client: Client;
  const answers: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ MCP_DEBUG: 'true', MCP_TOOL_TIMEOUT_MS: '8000', GITHUB_LOCKDOWN: 'true' });
    client = await connectClient(h.svc.url, 'sse');
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  it(
    'through successes and every kind of failure, with everything logged (trace) and MCP_DEBUG on',
    { timeout: 90_000 },
    async () => {
      for (const [name, args] of CALLS) answers.push((await call(client, name, args)).text);
      // A 403 naming scopes, a deprecation warning Octokit logs, a 502 (warned with its cause), a dropped
      // connection, a rate limit, a request that never ends (timeout), an answer too large.
      h.standIn.setScopes('read:user');
      h.standIn.respond(
        {
          path: /^\/repos\/octo-org\/hello$/,
          status: 403,
          body: { message: 'Resource not accessible by integration' },
        },
        {
          path: /^\/repos\/octo-org\/hello$/,
          addHeaders: true,
          status: 200,
          headers: { deprecation: 'true', sunset: 'soon' },
        },
        { path: /^\/repos\/octo-org\/hello\/branches$/, status: 502, times: 3, body: { message: 'Server Error' } },
        { path: /^\/repos\/octo-org\/hello\/tags$/, reset: true, times: 3 },
        {
          path: /^\/repos\/octo-org\/hello\/releases$/,
          status: 403,
          headers: { 'retry-after': '300' },
          body: { message: 'You have exceeded a secondary rate limit.' },
        },
        { path: /^\/repos\/octo-org\/hello\/pulls$/, hang: true },
        { path: /^\/repos\/octo-org\/hello\/commits$/, status: 200, body: { big: 'x'.repeat(34 * 1024 * 1024) } },
      );
      for (const name of [
        'get_repository',
        'get_repository',
        'list_branches',
        'list_tags',
        'list_releases',
        'list_pull_requests',
        'list_commits',
      ]) {
        answers.push((await call(client, name, REPO)).text);
      }
      expect(answers.filter((text) => text.startsWith('GitHub failed on the branches')).length).toBe(1);
      expect(answers.some((text) => text.startsWith('Cannot reach GitHub at 127.0.0.1:'))).toBe(true);
      expect(answers.some((text) => text === 'list_pull_requests timed out after 8000 ms')).toBe(true);
      for (const text of answers) expectNoToken('a tool answer', text);
    },
  );

  it('in no log line (and the capture saw the calls, their failures and Octokit)', () => {
    expect(h.logs.length).toBeGreaterThan(50);
    const joined = h.logs.join('\n');
    expect(joined).toContain('"tool":"get_job_logs"');
    expect(joined).toContain('"msg":"backend failure"');
    expect(joined).toContain('is deprecated');
    expectNoToken('the service log', joined);
  });

  it('in no HTTP answer of the service', async () => {
    for (const path of ['/health', '/metrics', '/']) {
      const response = await httpRequest(`${h.svc.url}${path}`);
      expect(response.status, path).toBeLessThan(600);
      expectNoToken(path, `${JSON.stringify(response.headers)}\n${response.text}`);
    }
    const listed = await rpc(h.svc.url, 'tools/list');
    expectNoToken('tools/list', JSON.stringify(listed.body));
  });
});

describe('a real service process, token from GITHUB_TOKEN_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-github-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never writes the token to stdout or stderr, from start-up to shutdown', async () => {
    const standIn = await startGitHubStandIn({ token: TOKEN });
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const service = await startServiceProcess(new URL('../src/main.ts', import.meta.url).pathname, {
      env: { GITHUB_TOKEN_FILE: file, GITHUB_API_URL: standIn.url, LOG_LEVEL: 'trace', MCP_DEBUG: 'true' },
    });
    try {
      const me = await rpc(service.url, 'tools/call', { name: 'get_me', arguments: {} });
      expect(me.body).toMatchObject({ result: { structuredContent: { login: 'octo-bot' } } });
      const missing = await rpc(service.url, 'tools/call', {
        name: 'get_repository',
        arguments: { owner: 'x', repo: 'y' },
      });
      expect(missing.body).toMatchObject({ result: { isError: true } });
      expect(standIn.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    } finally {
      await service.stop();
      await standIn.close();
    }
    expect(service.output()).toContain('"msg":"github client ready (connects on first use)"');
    expect(service.output()).toContain('"tokenFrom":"GITHUB_TOKEN_FILE"');
    expectNoToken('the process output', service.output());
  });
});
