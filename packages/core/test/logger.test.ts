import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/log-lines.ts', import.meta.url));

interface Run {
  code: number | null;
  /** stdout as it stood when the child first wrote to stderr ("logged"), and at exit. */
  beforeExit: string;
  atExit: string;
}

function run(env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let beforeExit = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.once('data', () => {
    // Sampled a little after "logged", well before the exit.
    setTimeout(() => (beforeExit = out), 400);
  });
  return new Promise((resolve) => {
    child.once('close', (code) => resolve({ code, beforeExit, atExit: out }));
  });
}

const parse = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('createLogger', () => {
  it('flushes buffered lines on process.exit, none lost, in order, with an ISO time', async () => {
    const result = await run({ LOG_FLUSH_MS: '60000', LINES: '500' });
    expect(result.code).toBe(3);
    const lines = parse(result.atExit);
    expect(lines.map((line) => line['n'])).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(lines[0]).toMatchObject({ level: 30, service: 'logtest', audit: true, msg: 'line' });
    expect(String(lines[0]!['time'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('writes a buffered line within LOG_FLUSH_MS while the process runs', async () => {
    const result = await run({ LOG_FLUSH_MS: '50', LINES: '1', WAIT_MS: '1500' });
    expect(parse(result.beforeExit)).toHaveLength(1);
  });

  it('keeps short output in its buffer until the interval or the exit', async () => {
    const result = await run({ LOG_FLUSH_MS: '10000', LINES: '1', WAIT_MS: '1500' });
    expect(result.beforeExit).toBe('');
    expect(parse(result.atExit)).toHaveLength(1);
  });

  it('writes each line at once with LOG_FLUSH_MS=0', async () => {
    const result = await run({ LOG_FLUSH_MS: '0', LINES: '1', WAIT_MS: '1500' });
    expect(parse(result.beforeExit)).toHaveLength(1);
  });
});
