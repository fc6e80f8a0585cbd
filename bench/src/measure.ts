import { closeWorkers, openWorkers, runSlice, Tally, type Worker } from './load.js';
import type { ServerProcess } from './processes.js';
import { round } from './stats.js';
import type { Shape, Target, Transport } from './targets.js';

export interface RunSettings {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Length of one turn when the targets of a group take turns. */
  sliceMs: number;
}

/** One line of the table and of latest.json. */
export interface Row {
  id: string;
  section: string;
  label: string;
  transport: Transport;
  shape: Shape;
  concurrency: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  completed: number;
  errors: number;
  first_error?: string;
  /** Calls per second in each measured slice (this target's turns, in order). */
  slice_rps: number[];
  /** CPU the server process (tree) used while measured, as a fraction of one core. */
  server_cpu: number | null;
  /** Server CPU time per completed iteration: independent of how busy the machine was. */
  server_cpu_us_per_call: number | null;
  generator_cpu: number;
  skipped?: string;
}

export function skippedRow(
  target: Pick<Target, 'id' | 'section' | 'label' | 'transport' | 'shape'>,
  reason: string,
): Row {
  return {
    id: target.id,
    section: target.section,
    label: target.label,
    transport: target.transport,
    shape: target.shape,
    concurrency: 0,
    rps: 0,
    p50_ms: Number.NaN,
    p99_ms: Number.NaN,
    completed: 0,
    errors: 0,
    slice_rps: [],
    server_cpu: null,
    server_cpu_us_per_call: null,
    generator_cpu: 0,
    skipped: reason,
  };
}

interface Live {
  target: Target;
  server: ServerProcess | undefined;
  workers: Worker[];
  tally: Tally;
  serverCpu: number;
  generatorCpu: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Measures a group of targets that are compared with each other. Each target has its own server
 * process; they take turns in short slices (A, B, A, B, ...) so that whatever else the machine is
 * doing weighs on both alike. Never throws: a target that cannot run becomes a skipped row.
 */
export async function measureGroup(targets: Target[], settings: RunSettings): Promise<Row[]> {
  const live: Live[] = [];
  const rows = new Map<string, Row>();
  try {
    for (const target of targets) {
      let server: ServerProcess | undefined;
      try {
        await target.prepare?.();
        server = await target.start?.();
        const workers = await openWorkers(settings.concurrency, (index) => target.createWorker(server, index));
        live.push({ target, server, workers, tally: new Tally(), serverCpu: 0, generatorCpu: 0 });
      } catch (error) {
        await server?.stop();
        rows.set(target.id, skippedRow(target, `failed: ${message(error)}`));
      }
    }
    for (const entry of live) await runSlice(entry.workers, settings.warmupMs, undefined);
    const slices = Math.max(1, Math.round(settings.durationMs / settings.sliceMs));
    for (let i = 0; i < slices; i += 1) {
      for (const entry of live) {
        if (entry.tally.failed) continue;
        const server0 = entry.server?.cpuSeconds() ?? 0;
        const gen0 = process.cpuUsage();
        await runSlice(entry.workers, settings.sliceMs, entry.tally, () => {
          entry.serverCpu += (entry.server?.cpuSeconds() ?? 0) - server0;
          const used = process.cpuUsage(gen0);
          entry.generatorCpu += (used.user + used.system) / 1e6;
        });
      }
    }
  } finally {
    for (const entry of live) {
      await closeWorkers(entry.workers);
      await entry.server?.stop();
    }
  }
  for (const { target, server, tally, serverCpu, generatorCpu } of live) {
    const seconds = tally.seconds;
    const row: Row = {
      id: target.id,
      section: target.section,
      label: target.label,
      transport: target.transport,
      shape: target.shape,
      concurrency: settings.concurrency,
      // The median slice: a burst of load from another process on the machine moves it little.
      rps: round(median(tally.sliceRates), 0),
      p50_ms: round(tally.latency.percentile(50), 2),
      p99_ms: round(tally.latency.percentile(99), 2),
      completed: tally.completed,
      errors: tally.errors,
      slice_rps: tally.sliceRates.map((rate) => round(rate, 0)),
      server_cpu: server && seconds > 0 ? round(serverCpu / seconds, 2) : null,
      server_cpu_us_per_call: server && tally.work > 0 ? round((serverCpu / tally.work) * 1e6, 0) : null,
      generator_cpu: seconds > 0 ? round(generatorCpu / seconds, 2) : 0,
    };
    if (tally.firstError) row.first_error = tally.firstError;
    rows.set(target.id, row);
  }
  return targets.map((target) => rows.get(target.id)!);
}
