import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Cooperative yielding for long loops on the event loop (walking a tree, matching many rules): work
 * runs in slices of a few milliseconds, and between slices the loop serves other requests (`/health`,
 * other calls). `setImmediate`, not a resolved promise: microtasks would not let I/O in.
 */
export interface TimeSlice {
  /** True once this slice has used up its milliseconds. */
  readonly due: boolean;
  /** Yields to the event loop when the slice is used up (cheap otherwise: call it every iteration). */
  maybeYield(): Promise<void>;
}

export function createTimeSlice(sliceMs = 4, now: () => number = () => performance.now()): TimeSlice {
  let started = now();
  return {
    get due() {
      return now() - started >= sliceMs;
    },
    async maybeYield() {
      if (now() - started < sliceMs) return;
      await nextTurn();
      started = now();
    },
  };
}
