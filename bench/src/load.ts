import { setTimeout as sleep } from 'node:timers/promises';

import { Samples } from './stats.js';

/** One virtual user: `iteration` is the unit that is timed (a call, or a whole session). */
export interface Worker {
  iteration(): Promise<void>;
  close(): Promise<void>;
}

/** What one target accumulates over its measured slices. */
export class Tally {
  /** Iterations that ended inside a measured slice. */
  completed = 0;
  /**
   * Work done inside the slices, in iterations: 1 per iteration that ended inside, and the elapsed
   * fraction of each one still running when the slice ended. Every slice starts from idle, so
   * counting whole completions only would undercount by about one latency per slice.
   */
  work = 0;
  /** Throughput of each measured slice, in order: the median resists bursts of load from elsewhere. */
  readonly sliceRates: number[] = [];
  errors = 0;
  firstError: string | undefined;
  seconds = 0;
  readonly latency = new Samples();
  /** Set when every worker gave up: the target is broken, stop scheduling it. */
  failed = false;
}

/** Opens `count` workers, a few at a time: a burst of handshakes is not what is measured. */
export async function openWorkers(count: number, create: (index: number) => Promise<Worker>): Promise<Worker[]> {
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < count; i += 8) {
      const batch = await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, k) => create(i + k)));
      workers.push(...batch);
    }
  } catch (error) {
    await closeWorkers(workers);
    throw error;
  }
  return workers;
}

export async function closeWorkers(workers: Worker[]): Promise<void> {
  await Promise.allSettled(workers.map((worker) => worker.close()));
}

/**
 * One slice of closed-loop load: every worker starts its next iteration when the previous one
 * ends, until `ms` have passed; then the iterations still running finish (drain) before it returns.
 * Counted in `tally` (nothing when warming up); `onEnd` runs when the slice's time is up.
 */
export async function runSlice(
  workers: Worker[],
  ms: number,
  tally: Tally | undefined,
  onEnd?: () => void,
): Promise<void> {
  const start = performance.now();
  const end = start + ms;
  const timer = setTimeout(() => onEnd?.(), ms);
  let givenUp = 0;
  const loop = async (worker: Worker) => {
    let consecutiveErrors = 0;
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await worker.iteration();
        consecutiveErrors = 0;
        const t1 = performance.now();
        if (tally) {
          tally.latency.add(t1 - t0);
          if (t1 <= end) {
            tally.completed += 1;
            tally.work += 1;
          } else {
            tally.work += (end - t0) / (t1 - t0);
          }
        }
      } catch (error) {
        consecutiveErrors += 1;
        if (tally) {
          tally.errors += 1;
          tally.firstError ??= error instanceof Error ? error.message : String(error);
        }
        // A target that fails every call must not spin the generator.
        if (consecutiveErrors >= 20) {
          givenUp += 1;
          return;
        }
        await sleep(10);
      }
    }
  };
  const workBefore = tally?.work ?? 0;
  await Promise.all(workers.map((worker) => loop(worker)));
  if (performance.now() < end) {
    clearTimeout(timer);
    onEnd?.();
  }
  if (tally) {
    tally.seconds += ms / 1000;
    tally.sliceRates.push((tally.work - workBefore) / (ms / 1000));
    if (givenUp === workers.length) tally.failed = true;
  }
}
