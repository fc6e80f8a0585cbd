// A tiny TCP load balancer for the Swarm test (scripts/swarm-test.sh), standing in for the routing
// mesh on engines where it cannot work (no iptables: the ingress network and the services' virtual
// IPs answer nothing). It runs in a container on the stack's overlay network, published on
// 127.0.0.1, and spreads connections round-robin over the tasks of a dnsrr service, which Docker's
// DNS lists as tasks.<service>. A task that refuses or does not answer the connection within 1 s is
// skipped for the next one, as the routing mesh would no longer list it; a connection that breaks
// after it was made is broken for the client too (the client's retry is what the test checks).
//
//   node swarm-lb.mjs <listen port> <service name> <service port> <stats port>
//
// GET http://<lb>:<stats port>/ answers {"addresses":[...],"connections":{"<ip>":n},"refused":n}.
import { promises as dns } from 'node:dns';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';

const [listenPort, service, servicePort, statsPort] = process.argv.slice(2);
if (!statsPort) {
  process.stderr.write('usage: node swarm-lb.mjs <listen port> <service> <service port> <stats port>\n');
  process.exit(2);
}

let addresses = [];
let next = 0;
let refused = 0;
const connections = {};

async function refresh() {
  try {
    addresses = (await dns.resolve4(`tasks.${service}`)).sort();
  } catch {
    // NXDOMAIN while no task runs: nothing to send to
    addresses = [];
  }
}
await refresh();
setInterval(refresh, 500).unref();

function forward(client, tried) {
  if (tried >= Math.max(addresses.length, 1) || addresses.length === 0) {
    refused += 1;
    client.destroy();
    return;
  }
  const address = addresses[next++ % addresses.length];
  const upstream = connect({ host: address, port: Number(servicePort) });
  let connected = false;
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), 1000);
  upstream.once('connect', () => {
    connected = true;
    clearTimeout(timer);
    connections[address] = (connections[address] ?? 0) + 1;
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on('error', () => {
    clearTimeout(timer);
    if (connected) client.destroy();
    else forward(client, tried + 1);
  });
  upstream.on('close', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
}

createServer({ pauseOnConnect: true }, (client) => forward(client, 0)).listen(Number(listenPort), '0.0.0.0');
createHttpServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ addresses, connections, refused }));
}).listen(Number(statsPort), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
