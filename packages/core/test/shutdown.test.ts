import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { openSseStream, rpc } from '../../testing/src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/run-echo.ts', import.meta.url));

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

function start(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line; stdout: ${out} stderr: ${err}`)), 15_000);
    const onData = () => {
      const match = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve({ child, url: match[1]!, stdout: () => out, stderr: () => err });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${err}`));
    });
  });
}

describe('the service process', () => {
  let running: Running | undefined;
  afterEach(() => {
    running?.child.kill('SIGKILL');
    running = undefined;
  });

  it('finishes in-flight calls on SIGTERM, ends streams, and exits 0 well within 10 s', async () => {
    running = await start({});
    const stream = await openSseStream(`${running.url}/sse`);
    const call = rpc(running.url, 'tools/call', { name: 'slow', arguments: { ms: 1000, steps: 2 } });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    running.child.kill('SIGTERM');
    const exit = once(running.child, 'exit') as Promise<[number | null, string | null]>;
    const response = await call;
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ result: { structuredContent: { waited: 1000 } } });
    const [code] = await exit;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(running.stdout()).toContain('"msg":"shutting down"');
    // The audit line of the finished call was written, without its arguments.
    expect(running.stdout()).toMatch(
      /"audit":true,"tool":"slow","identity":"anonymous","transport":"rpc".*"outcome":"ok"/,
    );
    stream.close();
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
