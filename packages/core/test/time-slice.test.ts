import { describe, expect, it } from 'vitest';

import { createTimeSlice } from '../src/time-slice.js';

describe('createTimeSlice', () => {
  it('yields to the event loop only once the slice is used up (injected clock)', async () => {
    let clock = 0;
    const slice = createTimeSlice(5, () => clock);
    let immediates = 0;
    const count = () => setImmediate(() => (immediates += 1));

    count();
    clock = 4;
    expect(slice.due).toBe(false);
    await slice.maybeYield(); // not due: stays on this turn, the immediate has not run
    expect(immediates).toBe(0);

    clock = 5;
    expect(slice.due).toBe(true);
    await slice.maybeYield(); // due: the loop turns, so the queued immediate runs first
    expect(immediates).toBe(1);
    expect(slice.due).toBe(false); // a new slice starts after the yield
  });

  it('lets I/O callbacks run during a long loop', async () => {
    const slice = createTimeSlice(1);
    let served = false;
    setImmediate(() => (served = true));
    const until = performance.now() + 20;
    while (performance.now() < until) await slice.maybeYield();
    expect(served).toBe(true);
  });
});
