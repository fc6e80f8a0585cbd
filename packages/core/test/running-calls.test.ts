import { describe, expect, it } from 'vitest';

import { RunningCalls } from '../src/registry/running-calls.js';

describe('RunningCalls', () => {
  it('lists the calls in any order of leaving, and cuts a record loose when it leaves', () => {
    const calls = new RunningCalls();
    const [a, b, c, d] = [calls.add(), calls.add(), calls.add(), calls.add()];
    const abort = () => undefined;
    for (const call of [a, b, c, d]) {
      call.abort = abort;
      call.outcome = Promise.resolve();
    }
    expect(calls.size).toBe(4);
    expect(calls.list()).toEqual([d, c, b, a]);

    calls.remove(b); // from the middle
    expect(calls.list()).toEqual([d, c, a]);
    calls.remove(d); // the head
    expect(calls.list()).toEqual([c, a]);
    calls.remove(a); // the tail
    expect(calls.list()).toEqual([c]);
    expect(calls.size).toBe(1);
    for (const gone of [a, b, d]) {
      expect(gone).toEqual({ prev: undefined, next: undefined, abort: undefined, outcome: undefined });
    }

    calls.remove(b); // twice: no change
    expect(calls.size).toBe(1);
    calls.remove(c);
    expect(calls.list()).toEqual([]);
    expect(calls.size).toBe(0);
    calls.add();
    expect(calls.size).toBe(1);
  });

  it('gives a list that calls starting or ending afterwards do not change', () => {
    const calls = new RunningCalls();
    const first = calls.add();
    const seen = calls.list();
    calls.add();
    calls.remove(first);
    expect(seen).toEqual([first]);
  });
});
