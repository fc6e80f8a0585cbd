import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL that the suite controls. `down()` makes the
 * database unreachable as a stopped server is: open connections are cut and the port refuses new
 * ones (ECONNREFUSED). `up()` listens again on the same port.
 */
export interface PgProxy {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const open = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    const listening = createServer((client) => {
      const upstream = new Socket();
      open.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(target.port, target.host, () => {
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => resolve());
    });
    const address = listening.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    port = address.port;
    server = listening;
  };
  const down = async () => {
    const closing = server;
    server = undefined;
    if (closing)
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        for (const socket of [...open]) socket.destroy();
        open.clear();
      });
  };
  await listen();
  return { port, down, up: listen, close: down };
}
