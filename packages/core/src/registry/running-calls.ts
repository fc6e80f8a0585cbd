/**
 * The tool calls a registry is running, for shutdown: each one's outcome promise and its abort.
 *
 * A doubly linked list of small records rather than Sets of promises and abort functions: measured in
 * `pnpm bench` (core /rpc with a handler that awaits, and the postgres service), the Sets kept
 * finished calls' objects alive through V8's young-generation GC until the next full one (each
 * scavenge promoted 1-2 MB and paused 3-6 ms; with this list 0.3 MB and under 2 ms). A record that
 * leaves the list is cut loose from its neighbours and its call, so that even while it waits in old
 * space for a full GC it keeps nothing alive.
 */
export class RunningCall {
  prev: RunningCall | undefined = undefined;
  next: RunningCall | undefined = undefined;
  /** Settles the call at once (timeout, cancellation, shutdown); set when the call starts running. */
  abort: ((reason: unknown) => void) | undefined = undefined;
  /** The call's outcome. */
  outcome: Promise<unknown> | undefined = undefined;
}

export class RunningCalls {
  #head: RunningCall | undefined = undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(): RunningCall {
    const call = new RunningCall();
    call.next = this.#head;
    if (this.#head) this.#head.prev = call;
    this.#head = call;
    this.#size += 1;
    return call;
  }

  remove(call: RunningCall): void {
    if (call.prev) call.prev.next = call.next;
    else if (this.#head === call) this.#head = call.next;
    else return; // not in the list (removed already)
    if (call.next) call.next.prev = call.prev;
    call.prev = undefined;
    call.next = undefined;
    call.abort = undefined;
    call.outcome = undefined;
    this.#size -= 1;
  }

  /** The running calls now (calls that start or end meanwhile do not change it). */
  list(): RunningCall[] {
    const out: RunningCall[] = [];
    for (let call = this.#head; call; call = call.next) out.push(call);
    return out;
  }
}
