/**
 * Live events: from the outbox, whichever path wrote (MCP, REST, another process on the file), in
 * order with ids, resumable with Last-Event-ID, with heartbeats, a clear notice when a resume asks
 * for pruned events, and the /events access rules (API key, or a signed short-lived token).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { httpRequest, rpc, type StartedService, startService } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openConnection } from '../src/schema.js';
import { service } from '../src/service.js';
import { TokenSigner } from '../src/tokens.js';
import { pruneEvents } from '../src/writes.js';
import { openEventStream, serviceEnv, tempDir } from './helpers.js';

const run = promisify(execFile);
const serviceDir = fileURLToPath(new URL('..', import.meta.url));

describe('GET /events', () => {
  let svc: StartedService;
  let path: string;
  let cleanup: () => void;

  const store = async (content: string, tags: string[] = []) => {
    const answer = await rpc(svc.url, 'tools/call', { name: 'memory_store', arguments: { content, tags } });
    return (answer.body as { result: { structuredContent: { hash: string } } }).result.structuredContent.hash;
  };

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'memory.db');
    svc = await startService(service, { env: serviceEnv(path, { EVENTS_HEARTBEAT_MS: '1000' }) });
  });
  afterAll(async () => {
    await svc.close();
    cleanup();
  });

  it('streams stored, updated and deleted events with ids, from MCP and REST alike', async () => {
    const stream = await openEventStream(`${svc.url}/events`);
    expect(stream.status).toBe(200);
    const hash = await store('The build cache lives in /var/cache/build', ['infra']);
    const stored = await stream.waitFor((event) => event.event === 'memory_stored', 'memory_stored');
    expect(JSON.parse(stored.data)).toMatchObject({
      hash,
      tags: ['infra'],
      preview: 'The build cache lives in /var/cache/build',
    });
    const patched = await httpRequest(`${svc.url}/api/memories/${hash}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['infra', 'cache'] }),
    });
    expect(patched.status).toBe(200);
    await stream.waitFor((event) => event.event === 'memory_updated', 'memory_updated');
    expect((await httpRequest(`${svc.url}/api/memories/${hash}`, { method: 'DELETE' })).status).toBe(200);
    const deleted = await stream.waitFor((event) => event.event === 'memory_deleted', 'memory_deleted');
    expect(JSON.parse(deleted.data)).toEqual({ hash });
    const ids = stream.events().map((event) => Number(event.id));
    expect(ids).toEqual([ids[0], ids[0]! + 1, ids[0]! + 2]);
    stream.close();
  });

  it("delivers another process's writes to the same file", async () => {
    const stream = await openEventStream(`${svc.url}/events`);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'test/event-writer.ts', path, 'Written by another process'],
      {
        cwd: serviceDir,
      },
    );
    const hash = stdout.trim();
    const event = await stream.waitFor(
      (e) => e.event === 'memory_stored' && (JSON.parse(e.data) as { hash: string }).hash === hash,
      'the other process event',
    );
    expect(JSON.parse(event.data)).toMatchObject({ tags: ['other-process'] });
    stream.close();
  });

  it('resumes after Last-Event-ID, in order, and sends heartbeats', async () => {
    const first = await openEventStream(`${svc.url}/events`);
    const hashes = [await store('resume one'), await store('resume two'), await store('resume three')];
    await first.waitFor((event) => event.data.includes(hashes[2]!), 'the third event');
    const ids = first.events().map((event) => event.id!);
    first.close();
    const resumed = await openEventStream(`${svc.url}/events`, { 'last-event-id': ids[0]! });
    await resumed.waitFor((event) => event.id === ids[2], 'the replayed events');
    expect(resumed.events().map((event) => event.id)).toEqual([ids[1], ids[2]]);
    const byQuery = await openEventStream(`${svc.url}/events?last_event_id=${ids[1]}`);
    await byQuery.waitFor((event) => event.id === ids[2], 'the replayed event');
    expect(byQuery.events().map((event) => event.id)).toEqual([ids[2]]);
    await resumed.waitForText(/: keepalive\n\n/, 5000);
    resumed.close();
    byQuery.close();
    const bad = await openEventStream(`${svc.url}/events`, { 'last-event-id': '12abc' });
    expect(bad.status).toBe(400);
    expect(bad.text()).toContain('Last-Event-ID must be an event id');
    bad.close();
  });

  it('says so when a resume asks for events that were pruned, then goes on', async () => {
    const before = await openEventStream(`${svc.url}/events`);
    const old = await store('soon pruned');
    const oldEvent = await before.waitFor((event) => event.data.includes(old), 'the old event');
    before.close();
    await store('kept');
    const db = openConnection({ path, busyTimeoutMs: 5000 });
    // Keep only the newest event.
    pruneEvents(db, 0, 1, 10_000);
    db.close();
    const resumed = await openEventStream(`${svc.url}/events`, { 'last-event-id': String(Number(oldEvent.id) - 1) });
    const notice = await resumed.waitFor((event) => event.event === 'events_pruned', 'the pruned notice');
    const pruned = JSON.parse(notice.data) as { requested: number; pruned_through: number };
    expect(pruned.requested).toBe(Number(oldEvent.id) - 1);
    expect(pruned.pruned_through).toBeGreaterThanOrEqual(Number(oldEvent.id));
    await resumed.waitFor((event) => event.event === 'memory_stored', 'the kept event');
    expect(resumed.events().filter((event) => event.event === 'memory_stored')).toHaveLength(1);
    resumed.close();
  });
});

describe('/events access with API keys', () => {
  let svc: StartedService;
  let cleanup: () => void;
  const key = { authorization: 'Bearer k-events' };

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    svc = await startService(service, {
      env: serviceEnv(join(dir, 'memory.db'), { MCP_API_KEYS: 'k-events,k-other' }),
    });
  });
  afterAll(async () => {
    await svc.close();
    cleanup();
  });

  it('needs a key or a token; a forged, altered or foreign token is refused', async () => {
    const none = await openEventStream(`${svc.url}/events`);
    expect(none.status).toBe(401);
    none.close();
    const withKey = await openEventStream(`${svc.url}/events`, key);
    expect(withKey.status).toBe(200);
    withKey.close();
    expect((await httpRequest(`${svc.url}/api/events/token`, { method: 'POST' })).status).toBe(401);
    const issued = await httpRequest(`${svc.url}/api/events/token`, { method: 'POST', headers: key });
    const { token, expires_at } = issued.json as { token: string; expires_at: string };
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const withToken = await openEventStream(`${svc.url}/events?token=${encodeURIComponent(token)}`);
    expect(withToken.status).toBe(200);
    withToken.close();
    const [payload, signature] = token.split('.') as [string, string];
    const altered = Buffer.from(JSON.stringify({ sub: 'key:someone', exp: 4_000_000_000 })).toString('base64url');
    for (const bad of [
      `${altered}.${signature}`,
      `${payload}.${signature.slice(0, -2)}xx`,
      'garbage',
      `${payload}.${signature}.x`,
    ]) {
      const refused = await openEventStream(`${svc.url}/events?token=${encodeURIComponent(bad)}`);
      expect(refused.status, bad).toBe(401);
      refused.close();
    }
    // A token of one identity with another identity's key: refused.
    const foreign = await openEventStream(`${svc.url}/events?token=${encodeURIComponent(token)}`, {
      authorization: 'Bearer k-other',
    });
    expect(foreign.status).toBe(401);
    foreign.close();
  });
});

describe('TokenSigner', () => {
  it('expires tokens, and tokens of another key do not verify', () => {
    let now = 1_000_000;
    const signer = new TokenSigner('s'.repeat(32), 60, () => now);
    const { token } = signer.issue('key:abc');
    expect(signer.verify(token)).toBe('key:abc');
    now += 59_000;
    expect(signer.verify(token)).toBe('key:abc');
    now += 2000;
    expect(signer.verify(token)).toBeUndefined();
    expect(new TokenSigner('t'.repeat(32), 60, () => 1_000_000).verify(token)).toBeUndefined();
    expect(new TokenSigner(undefined, 60).verify(new TokenSigner(undefined, 60).issue('x').token)).toBeUndefined();
  });
});
