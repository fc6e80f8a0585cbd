import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BIG_FILE } from './helpers/github-world.js';
import { call, connectClient, type Harness, ok, startHarness } from './helpers/harness.js';

const BUDGET = 16 * 1024;
const REPO = { owner: 'octo-org', repo: 'hello' };

describe('answers fit MCP_MAX_RESULT_BYTES, and text is cut at the GITHUB_MAX_* limits', () => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness({ MCP_MAX_RESULT_BYTES: String(BUDGET) });
    client = await connectClient(h.svc.url, 'streamable-http');
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  /** A call whose answer must fit the budget, cut and marked so. */
  async function fits(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await call(client, name, args);
    expect(result.isError, result.text.slice(0, 300)).toBe(false);
    expect(result.text.length).toBeLessThanOrEqual(BUDGET);
    expect(result.structured['truncated']).toBe(true);
    return result.structured;
  }

  it('lists keep their leading items and say how many were left out', async () => {
    const issues = await fits('list_issues', { ...REPO, state: 'all', per_page: 100 });
    const kept = (issues['issues'] as { number: number }[]).length;
    expect(kept + (issues['omitted'] as number)).toBe(40);
    // Newest first: #40 … #5 fit, #4 would not have.
    expect((issues['issues'] as { number: number }[]).at(-1)?.number).toBe(5);
    expect(issues['omitted']).toBe(4);
    const commit = await fits('get_commit', { ...REPO, sha: 'main', per_page: 5 });
    expect((commit['files'] as unknown[]).length + (commit['omitted'] as number)).toBe(5);
  });

  it('a file is cut to fit, from its start', async () => {
    const file = await fits('get_file_contents', { ...REPO, path: 'data/big.txt' });
    expect(BIG_FILE.startsWith(file['content'] as string)).toBe(true);
  });

  it('a log keeps its last lines (where a failure says why)', async () => {
    const logs = await fits('get_job_logs', { ...REPO, job_id: 4002, tail: 5000 });
    expect((logs['log'] as string).endsWith('##[error]Process completed with exit code 1.')).toBe(true);
    expect(logs['lines']).toBeLessThan(3001);
    expect(logs['total_lines']).toBe(3001);
  });

  it('a diff page keeps its first files', async () => {
    const diff = await fits('get_pull_request_diff', { ...REPO, number: 3, per_page: 7 });
    // The second file's section alone (20000 characters, GITHUB_MAX_PATCH_CHARS) is over the budget.
    expect(diff['files']).toMatchObject([{ filename: 'src/feature-1.ts', truncated: false }]);
    expect(diff['omitted']).toBe(6);
  });
});

describe('GITHUB_MAX_BODY_CHARS, GITHUB_MAX_PATCH_CHARS and GITHUB_MAX_FILE_BYTES', () => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness({
      GITHUB_MAX_BODY_CHARS: '100',
      GITHUB_MAX_PATCH_CHARS: '100',
      GITHUB_MAX_FILE_BYTES: '1024',
    });
    client = await connectClient(h.svc.url, 'streamable-http');
  });

  afterAll(async () => {
    await client.close();
    await h.close();
  });

  it('cut what they name, and say so', async () => {
    const issue = await ok(client, 'get_issue', { ...REPO, number: 2 });
    expect(issue['issue']).toMatchObject({ truncated: true });
    expect((issue['issue'] as { body: string }).body.length).toBe(100);
    const commit = await ok(client, 'get_commit', { ...REPO, sha: 'main', per_page: 1 });
    expect(commit['files']).toMatchObject([{ truncated: true }]);
    expect((commit['files'] as { patch: string }[])[0]!.patch.length).toBe(100);
    expect((commit['message'] as string).length).toBe(100);
    const diff = await ok(client, 'get_pull_request_diff', { ...REPO, number: 3, per_page: 1 });
    expect((diff['files'] as { diff: string }[])[0]!.diff.length).toBe(100);
    const file = await ok(client, 'get_file_contents', { ...REPO, path: 'data/big.txt' });
    expect(file).toMatchObject({ content: BIG_FILE.slice(0, 1024), truncated: true });
    const readme = await ok(client, 'get_file_contents', { ...REPO, path: 'README.md' });
    expect(readme['truncated']).toBe(false);
  });
});
