import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that a test controls, in front of a backend (PostgreSQL, Redis): it can
 * cut every open connection as a network failure would, refuse new ones while still listening, or
 * stop listening altogether as a stopped server does (ECONNREFUSED), and then forward again.
 */
export interface TcpProxy {
  /** The proxy's port (point the service at it); it stays the same across down() and up(). */
  readonly port: number;
  /** Open client connections right now. */
  connections(): number;
  /** Destroys every open connection (both sides). */
  cutAll(): void;
  /** New connections are accepted and closed at once; open ones are cut. */
  refuse(): void;
  /** Forwards new connections again (after refuse()). */
  restore(): void;
  /** Stops listening (new connections get ECONNREFUSED) and cuts the open ones. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let server: Server | undefined;
  let port = 0;
  const cutAll = () => {
    for (const socket of [...open]) socket.destroy();
    open.clear();
  };
  const up = async () => {
    if (server) return;
    const listening = createServer((client) => {
      if (refusing) {
        client.destroy();
        return;
      }
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
    cutAll();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await up();
  return {
    // eslint-disable-next-line no-restricted-syntax -- one per proxy a test starts
    get port() {
      return port;
    },
    connections: () => open.size / 2,
    cutAll,
    refuse: () => {
      refusing = true;
      cutAll();
    },
    restore: () => {
      refusing = false;
    },
    down,
    up,
    close: down,
  };
}
