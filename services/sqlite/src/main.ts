import { runService, startTracing } from '@mcp-sse/core';

// Tracing first, when OTEL_EXPORTER_OTLP_ENDPOINT is set (nothing is loaded otherwise): the pg,
// mysql2 and ioredis instrumentations must be in place before the service's modules import them.
await startTracing('sqlite');
const { service } = await import('./service.js');
await runService(service);
