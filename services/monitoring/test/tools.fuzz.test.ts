/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings:
 * container references with traversal in every encoding, catastrophic regexes, odd time windows;
 * and ill-shaped), sent through a real MCP client to the service run as a real process against
 * the local Docker engine, read-only (MONITORING_ALLOW_RESTART unset), through a proxy that records
 * every request. Only GETs may reach the engine, and only its read endpoints; the process stays
 * alive and /health 200. FUZZ_RUNS / FUZZ_SEED: see the README's Testing section.
 */
import { fuzzService, fuzzSettings, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { docker, REAL_SOCKET, requireEngine } from './helpers/docker-fixture.js';
import { type RecordingProxy, startRecordingProxy } from './helpers/recording-proxy.js';

const FILE = 'services/monitoring/test/tools.fuzz.test.ts';
const settings = fuzzSettings(5);
const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

describe('monitoring tools under fuzzing', () => {
  let proxy: RecordingProxy;
  let containers: string[] = [];
  beforeAll(async () => {
    await requireEngine();
    proxy = await startRecordingProxy(REAL_SOCKET);
    containers = (await docker(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean).slice(0, 3);
  });
  afterAll(() => proxy?.close());

  it('read-only: every tool answers in time, the process stays healthy, and only GETs reach the engine', async () => {
    const proc = await startServiceProcess(ENTRY, {
      env: {
        DOCKER_SOCKET: proxy.socketPath,
        DOCKER_TIMEOUT_MS: '5000',
        MONITORING_REGEX_BUDGET_MS: '500',
        MCP_RATE_LIMIT: '0',
        MCP_TOOL_TIMEOUT_MS: '15000',
      },
    });
    const references = [...containers, 'no-such-container', '../../version', '..%2f..%2finfo', 'a?all=1'];
    const hints = {
      known: {
        container: references,
        containers: [references.slice(0, 2)],
        since: ['10m', '1h', '2024-01-01T00:00:00Z', '0s'],
        until: ['now', '1m', '1970-01-01T00:00:00Z'],
        grep: ['(a+)+$', 'error', '[', '.*.*.*.*.*x'],
      },
    };
    try {
      const { summary } = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        dump: async () => proxy.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`),
      });
      console.info(`monitoring read-only: ${summary}`);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 180_000);
});
