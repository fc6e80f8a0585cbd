/**
 * The conversion pool: real worker threads (through tsx here, plain JS in production) with a time
 * budget, a capped heap and cancellation; a worker that fails is replaced, and the pool goes on.
 */
import { FetchError } from '@mcp-sse/net-guard';
import { afterEach, describe, expect, it } from 'vitest';

import type { ConvertRequest } from '../src/convert.js';
import { ConvertPool } from '../src/convert-pool.js';

const request = (html: string, overrides: Partial<ConvertRequest> = {}): ConvertRequest => ({
  body: Buffer.from(html),
  contentType: 'text/html',
  truncated: false,
  finalUrl: 'https://site.test/',
  format: 'markdown',
  startIndex: 0,
  maxLength: 100_000,
  maxContentBytes: 1024 * 1024,
  ...overrides,
});

/** Worker threads created in this process from now on (node's `worker` event, emitted on the next tick). */
function countWorkers(): { readonly started: number; stop(): void } {
  const counter = { started: 0, stop: () => process.off('worker', onWorker) };
  const onWorker = () => (counter.started += 1);
  process.on('worker', onWorker);
  return counter;
}
/** After every pending next-tick callback (a `worker` event included). */
const ticked = () => new Promise((resolve) => setImmediate(resolve));

const BIG_TABLE = `<table>${`<tr>${'<td>c</td>'.repeat(1000)}</tr>`.repeat(400)}</table>`;

async function failure(promise: Promise<unknown>): Promise<FetchError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FetchError);
  return error as FetchError;
}

describe('ConvertPool', () => {
  const pools: ConvertPool[] = [];
  const pool = (options: Partial<ConstructorParameters<typeof ConvertPool>[0]> = {}) => {
    const created = new ConvertPool({ size: 2, timeoutMs: 30_000, heapMb: 96, ...options });
    pools.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((one) => one.close()));
  });

  it('converts in a worker, several at once beyond its size', async () => {
    const converter = pool({ size: 1 });
    const pages = await Promise.all(
      ['<p>one</p>', '<p>two</p>', '<h1>three</h1>'].map((html) => converter.convert(request(html))),
    );
    expect(pages.map((page) => page.content)).toEqual(['one', 'two', '## three']); // readability demotes a lone h1
  });

  it('passes domain errors through, with their kind', async () => {
    const error = await failure(pool().convert(request('{oops', { format: 'json', contentType: 'application/json' })));
    expect(error.kind).toBe('UNSUPPORTED_CONTENT');
    expect(error.message).toMatch(/is not valid JSON/);
  });

  it('stops a conversion over its time budget, and the next one gets a fresh worker', async () => {
    const converter = pool({ size: 1, timeoutMs: 300 });
    // The first call may also pay for loading the worker: either way it cannot finish in 300 ms.
    const error = await failure(converter.convert(request(BIG_TABLE)));
    expect(error.kind).toBe('TIMEOUT');
    expect(error.message).toBe(
      'converting the page took longer than 300 ms (FETCH_CONVERT_TIMEOUT_MS); try format "raw", or a smaller page',
    );
    const roomy = pool({ size: 1 });
    expect((await roomy.convert(request('<p>after</p>'))).content).toBe('after');
  });

  it('a worker out of heap fails alone, with a clear message', async () => {
    const tight = pool({ size: 1, heapMb: 24 });
    const huge = `<div>${'<p class="x" id="y">some words here</p>'.repeat(120_000)}</div>`;
    const error = await failure(tight.convert(request(huge, { format: 'html' })));
    expect(error.kind).toBe('UNSUPPORTED_CONTENT');
    expect(error.message).toMatch(/too large or too complex to convert \(over 24 MB\)|could not be converted/);
  });

  it('cancels a conversion when the caller goes away', async () => {
    const converter = pool({ size: 1 });
    expect((await converter.convert(request('<p>warm</p>'))).content).toBe('warm'); // the worker is up
    const controller = new AbortController();
    const pending = converter.convert(request(BIG_TABLE), controller.signal);
    // One turn of the event loop: the page has been handed to the worker, which is converting it.
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect((await failure(pending)).kind).toBe('CANCELLED');
    expect((await converter.convert(request('<p>still here</p>'))).content).toBe('still here');
  });

  it('warm starts a worker ahead of a call, never past the pool size counting running ones', async () => {
    const converter = pool({ size: 1 });
    const workers = countWorkers();
    try {
      converter.warm(1);
      await ticked();
      expect(workers.started).toBe(1);
      // The warmed worker is the one the call takes: no other starts.
      expect((await converter.convert(request('<p>one</p>'))).content).toBe('one');
      converter.warm(1);
      await ticked();
      expect(workers.started).toBe(1);
      // While the only worker converts, the pool is full: warm starts nothing.
      const pending = converter.convert(request(BIG_TABLE));
      converter.warm(1);
      expect((await pending).content.length).toBeGreaterThan(0);
      expect(workers.started).toBe(1);
      // With room, warm starts one idle worker, and one only.
      const roomy = pool({ size: 2 });
      roomy.warm(1);
      roomy.warm(1);
      expect((await roomy.convert(request('<p>two</p>'))).content).toBe('two');
      expect(workers.started).toBe(2);
    } finally {
      workers.stop();
    }
  });
});
