/**
 * OpenTelemetry tracing of the fetch service as a process (the core's tracing is tested in depth in
 * services/postgres/test/tracing.test.ts): the page request goes out through undici, and its span
 * is a child of the tool call's span; the URL fetched (the tool's argument) is not exported.
 */
import { randomBytes } from 'node:crypto';

import {
  onlySpan,
  rpc,
  rpcTraceSpans,
  SPAN_KIND,
  startTracedServiceProcess,
  type TracedServiceProcess,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './helpers/servers.js';

const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;
const READY_MS = 90_000;
const SENTINEL = `otelfetchsentinel${randomBytes(6).toString('hex')}`;

describe('fetch traced (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let site: TestServer;
  let proc: TracedServiceProcess;

  beforeAll(async () => {
    site = await startServer();
    site.route(`/page-${SENTINEL}`, (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><p>traced page</p></body></html>'),
    );
    proc = await startTracedServiceProcess(ENTRY, {
      env: { FETCH_ALLOWED_HOSTS: '127.0.0.1', FETCH_IGNORE_ROBOTS: 'true' },
      readyTimeoutMs: READY_MS,
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
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
    const trace = await rpcTraceSpans(proc.receiver, traceId);
    const tool = trace.find((span) => span.name === 'tools/call fetch');
    expect(tool?.attributes['mcp.tool.outcome']).toBe('ok');
    const request = onlySpan(trace, (span) => span.scope === '@opentelemetry/instrumentation-undici', 'undici span');
    expect(request).toMatchObject({ name: 'GET', kind: SPAN_KIND.CLIENT, parentSpanId: tool?.spanId });
    expect(request.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': site.port,
      'http.response.status_code': 200,
    });
    expect(Object.keys(request.attributes).filter((key) => key.startsWith('url.'))).toEqual(['url.scheme']);
    // The site saw the trace continue: its traceparent names the undici span.
    const hit = site.hits.find((entry) => entry.path.startsWith(`/page-${SENTINEL}`));
    expect(hit?.headers['traceparent']).toBe(`00-${traceId}-${request.spanId}-01`);
    expect(proc.receiver.raw().toString('utf8').includes(SENTINEL)).toBe(false);
  });
});
