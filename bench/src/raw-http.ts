import { connect, type Socket } from 'node:net';

/**
 * The cheapest HTTP/1.1 client the bench can have, for the plain POST targets (bare echo, /rpc)
 * where the server's cost per request is close to a general-purpose client's: one keep-alive
 * socket, the request bytes built once, responses read by Content-Length. Anything else (chunked
 * bodies, Connection: close) is an error, so that a target cannot be mismeasured silently.
 */
export class RawHttpConnection {
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private async open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (error: Error) => {
      this.socket = undefined;
      this.buffer = Buffer.alloc(0);
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
    this.socket = socket;
    return socket;
  }

  /** Sends prebuilt request bytes; resolves with the status and body of the response. */
  async send(request: Buffer): Promise<{ status: number; body: string }> {
    const socket = await this.open();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      socket.write(request);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf('\r\n\r\n');
    if (headerEnd === -1) return;
    const head = this.buffer.toString('latin1', 0, headerEnd);
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const pending = this.pending;
    if (!match) {
      this.pending = undefined;
      this.socket?.destroy();
      pending?.reject(new Error(`response without Content-Length: ${head.slice(0, 200)}`));
      return;
    }
    const length = Number(match[1]);
    const total = headerEnd + 4 + length;
    if (this.buffer.length < total) return;
    const status = Number(head.slice(9, 12));
    const body = this.buffer.toString('utf8', headerEnd + 4, total);
    this.buffer = this.buffer.length === total ? Buffer.alloc(0) : this.buffer.subarray(total);
    this.pending = undefined;
    pending?.resolve({ status, body });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

/** A POST with a JSON body, as bytes, ready to be sent again and again. */
export function jsonPost(host: string, port: number, path: string, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${payload.length}\r\nConnection: keep-alive\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}
