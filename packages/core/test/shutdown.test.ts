import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';

import { connectClient, type ServiceProcess, startServiceProcess } from '../../testing/src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/run-echo.ts', import.meta.url));

describe('the service process', () => {
  let running: ServiceProcess | undefined;
  afterEach(async () => {
    await running?.stop('SIGKILL');
    running = undefined;
  });

  it('finishes in-flight calls on SIGTERM, ends streams, and exits 0 well within 10 s', async () => {
    running = await startServiceProcess(fixture);
    const client = await connectClient(running.url, 'sse');
    // The slow tool logs when it starts: SIGTERM arrives while it runs.
    const started = new Promise<void>((resolve) =>
      client.setNotificationHandler(LoggingMessageNotificationSchema, () => resolve()),
    );
    const call = client.callTool({ name: 'slow', arguments: { ms: 1000, steps: 2 } });
    await started;
    const signalled = Date.now();
    const exit = running.stop('SIGTERM');
    expect((await call).structuredContent).toEqual({ waited: 1000 });
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(running.output()).toContain('"msg":"shutting down"');
    // The audit line of the finished call was written, without its arguments.
    expect(running.output()).toMatch(
      /"audit":true,"tool":"slow","identity":"anonymous","transport":"sse".*"outcome":"ok"/,
    );
    expect(running.output()).not.toContain('"ms":1000');
    await client.close();
  });

  it('stops at start-up with one clear line naming a bad variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, PORT: 'not-a-port' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^mcp-echo: invalid configuration: PORT: .*\(got "not-a-port"\)/);
  });
});
