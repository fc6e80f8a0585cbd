import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { type ServiceProcess, type ServiceProcessOptions, startServiceProcess } from './service-process.js';

/** A service process whose spans go to `receiver`. */
export interface TracedServiceProcess extends ServiceProcess {
  receiver: OtlpReceiver;
  /** Stops the process (its last spans exported on the way out), then closes the receiver. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The exporter settings that send a service's spans to `receiver`. */
function exporterEnv(receiver: OtlpReceiver): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    // The receiver reads the JSON protocol only.
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Spans reach the receiver within a test's wait, not after the batch processor's default 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '50',
  };
}

/**
 * Starts a local OTLP receiver (startOtlpReceiver), then the service as a process
 * (startServiceProcess, with `options`) exporting its spans to it.
 */
export async function startTracedServiceProcess(
  entry: string,
  options: ServiceProcessOptions = {},
): Promise<TracedServiceProcess> {
  const receiver = await startOtlpReceiver();
  let proc: ServiceProcess;
  try {
    proc = await startServiceProcess(entry, { ...options, env: { ...options.env, ...exporterEnv(receiver) } });
  } catch (error) {
    await receiver.close();
    throw error;
  }
  return {
    ...proc,
    receiver,
    async stop(signal) {
      try {
        return await proc.stop(signal);
      } finally {
        await receiver.close();
      }
    },
  };
}
