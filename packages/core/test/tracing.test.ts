/**
 * The plain parts of tracing (the process-level behaviour is tested in
 * services/postgres/test/tracing.test.ts and services/fetch/test/tracing.test.ts): which variables
 * turn it on, the OTEL_* variables the core reads itself, the redaction of exported spans, and that
 * every service's entry starts tracing before it loads its own modules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';

import { ConfigError } from '../src/errors.js';
import { redactSpan, redactSpanName } from '../src/tracing/export.js';
import { batchOptionsFromEnv, protocolFromEnv, samplerFromEnv } from '../src/tracing/otel-env.js';
import { tracingRequested } from '../src/tracing/start-tracing.js';

describe('tracingRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }, false],
  ])('%j → %s', (env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

describe('the OTEL_* variables read by the core', () => {
  it.each([
    [
      undefined,
      'ParentBased{root=AlwaysOnSampler, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}',
    ],
    ['always_off', 'AlwaysOffSampler'],
    ['traceidratio', 'TraceIdRatioBased{0.25}'],
  ])('OTEL_TRACES_SAMPLER=%s', (name, description) => {
    const env = { OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: '0.25' };
    expect(samplerFromEnv(env).toString()).toBe(description);
  });

  it('refuses an unknown sampler, a ratio out of range and gRPC with a clear message', () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(ConfigError);
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      'OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, not "2"',
    );
    expect(() => protocolFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/gRPC is not built in/);
  });

  it('reads the protocol (traces first) and the batch processor settings', () => {
    expect(protocolFromEnv({})).toBe('http/protobuf');
    expect(
      protocolFromEnv({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }),
    ).toBe('http/json');
    expect(batchOptionsFromEnv({ OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_BSP_MAX_QUEUE_SIZE: '100' })).toEqual({
      scheduledDelayMillis: 50,
      maxQueueSize: 100,
    });
    expect(() => batchOptionsFromEnv({ OTEL_BSP_SCHEDULE_DELAY: '-1' })).toThrow(ConfigError);
  });
});

describe('redaction of exported spans', () => {
  it.each([
    ['pg.query:SELECT test', 'pg.query:SELECT test'],
    ['pg.query:select test', 'pg.query:select test'],
    ['pg.query:SECRETWORD test', 'pg.query test'],
    ['GET', 'GET'],
    ['tools/call execute_sql', 'tools/call execute_sql'],
  ])('span name %s → %s', (name, expected) => {
    expect(redactSpanName(name)).toBe(expected);
  });

  it('drops statements, URLs, headers, exception messages and foreign status messages', () => {
    const context = { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: TraceFlags.SAMPLED };
    const span: ReadableSpan = {
      name: 'pg.query:SELECT db',
      kind: SpanKind.CLIENT,
      spanContext: () => context,
      startTime: [1, 0],
      endTime: [2, 0],
      status: { code: SpanStatusCode.ERROR, message: 'column "secret" does not exist' },
      attributes: {
        'db.system.name': 'postgresql',
        'db.statement': 'SELECT secret',
        'db.query.text': 'SELECT secret',
        'url.full': 'http://h/secret?k=secret',
        'url.scheme': 'http',
        'http.request.header.authorization': ['Bearer secret'],
        'db.query.parameter.0': 'secret',
      },
      links: [],
      events: [
        {
          time: [1, 5],
          name: 'exception',
          attributes: { 'exception.type': 'error', 'exception.message': 'secret', 'exception.stacktrace': 'secret' },
        },
      ],
      duration: [1, 0],
      ended: true,
      resource: resourceFromAttributes({ 'service.name': 'test' }),
      instrumentationScope: { name: '@opentelemetry/instrumentation-pg' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    const redacted = redactSpan(span);
    expect(redacted.attributes).toEqual({ 'db.system.name': 'postgresql', 'url.scheme': 'http' });
    expect(redacted.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(redacted.events).toEqual([{ time: [1, 5], name: 'exception', attributes: { 'exception.type': 'error' } }]);
    expect(redacted.spanContext()).toBe(context);
    expect(JSON.stringify({ ...redacted, resource: undefined })).not.toContain('secret');
  });
});

describe('every service starts tracing first', () => {
  const services = fileURLToPath(new URL('../../../services/', import.meta.url));
  const names = readdirSync(services, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

  it.each(names)('services/%s/src/main.ts: startTracing with its name, then its own modules', (name) => {
    const main = readFileSync(`${services}${name}/src/main.ts`, 'utf8');
    const start = main.indexOf(`await startTracing('${name}');`);
    const load = main.indexOf(`await import('./service.js')`);
    expect(start).toBeGreaterThan(0);
    expect(load).toBeGreaterThan(start);
    // No static import of the service's own modules: they would load before tracing starts.
    expect(main.match(/^import .* from '\.\/.*';$/gm)).toBeNull();
  });
});
