/**
 * OpenTelemetry tracing of the fetch service as a process (the core's tracing is tested in depth in
 * services/postgres/test/tracing.test.ts): the page request goes out through undici, and its span
 * is a child of the tool call's span; the URL fetched (the tool's argument) is not exported.
 */
import { randomBytes } from 'node:crypto';

import { type OtlpReceiver, rpc, type ServiceProcess, startOtlpReceiver, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './helpers/servers.js';

const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;
const READY_MS = 90_000;
const SENTINEL = `otelfetchsentinel${randomBytes(6).toString('hex')}`;

describe('fetch traced (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let site: TestServer;
  let receiver: OtlpReceiver;
  let proc: ServiceProcess;

  beforeAll(async () => {
    site = await startServer();
    site.route(`/page-${SENTINEL}`, (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><p>traced page</p></body></html>'),
    );
    receiver = await startOtlpReceiver();
    proc = await startServiceProcess(ENTRY, {
      env: {
        FETCH_ALLOWED_HOSTS: '127.0.0.1',
        FETCH_IGNORE_ROBOTS: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      readyTimeoutMs: READY_MS,
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    await receiver?.close();
    await site?.close();
  });

  it('the page request is an undici span under the fetch tool span, and carries the trace onward', async () => {
    const traceId = randomBytes(16).toString('hex');
    const url = `http://127.0.0.1:${site.port}/page-${SENTINEL}?token=${SENTINEL}`;
    const { body } = await rpc(
      proc.url,
      'tools/call',
      { name: 'fetch', arguments: { url } },
      { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } },
    );
    expect(JSON.stringify(body)).toContain('traced page');
    const spans = await receiver.waitFor((all) =>
      all.some((span) => span.traceId === traceId && span.name === 'POST /rpc'),
    );
    const trace = spans.filter((span) => span.traceId === traceId);
    const tool = trace.find((span) => span.name === 'tools/call fetch');
    const outgoing = trace.filter((span) => span.scope === '@opentelemetry/instrumentation-undici');
    expect(tool?.attributes['mcp.tool.outcome']).toBe('ok');
    expect(outgoing).toHaveLength(1);
    const [request] = outgoing;
    expect(request).toMatchObject({ name: 'GET', kind: 3, parentSpanId: tool?.spanId });
    expect(request?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': site.port,
      'http.response.status_code': 200,
    });
    expect(Object.keys(request?.attributes ?? {}).filter((key) => key.startsWith('url.'))).toEqual(['url.scheme']);
    // The site saw the trace continue: its traceparent names the undici span.
    const hit = site.hits.find((entry) => entry.path.startsWith(`/page-${SENTINEL}`));
    expect(hit?.headers['traceparent']).toBe(`00-${traceId}-${request?.spanId}-01`);
    expect(receiver.raw().toString('utf8').includes(SENTINEL)).toBe(false);
  });
});
