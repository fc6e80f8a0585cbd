/**
 * A Unix-socket proxy in front of the real Docker socket that records every request (method, path,
 * bytes answered) and forwards it unchanged, streaming both ways. Tests point the service at it
 * (DOCKER_SOCKET) to prove which requests the service sends, and how much it reads. Upgrades
 * (attach, exec) and anything not HTTP are recorded and refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Body bytes forwarded to the service (what it was sent, not necessarily all it read). */
  responseBytes: number;
  status: number;
  done: boolean;
}

export interface RecordingProxy {
  socketPath: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-montest-proxy-'));
  const socketPath = join(dir, 'docker.sock');
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const record: RecordedRequest = {
      method: req.method ?? '?',
      path: req.url ?? '?',
      responseBytes: 0,
      status: 0,
      done: false,
    };
    requests.push(record);
    const upstream = request(
      { socketPath: target, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => {
          record.responseBytes += chunk.length;
        });
        answer.on('end', () => {
          record.done = true;
        });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    // The service closing its end stops the upstream read too (as a streaming client would see it).
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket) => {
    requests.push({
      method: `UPGRADE ${req.method ?? '?'}`,
      path: req.url ?? '?',
      responseBytes: 0,
      status: 0,
      done: true,
    });
    socket.destroy();
  });
  server.on('connect', (req, socket) => {
    requests.push({ method: 'CONNECT', path: req.url ?? '?', responseBytes: 0, status: 0, done: true });
    socket.destroy();
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // A parse error is a request that was not HTTP; a reset is a client that hung up (as it may, mid-stream).
    if (error.code?.startsWith('HPE_'))
      requests.push({ method: 'INVALID', path: '', responseBytes: 0, status: 0, done: true });
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
