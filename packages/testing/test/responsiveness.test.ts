import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { probeResponsiveness } from '../src/index.js';

describe('probeResponsiveness', () => {
  it('records each poll, the slowest one and failures', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const server = createServer((req, res) => {
      calls += 1;
      // The third request is held until the test lets it go: a "blocked" answer.
      if (calls === 3) void held.then(() => res.writeHead(200).end('late'));
      else if (calls === 5) res.writeHead(503).end('down');
      else res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const probe = probeResponsiveness(url, { intervalMs: 1 });
      while (calls < 3) await new Promise((resolve) => setImmediate(resolve));
      const heldFrom = performance.now();
      while (performance.now() - heldFrom < 150) await new Promise((resolve) => setTimeout(resolve, 10));
      release();
      while (calls < 6) await new Promise((resolve) => setTimeout(resolve, 1));
      const report = await probe.stop();
      expect(report.polls).toBeGreaterThanOrEqual(5);
      expect(report.maxMs).toBeGreaterThanOrEqual(150);
      expect(report.failures).toBe(1);
    } finally {
      server.close();
    }
  });
});
