import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  type BatchSpanProcessorOptions,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';

import { ConfigError } from '../errors.js';

type Env = Record<string, string | undefined>;

function ratioOf(env: Env): number {
  const text = env['OTEL_TRACES_SAMPLER_ARG']?.trim();
  if (!text) return 1;
  const ratio = Number(text);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, not "${text}"`);
  }
  return ratio;
}

/**
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as the specification defines them (the SDK this
 * Node version allows does not read them itself). Default: parentbased_always_on.
 */
export function samplerFromEnv(env: Env): Sampler {
  const name = env['OTEL_TRACES_SAMPLER']?.trim().toLowerCase() || 'parentbased_always_on';
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratioOf(env));
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioOf(env)) });
    default:
      throw new ConfigError(
        `OTEL_TRACES_SAMPLER "${name}" is not supported: use always_on, always_off, traceidratio, ` +
          'parentbased_always_on, parentbased_always_off or parentbased_traceidratio',
      );
  }
}

function positiveInteger(env: Env, name: string): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(`${name} must be a positive integer, not "${text}"`);
  return value;
}

/** OTEL_BSP_* of the specification, for the batch span processor. */
export function batchOptionsFromEnv(env: Env): Omit<BatchSpanProcessorOptions, 'exporter'> {
  const options: Omit<BatchSpanProcessorOptions, 'exporter'> = {};
  const delay = positiveInteger(env, 'OTEL_BSP_SCHEDULE_DELAY');
  const queue = positiveInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE');
  const batch = positiveInteger(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  const timeout = positiveInteger(env, 'OTEL_BSP_EXPORT_TIMEOUT');
  if (delay !== undefined) options.scheduledDelayMillis = delay;
  if (queue !== undefined) options.maxQueueSize = queue;
  if (batch !== undefined) options.maxExportBatchSize = Math.min(batch, queue ?? 2048);
  if (timeout !== undefined) options.exportTimeoutMillis = timeout;
  return options;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL; http/protobuf by default. */
export function protocolFromEnv(env: Env): OtlpProtocol {
  const name =
    env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']?.trim() || env['OTEL_EXPORTER_OTLP_PROTOCOL']?.trim() || 'http/protobuf';
  if (name === 'http/protobuf' || name === 'http/json') return name;
  throw new ConfigError(
    `OTLP protocol "${name}" is not supported: use http/protobuf (the default) or http/json` +
      (name === 'grpc' ? ' (gRPC is not built in; point the exporter at a collector’s OTLP/HTTP port, 4318)' : ''),
  );
}
