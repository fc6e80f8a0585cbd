// Relays a Unix socket to the host's Redis on 127.0.0.1:6379, for scripts/e2e.sh: a container cannot
// reach the host's loopback (no docker0 bridge here), but it can connect to a socket in a mounted
// folder (e2e/docker-compose.e2e.yml). Bytes are copied both ways, nothing is read or changed.
//
//   node e2e/redis-relay.mjs <socket path> [host:port]
//
// Prints "listening <path>" once the socket accepts connections; SIGTERM closes it.
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [path, target = '127.0.0.1:6379'] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: redis-relay.mjs <socket path> [host:port]\n');
  process.exit(2);
}
const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];

const server = createServer((client) => {
  const upstream = connect(port, host);
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
});
rmSync(path, { force: true });
server.listen(path, () => {
  // the services run as uid 1000; the relay runs as whoever runs the test
  chmodSync(path, 0o777);
  process.stdout.write(`listening ${path}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
