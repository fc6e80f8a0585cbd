import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { startServiceProcess } from '../src/index.js';

const echo = fileURLToPath(new URL('../../core/test/fixtures/run-echo.ts', import.meta.url));

describe('startServiceProcess', () => {
  it('runs a service as its own process, reports its memory and stops it with a signal', async () => {
    const service = await startServiceProcess(echo);
    try {
      const health = await fetch(`${service.url}/health`);
      expect(health.status).toBe(200);
      const rss = service.rssBytes();
      // A Node process with the core loaded: tens of MB, never zero or absurd.
      expect(rss).toBeGreaterThan(20 * 1024 * 1024);
      expect(rss).toBeLessThan(1024 * 1024 * 1024);
      expect(service.peakRssBytes()).toBeGreaterThanOrEqual(rss);
    } finally {
      expect(await service.stop()).toEqual({ code: 0, signal: null });
    }
    expect(service.output()).toContain('"msg":"shutting down"');
  });

  it('rejects with the output when the service exits before listening', async () => {
    await expect(startServiceProcess(echo, { env: { PORT: '70000' } })).rejects.toThrow(
      /exited \(1\) before listening; output:\nmcp-echo: invalid configuration: PORT/,
    );
  });
});
