// Relays connections to the host's Redis, for the end-to-end and Swarm tests: a container cannot
// reach the host's loopback (no docker0 bridge here), but it can connect to a socket in a mounted
// folder. Bytes are copied both ways, nothing is read or changed.
//
//   node e2e/redis-relay.mjs <listen> [target]
//
// <listen> and [target] are each a Unix socket path (anything with a "/") or a TCP address: a port
// alone listens on every interface, host:port connects there. The target defaults to 127.0.0.1:6379.
//   scripts/e2e.sh:        node e2e/redis-relay.mjs "$work/redis/redis.sock"     (on the host)
//   scripts/swarm-test.sh: the same on the host, then in a container on the stack's overlay network
//                          node redis-relay.mjs 6379 /run/redis/redis.sock, the folder mounted, so that
//                          the replicas reach Redis as a network service: redis://<container>:6379
// Prints "listening <listen>" once it accepts connections; SIGTERM closes it.
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [listen, target = '127.0.0.1:6379'] = process.argv.slice(2);
if (!listen) {
  process.stderr.write('usage: redis-relay.mjs <listen: socket path or port> [target: host:port or socket path]\n');
  process.exit(2);
}
const isPath = (address) => address.includes('/');
const connectTarget = isPath(target)
  ? () => connect(target)
  : () => connect(Number(target.slice(target.lastIndexOf(':') + 1)), target.slice(0, target.lastIndexOf(':')));

const server = createServer((client) => {
  const upstream = connectTarget();
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
});
const listening = () => process.stdout.write(`listening ${listen}\n`);
if (isPath(listen)) {
  rmSync(listen, { force: true });
  server.listen(listen, () => {
    // the services run as uid 1000; the relay runs as whoever runs the test
    chmodSync(listen, 0o777);
    listening();
  });
} else {
  server.listen(Number(listen), listening);
}
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
