import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectClient, httpRequest, rpc, type StartedService, startService } from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

describe('/health and /metrics', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService);
  });
  afterAll(async () => svc.close());

  it('reports status, service, version, uptime, tools_count and each dependency', async () => {
    const res = await httpRequest(`${svc.url}/health`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      status: 'healthy',
      service: 'echo',
      version: '1.2.3',
      tools_count: 4,
      checks: { backend: { status: 'ok' } },
    });
    expect(typeof (res.json as { uptime: number }).uptime).toBe('number');
  });

  it('counts tool calls by tool and outcome, durations and open sessions', async () => {
    await rpc(svc.url, 'tools/call', { name: 'echo', arguments: { message: 'm' } });
    await rpc(svc.url, 'tools/call', { name: 'fail', arguments: { kind: 'service' } });
    await rpc(svc.url, 'tools/call', { name: 'echo', arguments: {} });
    const client = await connectClient(svc.url, 'streamable-http');
    const res = await httpRequest(`${svc.url}/metrics`);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toContain('mcp_tool_calls_total{tool="echo",outcome="ok",service="echo"} 1');
    expect(res.text).toContain('mcp_tool_calls_total{tool="fail",outcome="error",service="echo"} 1');
    expect(res.text).toContain('mcp_tool_calls_total{tool="echo",outcome="invalid",service="echo"} 1');
    expect(res.text).toMatch(/mcp_tool_call_duration_seconds_count\{service="echo",tool="echo"\} 2/);
    expect(res.text).toContain('mcp_open_sessions{transport="streamable-http",service="echo"} 1');
    await client.close();
  });
});

describe('/health with a dependency down', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { ECHO_HEALTHY: 'false' } });
  });
  afterAll(async () => svc.close());

  it('answers 503 and names the failing check', async () => {
    const res = await httpRequest(`${svc.url}/health`);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({
      status: 'unhealthy',
      checks: { backend: { status: 'down', error: 'backend unreachable' } },
    });
  });
});
