import { type AddressInfo, createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server whose own address must be known
 * before it starts (MCP_PUBLIC_URL, a config file naming it).
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
