import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';

import { connectClient, type ServiceProcess, startService, startServiceProcess } from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

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

describe('closing with connections open', () => {
  it('does not wait for a spare connection that never sent a request, nor for keep-alive ones', async () => {
    const svc = await startService(echoService, { env: { MCP_SHUTDOWN_GRACE_MS: '0' } });
    // A client's spare connection: connected, nothing sent.
    const spare = connect(svc.port, '127.0.0.1');
    await once(spare, 'connect');
    // A keep-alive connection whose last request finished.
    const agent = new Agent({ keepAlive: true });
    const answered = await new Promise<number>((resolve, reject) =>
      request(`${svc.url}/health`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .end(),
    );
    expect(answered).toBe(200);
    const spareClosed = once(spare, 'close');
    // Without the shutdown's sweep, node:http waits for the spare (no timeout applies once closing)
    // and for the keep-alive connection (65 s): the test's own timeout would fire first.
    await svc.close();
    await spareClosed;
    agent.destroy();
  });
});
