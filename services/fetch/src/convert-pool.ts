import { Worker } from 'node:worker_threads';

import { childEntry } from '@mcp-sse/core/child-entry';
import { FetchError, type FetchErrorKind } from '@mcp-sse/net-guard/errors';

import type { ConvertedPage, ConvertRequest } from './convert.js';

/**
 * A few worker threads that convert fetched bodies (convert.ts), so that a hostile page never
 * blocks the event loop: each conversion has a time budget (the worker is terminated past it and
 * replaced) and each worker a capped heap (one that runs out dies alone, not the service). Calls
 * beyond the pool's size wait their turn.
 */

export interface ConvertPoolOptions {
  /** Workers at most (they start on demand and stay). */
  size: number;
  /** Longest one conversion may take (FETCH_CONVERT_TIMEOUT_MS). */
  timeoutMs: number;
  /** Old-generation heap of each worker, in MB. */
  heapMb: number;
}

export type Converter = (request: ConvertRequest, signal?: AbortSignal) => Promise<ConvertedPage>;

interface Reply {
  id: number;
  page?: ConvertedPage;
  error?: { kind: FetchErrorKind | 'INTERNAL'; message: string };
}

function spawn(heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 8 };
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from source (tests, tsx): the worker's TypeScript goes through tsx's loader as well,
    // and workspace packages (@mcp-sse/net-guard) resolve to their sources, as in the parent.
    const entry = JSON.stringify(new URL('./convert-worker.ts', self).href);
    const source = '--conditions=@mcp-sse/source';
    return new Worker(`import('tsx/esm/api').then((api) => api.tsImport(${entry}, ${entry}));`, {
      eval: true,
      resourceLimits,
      execArgv: process.execArgv.includes(source) ? process.execArgv : [...process.execArgv, source],
    });
  }
  // tsc's convert-worker.js, or from the bundle (the image) the worker entry's own bundle
  return new Worker(childEntry(self, 'convert-worker').path, { resourceLimits });
}

export class ConvertPool {
  private readonly idle: Worker[] = [];
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: ConvertPoolOptions) {}

  /**
   * Starts workers until `count` are idle, within the pool's size (running ones count): called as a
   * page's fetch begins, so that a worker loads while the network works. Such a worker belongs to no
   * call until one takes it, so a call's time running out does not stop it loading.
   */
  warm(count = 1): void {
    while (
      this.idle.length < Math.min(count, this.options.size) &&
      this.idle.length + this.running < this.options.size &&
      !this.closed
    ) {
      const worker = spawn(this.options.heapMb);
      worker.unref();
      // A worker that fails while idle is dropped; the next call starts another.
      worker.once('error', () => this.drop(worker));
      worker.once('exit', () => this.drop(worker));
      this.idle.push(worker);
    }
  }

  private drop(worker: Worker): void {
    const index = this.idle.indexOf(worker);
    if (index !== -1) this.idle.splice(index, 1);
  }

  private async acquire(signal?: AbortSignal): Promise<Worker> {
    while (this.running >= this.options.size) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new FetchError('CANCELLED', 'the conversion was cancelled'));
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (this.closed) throw new FetchError('CANCELLED', 'the service is shutting down');
    this.running += 1;
    const worker = this.idle.pop() ?? spawn(this.options.heapMb);
    worker.ref();
    return worker;
  }

  private release(worker: Worker | undefined): void {
    this.running -= 1;
    if (worker && !this.closed) {
      worker.unref();
      this.idle.push(worker);
    }
    this.waiting.shift()?.();
  }

  readonly convert: Converter = async (request, signal) => {
    signal?.throwIfAborted();
    const worker = await this.acquire(signal);
    const id = (this.nextId += 1);
    let keep = false;
    try {
      const page = await new Promise<ConvertedPage>((resolve, reject) => {
        const cleanup = () => {
          clearTimeout(timer);
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          signal?.removeEventListener('abort', onAbort);
        };
        const fail = (error: FetchError) => {
          cleanup();
          reject(error);
        };
        const onMessage = (reply: Reply) => {
          if (reply.id !== id) return;
          cleanup();
          keep = true;
          if (reply.page) resolve(reply.page);
          else if (reply.error?.kind === 'INTERNAL' || reply.error === undefined) {
            reject(new Error(`conversion failed: ${reply.error?.message ?? 'no answer'}`));
          } else reject(new FetchError(reply.error.kind, reply.error.message));
        };
        const onError = (error: Error & { code?: string }) =>
          fail(
            new FetchError(
              'UNSUPPORTED_CONTENT',
              error.code === 'ERR_WORKER_OUT_OF_MEMORY'
                ? `the page is too large or too complex to convert (over ${this.options.heapMb} MB); try format "raw"`
                : `the page could not be converted (${error.message}); try format "raw"`,
            ),
          );
        const onExit = () =>
          fail(new FetchError('UNSUPPORTED_CONTENT', 'the page could not be converted; try format "raw"'));
        const onAbort = () => fail(new FetchError('CANCELLED', 'the conversion was cancelled'));
        const timer = setTimeout(
          () =>
            fail(
              new FetchError(
                'TIMEOUT',
                `converting the page took longer than ${this.options.timeoutMs} ms (FETCH_CONVERT_TIMEOUT_MS); ` +
                  'try format "raw", or a smaller page',
              ),
            ),
          this.options.timeoutMs,
        );
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        signal?.addEventListener('abort', onAbort, { once: true });
        if (signal?.aborted) {
          onAbort();
          return;
        }
        // Handed over, not copied, when the body owns its memory (a concatenated response body does).
        const source = request.body;
        const whole =
          source.buffer instanceof ArrayBuffer &&
          source.byteOffset === 0 &&
          source.byteLength === source.buffer.byteLength;
        const body = whole ? source : new Uint8Array(source);
        worker.postMessage({ ...request, body, id }, [body.buffer as ArrayBuffer]);
      });
      return page;
    } finally {
      // A worker that did not answer (time, heap, cancellation) may be stuck: it is not reused.
      if (!keep) void worker.terminate();
      this.release(keep ? worker : undefined);
    }
  };

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.idle.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const wake of this.waiting.splice(0)) wake();
  }
}
