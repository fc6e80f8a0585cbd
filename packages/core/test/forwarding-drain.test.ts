import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import { httpRequest, type RawResponse } from '../../testing/src/index.js';
import { createForwarding, type Forwarding, type ForwardRequest } from '../src/http/forwarding.js';
import { MemorySessionStore } from '../src/sessions/session.js';
import type { SessionDirectory } from '../src/sessions/session-directory.js';

/**
 * Forwarding.drain(), what a stopping replica waits for before it closes its Redis channel (the
 * shutdown of several replicas, end to end, is in replicas.test.ts): a directory stand-in that
 * records what is published, and a real HTTP server whose requests are forwarded.
 */
const OWNER = 'owner-replica';

function standInDirectory(published: { replica: string; text: string }[]): SessionDirectory {
  return {
    replicaId: 'this-replica',
    available: true,
    start: async () => undefined,
    publish: async () => undefined,
    remove: async () => undefined,
    lookup: async () => ({
      found: { owner: OWNER, identity: 'anonymous', kind: 'streamable-http', createdAt: 0, lastSeen: 0 },
    }),
    isAlive: async () => true,
    send: async (replica, text) => {
      published.push({ replica, text });
      return 1;
    },
    close: async () => undefined,
  };
}

interface Setup {
  forwarding: Forwarding;
  published: { replica: string; text: string }[];
  url: string;
  closing: { value: boolean };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function setup(): Promise<Setup> {
  const published: { replica: string; text: string }[] = [];
  const closing = { value: false };
  const forwarding = createForwarding({
    directory: standInDirectory(published),
    sessions: new MemorySessionStore(),
    deliver: async () => undefined,
    logger: pino({ level: 'silent' }),
    forwardTimeoutMs: 60_000,
    callTimeoutMs: 60_000,
    closing: () => closing.value,
  });
  const server = createServer((req, res) => {
    const request: ForwardRequest = {
      kind: 'streamable-http',
      sessionId: 'the-session',
      method: 'POST',
      url: '/mcp',
      headers: req.headers,
      identity: { id: 'anonymous', authenticated: false },
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: {} } },
    };
    void forwarding.forward(request, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { forwarding, published, url: `http://127.0.0.1:${port}/mcp`, closing };
}

/** Sends the POST and waits until its request is published to the owner; its answer, later. */
async function forwardOne(s: Setup): Promise<{ rid: string; answer: Promise<RawResponse> }> {
  const before = s.published.length;
  const answer = httpRequest(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  while (s.published.length === before) await new Promise((resolve) => setImmediate(resolve));
  const message = JSON.parse(s.published.at(-1)!.text) as { t: string; rid: string };
  expect(message.t).toBe('req');
  return { rid: message.rid, answer };
}

/** The owner's answer, as it arrives on this replica's channel. */
function ownerAnswers(forwarding: Forwarding, rid: string, body: string): void {
  forwarding.receive(JSON.stringify({ t: 'head', rid, status: 200, headers: { 'content-type': 'application/json' } }));
  forwarding.receive(JSON.stringify({ t: 'data', rid, chunk: Buffer.from(body).toString('base64') }));
  forwarding.receive(JSON.stringify({ t: 'end', rid }));
}

describe('Forwarding.drain', () => {
  it('resolves at once when nothing waits for another replica', async () => {
    const s = await setup();
    let done = false;
    const drained = s.forwarding.drain(60_000).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(true);
    await drained;
  });

  it('waits for every forwarded request to be answered, and the answers reach their clients', async () => {
    const s = await setup();
    const first = await forwardOne(s);
    const second = await forwardOne(s);
    let done = false;
    const drained = s.forwarding.drain(60_000).then(() => (done = true));
    ownerAnswers(s.forwarding, first.rid, '{"one":1}');
    expect((await first.answer).text).toBe('{"one":1}');
    expect(done).toBe(false);
    expect(s.forwarding.inFlight.pending).toBe(1);
    ownerAnswers(s.forwarding, second.rid, '{"two":2}');
    expect((await second.answer).text).toBe('{"two":2}');
    await drained;
    expect(s.forwarding.inFlight.pending).toBe(0);
  });

  it('gives up after its time limit when an answer does not come (the grace has an end)', async () => {
    const s = await setup();
    const pending = await forwardOne(s);
    const started = performance.now();
    await s.forwarding.drain(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(s.forwarding.inFlight.pending).toBe(1);
    ownerAnswers(s.forwarding, pending.rid, '{}');
    await pending.answer;
  });

  it('refuses, as shutting down, a request whose lookup finished after stopping began', async () => {
    const s = await setup();
    s.closing.value = true;
    const answer = await httpRequest(s.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(503);
    expect(answer.json).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32018, message: 'Server is shutting down: retry shortly' },
    });
    expect(s.published).toEqual([]);
  });
});
