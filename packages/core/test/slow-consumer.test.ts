import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { waitUntil } from '../../testing/src/index.js';
import {
  LimitedServerResponse,
  limitSlowConsumer,
  type SlowConsumerCut,
  type SlowConsumerLimits,
} from '../src/http/slow-consumer.js';

const CHUNK = Buffer.alloc(64 * 1024, 'x');

interface Harness {
  res: ServerResponse;
  client: Socket;
  cuts: SlowConsumerCut[];
  /** Bytes the client has read (only while it reads). */
  received: () => number;
}

let server: Server | undefined;
let client: Socket | undefined;
afterEach(async () => {
  client?.destroy();
  if (server) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  client = undefined;
});

/** A real server and a raw TCP client that reads only when `reading` is true. */
async function harness(limits: SlowConsumerLimits, reading: boolean, limited = true): Promise<Harness> {
  const cuts: SlowConsumerCut[] = [];
  const responded = new Promise<ServerResponse>((resolve) => {
    server = createServer(limited ? { ServerResponse: LimitedServerResponse } : {}, (_req, res) => {
      limitSlowConsumer(res, limits, (cut) => cuts.push(cut));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      resolve(res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server?.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const socket = connect(address.port, '127.0.0.1');
  client = socket;
  await once(socket, 'connect');
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.on('error', () => undefined);
  socket.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const res = await responded;
  if (!reading) socket.pause();
  return { res, client: socket, cuts, received: () => received };
}

/** Writes chunks, one per turn of the event loop, until `stop` says so or the response is closed. */
async function writeUntil(res: ServerResponse, stop: (flowing: boolean) => boolean): Promise<number> {
  let written = 0;
  for (;;) {
    if (res.destroyed) return written;
    const flowing = res.write(CHUNK);
    if (!res.destroyed) written += CHUNK.length;
    if (stop(flowing)) return written;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('limitSlowConsumer', () => {
  it('closes a stream whose client stopped reading once the unsent bytes pass the limit', async () => {
    const limit = 512 * 1024;
    const { res, cuts } = await harness({ maxBufferedBytes: limit, stallTimeoutMs: 0 }, false);
    await writeUntil(res, () => false);
    expect(res.destroyed).toBe(true);
    expect(cuts).toHaveLength(1);
    expect(cuts[0]?.reason).toBe('buffer');
    // Never more than the limit plus the one chunk before the refused write.
    expect(cuts[0]?.bufferedBytes).toBeGreaterThan(limit);
    expect(cuts[0]?.bufferedBytes).toBeLessThanOrEqual(limit + CHUNK.length);
  });

  it('closes a stream whose socket has not drained within the stall timeout', async () => {
    const { res, cuts } = await harness({ maxBufferedBytes: 1024 * 1024 * 1024, stallTimeoutMs: 200 }, false);
    // Fill both ends' socket buffers until 1 MiB waits in the process, then write nothing more:
    // the paused client cannot drain it, so only the timer can close the stream.
    await writeUntil(res, () => res.writableLength >= 1024 * 1024);
    expect(res.destroyed).toBe(false);
    await waitUntil(() => res.destroyed, 'the stalled stream is closed');
    expect(cuts.map((cut) => cut.reason)).toEqual(['stall']);
    expect(cuts[0]?.bufferedBytes).toBeGreaterThan(0);
  });

  it('never closes a client that reads, even for one message larger than the limit', async () => {
    const limit = 128 * 1024;
    const { res, cuts, received } = await harness({ maxBufferedBytes: limit, stallTimeoutMs: 10_000 }, true);
    // One 1 MiB message: more than the limit is unsent right after it, but nothing was before it.
    const closed = once(res, 'close');
    if (!res.write(Buffer.alloc(1024 * 1024, 'y'))) await Promise.race([once(res, 'drain'), closed]);
    // Then 4 MiB more, each write waiting for the socket to drain, as a well-behaved writer does.
    let written = 1024 * 1024;
    while (written < 5 * 1024 * 1024) {
      if (!res.write(CHUNK)) await Promise.race([once(res, 'drain'), closed]);
      expect(res.destroyed).toBe(false);
      written += CHUNK.length;
    }
    await waitUntil(() => received() >= written, 'the client read everything');
    expect(res.destroyed).toBe(false);
    expect(cuts).toEqual([]);
  });

  it('adds listeners only while a write waits for the socket, and removes them when it drains', async () => {
    const { res, cuts, received } = await harness({ maxBufferedBytes: 64 * 1024 * 1024, stallTimeoutMs: 10_000 }, true);
    const baseline = { drain: res.listenerCount('drain'), close: res.listenerCount('close') };
    let written = 0;
    while (res.write(CHUNK)) written += CHUNK.length;
    written += CHUNK.length;
    expect(res.listenerCount('drain')).toBe(baseline.drain + 1);
    expect(res.listenerCount('close')).toBe(baseline.close + 1);
    await once(res, 'drain');
    expect({ drain: res.listenerCount('drain'), close: res.listenerCount('close') }).toEqual(baseline);
    await waitUntil(() => received() >= written, 'the client read everything');
    expect(cuts).toEqual([]);
  });

  it("leaves a response alone that the core's server did not make (fastify.inject's)", async () => {
    const { res, cuts } = await harness({ maxBufferedBytes: 1024, stallTimeoutMs: 50 }, false, false);
    expect(res).not.toBeInstanceOf(LimitedServerResponse);
    // Far past the limit: nothing is cut, the response buffers as node:http does.
    await writeUntil(res, () => res.writableLength > 4 * 1024 * 1024);
    expect(res.destroyed).toBe(false);
    expect(cuts).toEqual([]);
  });
});
