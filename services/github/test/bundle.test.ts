/**
 * The bundle the image runs (dist/main.bundle.js, scripts/bundle-service.mjs) as its own process with
 * plain node, against the GitHub stand-in: the same tools as the sources (the reviewed tools/list),
 * a call that reaches GitHub through Octokit, and that request traced as an undici span under the
 * tool's span (undici reports through diagnostics_channel, which a bundle does not change).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import {
  builtEntry,
  listedTools,
  okToolSpanAttributes,
  onlySpan,
  rpc,
  rpcTraceSpans,
  SPAN_KIND,
  startTracedServiceProcess,
  toolAttributesWithoutDuration,
  toolsListOf,
  type TracedServiceProcess,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { type StandIn, startGitHubStandIn } from './helpers/github-stand-in.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const READY_MS = 60_000;
const TOKEN = `ghp_bundle${randomBytes(6).toString('hex')}`;
const FILE_TEXT = 'read by the bundle\n';

describe('the github service bundle (what the image runs)', () => {
  let standIn: StandIn;
  let proc: TracedServiceProcess;

  beforeAll(async () => {
    standIn = await startGitHubStandIn({ token: TOKEN });
    standIn.world.repos.get('octo-org/hello')!.files.set('bundle.md', { kind: 'file', bytes: Buffer.from(FILE_TEXT) });
    standIn.world.repos
      .get('octo-org/hello')!
      .files.set('logo.png', { kind: 'file', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]) });
    proc = await startTracedServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: standIn.url, MCP_TOOLSETS: 'all' },
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    await standIn?.close();
  });

  it('serves the reviewed tools/list over /mcp', async () => {
    expect(await listedTools(proc.url)).toEqual(toolsListOf(service, { GITHUB_TOKEN: 'unused' }));
  });

  it('reads a file from GitHub through Octokit, traced as an undici span under the tool span', async () => {
    const traceId = randomBytes(16).toString('hex');
    const before = standIn.requests.length;
    const { body } = await rpc(
      proc.url,
      'tools/call',
      { name: 'get_file_contents', arguments: { owner: 'octo-org', repo: 'hello', path: 'bundle.md' } },
      { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } },
    );
    expect(body).toMatchObject({
      result: { structuredContent: { type: 'file', path: 'bundle.md', content: FILE_TEXT } },
    });
    expect(standIn.requests.slice(before).map((request) => [request.method, request.rawPath])).toEqual([
      ['GET', '/repos/octo-org/hello/contents/bundle.md'],
    ]);
    const trace = await rpcTraceSpans(proc.receiver, traceId);
    const tool = onlySpan(trace, (span) => span.name === 'tools/call get_file_contents', 'tool span');
    expect(toolAttributesWithoutDuration(tool)).toEqual(
      okToolSpanAttributes({ service: 'github', tool: 'get_file_contents', transport: 'rpc' }),
    );
    const request = onlySpan(trace, (span) => span.scope === '@opentelemetry/instrumentation-undici', 'undici span');
    expect(request).toMatchObject({ name: 'GET', kind: SPAN_KIND.CLIENT, parentSpanId: tool.spanId });
  });

  it('names a binary file by its media type (mime-types, loaded on this first use)', async () => {
    const { body } = await rpc(proc.url, 'tools/call', {
      name: 'get_file_contents',
      arguments: { owner: 'octo-org', repo: 'hello', path: 'logo.png' },
    });
    expect(body).toMatchObject({
      result: { structuredContent: { type: 'file', path: 'logo.png', binary: true, media_type: 'image/png' } },
    });
  });
});
