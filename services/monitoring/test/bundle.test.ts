/**
 * The bundle the image runs (dist/main.bundle.js, scripts/bundle-service.mjs; dockerode stays a
 * package, as its ssh2 loads native parts by path) as its own process with plain node: the same
 * tools as the sources (the reviewed tools/list), a container listed through dockerode, and a log
 * search, whose matching worker runs source text taken from a function of the bundle
 * (line-matcher.ts). dockerode is loaded by the first tool call, not at start: /health pings the
 * engine without it (the module probe watches). Needs the Docker engine and busybox-static, as
 * docker-tools.test.ts does.
 */
import { fileURLToPath } from 'node:url';

import {
  builtEntry,
  httpRequest,
  listedTools,
  moduleProbe,
  rpc,
  type ServiceProcess,
  startServiceProcess,
  toolsListOf,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { DockerFixture } from './helpers/docker-fixture.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const READY_MS = 60_000;
const TOOLSETS = { MCP_TOOLSETS: 'all', MONITORING_ALLOW_RESTART: 'true' };
const probe = moduleProbe();
const dockerodeLoaded = () => probe.loaded().filter((line) => /dockerode/.test(line));

describe('the monitoring service bundle (what the image runs)', () => {
  const fixture = new DockerFixture();
  let proc: ServiceProcess;
  let id: string;

  beforeAll(async () => {
    await fixture.build();
    id = await fixture.run('bundle', 'echo one; echo bundled-needle-2; echo three; exec sleep 3600');
    proc = await startServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      // every tool listed, as in the snapshot (restart_container is not called)
      env: { ...TOOLSETS, ...probe.env },
      nodeArgs: probe.nodeArgs,
    });
  }, 300_000);

  afterAll(async () => {
    await proc?.stop();
    await fixture.cleanup();
    probe.remove();
  }, 60_000);

  const call = async (name: string, args: Record<string, unknown>) =>
    (await rpc(proc.url, 'tools/call', { name, arguments: args })).body as {
      result: { isError?: boolean; structuredContent: Record<string, unknown> };
    };

  it('serves the reviewed tools/list over /mcp', async () => {
    expect(await listedTools(proc.url)).toEqual(toolsListOf(service, TOOLSETS));
  });

  it('answers /health from the engine without loading dockerode', async () => {
    const health = await httpRequest(`${proc.url}/health`);
    expect(health.json).toMatchObject({ status: 'healthy', checks: { docker: { status: 'ok' } } });
    // The probe saw the bundle's own modules load, so [] below means something.
    expect(probe.loaded().some((line) => line.includes('main.bundle.js'))).toBe(true);
    expect(dockerodeLoaded()).toEqual([]);
  });

  it('lists the container through dockerode and searches its logs in the matching worker', async () => {
    const listed = await call('list_containers', {});
    expect(listed.result.isError).toBeUndefined();
    const containers = listed.result.structuredContent['containers'] as { id: string; name: string }[];
    expect(containers.find((container) => id.startsWith(container.id))?.name).toBe(fixture.name('bundle'));
    expect(dockerodeLoaded().length).toBeGreaterThan(0);
    // the container writes its three lines at once; poll until the engine has them
    let found: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const search = await call('search_logs', { query: '^bundled-needle-\\d$', containers: [fixture.name('bundle')] });
      expect(search.result.isError).toBeUndefined();
      found = search.result.structuredContent;
      if (found['match_count'] === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(found).toMatchObject({
      backend: 'engine',
      match_count: 1,
      truncated: false,
      matches: [{ container: fixture.name('bundle'), stream: 'stdout', line: 'bundled-needle-2' }],
    });
  });
});
