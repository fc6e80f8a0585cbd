import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSessionDirectory } from '../src/sessions/session-directory.js';

/**
 * The session directory's close, against a real Redis (127.0.0.1:6379, REDIS_URL to change): a
 * replica that stops must not take a request off its channel that it can no longer answer. Every
 * message published to it either reaches it while it can still answer (through its command
 * connection), or finds nobody listening (PUBLISH returns 0), so that the sender answers its
 * client at once instead of waiting out MCP_FORWARD_TIMEOUT_MS.
 */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('session directory close', () => {
  let probe: Redis;

  beforeAll(async () => {
    probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
    await probe.connect().catch((error: Error) => {
      throw new Error(`Redis is not reachable at ${REDIS_URL}: these tests need a real Redis (${error.message})`);
    });
  });

  afterAll(() => {
    probe.disconnect();
  });

  it('answers every message it took off its channel; the ones after it stopped find nobody listening', async () => {
    const prefix = `mcp-test-directory-${randomUUID()}:`;
    const directory = createSessionDirectory({
      url: REDIS_URL,
      prefix,
      heartbeatMs: 1000,
      localSessions: () => [],
      // What the forwarding does with a request: answer it on its sender's channel (send(id)
      // publishes on `${prefix}replica:${id}`).
      onMessage: (text) => void directory.send(`answers-${text}`, text).catch(() => undefined),
      onWarning: () => undefined,
    });
    const answers = new Redis(REDIS_URL);
    const seen = new Set<string>();
    await answers.psubscribe(`${prefix}replica:answers-*`);
    answers.on('pmessage', (_pattern: string, _channel: string, text: string) => seen.add(text));
    await directory.start();
    expect(directory.available).toBe(true);

    const channel = `${prefix}replica:${directory.replicaId}`;
    const delivered: string[] = [];
    let stop = false;
    const publishing = (async () => {
      for (let i = 0; !stop; i += 1) {
        const text = `m${i}`;
        if ((await probe.publish(channel, text)) > 0) delivered.push(text);
      }
    })();
    // Let some messages through, then stop the replica while they keep coming.
    while (delivered.length < 50) await new Promise((resolve) => setImmediate(resolve));
    await directory.close();
    // Published after the close: nobody listens any more.
    const after = await probe.publish(channel, 'after-close');
    stop = true;
    await publishing;
    expect(after).toBe(0);

    // Every message Redis handed to the replica was answered.
    const deadline = Date.now() + 5000;
    while (delivered.some((text) => !seen.has(text)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(delivered.filter((text) => !seen.has(text))).toEqual([]);
    expect(delivered.length).toBeGreaterThanOrEqual(50);
    answers.disconnect();
  });
});
