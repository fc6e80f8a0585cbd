import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that a test controls, between the service and PostgreSQL: it can cut
 * every open connection mid-query, refuse new ones, and go back to forwarding.
 */
export interface TcpProxy {
  /** The proxy's port (point the service's DATABASE_URL at it). */
  port: number;
  /** Open client connections right now. */
  connections(): number;
  /** Destroys every open connection (both sides), as a network failure would. */
  cutAll(): void;
  /** New connections are accepted and closed at once (the database is "down"); open ones are cut. */
  refuse(): void;
  /** Forwards again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(targetPort, targetHost, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const cutAll = () => {
    for (const socket of [...open]) socket.destroy();
    open.clear();
  };
  return {
    port: address.port,
    connections: () => [...open].length / 2,
    cutAll,
    refuse: () => {
      refusing = true;
      cutAll();
    },
    restore: () => {
      refusing = false;
    },
    close: async () => {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
