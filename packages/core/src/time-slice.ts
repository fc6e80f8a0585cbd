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

/** A class, not an object literal with a getter (see HandlerContext in registry.ts): one is made per call. */
class Slice implements TimeSlice {
  #started: number;

  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number,
  ) {
    this.#started = now();
  }

  get due(): boolean {
    return this.now() - this.#started >= this.sliceMs;
  }

  async maybeYield(): Promise<void> {
    if (this.now() - this.#started < this.sliceMs) return;
    await nextTurn();
    this.#started = this.now();
  }
}

export function createTimeSlice(sliceMs = 4, now: () => number = () => performance.now()): TimeSlice {
  return new Slice(sliceMs, now);
}
