/**
 * The health check's ping (Engine.ping), which uses node's own HTTP client rather than dockerode so
 * that /health does not load it: against a stand-in engine on a unix socket that answers well, fails,
 * answers too much or not at all, each failure read as the tools' are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Engine } from '../src/engine.js';
import { MonitoringError } from '../src/errors.js';

let dir: string;
let server: Server;
let socketPath: string;
let answer: (res: ServerResponse) => void = (res) => res.end('OK');
const seen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'engine-ping-'));
  socketPath = join(dir, 'docker.sock');
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const engine = (timeoutMs = 5000) => new Engine({ address: { socketPath }, timeoutMs, allowRestart: false });

/** The MonitoringError a ping fails with, as [code, message]. */
async function pingFailure(target: Engine): Promise<[string, string]> {
  const error = await target.ping(AbortSignal.timeout(10_000)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MonitoringError);
  return [(error as MonitoringError).code, (error as MonitoringError).message];
}

describe('Engine.ping (the /health check)', () => {
  it('sends one GET /_ping and resolves on 200', async () => {
    seen.length = 0;
    answer = (res) => res.end('OK');
    await engine().ping();
    expect(seen).toEqual(['GET /_ping']);
  });

  it("reads an engine error answer as the tools do, with the engine's own message", async () => {
    answer = (res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"daemon is sick"}');
    expect(await pingFailure(engine())).toEqual([
      'UPSTREAM_FAILED',
      'The Docker engine failed (HTTP 500): daemon is sick',
    ]);
    answer = (res) => res.writeHead(503).end('not json');
    expect(await pingFailure(engine())).toEqual(['UPSTREAM_FAILED', 'The Docker engine failed (HTTP 503): no message']);
  });

  it('refuses an answer larger than 1 kB without reading all of it', async () => {
    answer = (res) => res.end('x'.repeat(1024 * 1024));
    expect(await pingFailure(engine())).toEqual([
      'PAYLOAD_TOO_LARGE',
      "The Docker engine's answer for /_ping is larger than 1024 bytes",
    ]);
  });

  it('gives up on an engine that does not answer within DOCKER_TIMEOUT_MS', async () => {
    answer = () => undefined;
    expect(await pingFailure(engine(200))).toEqual([
      'UNAVAILABLE',
      `The Docker engine at unix://${socketPath} closed the connection or did not answer within DOCKER_TIMEOUT_MS (200 ms)`,
    ]);
  });

  it('stops at once when the caller aborts', async () => {
    answer = () => undefined;
    const controller = new AbortController();
    const pending = engine().ping(controller.signal);
    controller.abort(new Error('health check cancelled'));
    await expect(pending).rejects.toThrow();
  });

  it('names a socket that is not there', async () => {
    const missing = new Engine({
      address: { socketPath: join(dir, 'none.sock') },
      timeoutMs: 5000,
      allowRestart: false,
    });
    expect(await pingFailure(missing)).toEqual([
      'UNAVAILABLE',
      `No Docker engine socket at unix://${join(dir, 'none.sock')} (mount /var/run/docker.sock or set DOCKER_HOST)`,
    ]);
  });
});
