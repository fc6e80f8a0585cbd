import { createServer } from 'node:http';

/**
 * The ceiling: bare node:http that reads a JSON-RPC tools/call, parses it and answers the same
 * result shape as the core's echo tool (structuredContent plus its JSON as a text block).
 */
const port = Number(process.env['PORT'] ?? 0);

interface Call {
  id?: string | number | null;
  params?: { arguments?: Record<string, unknown> };
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let call: Call;
    try {
      call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Call;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}');
      return;
    }
    const structured = call.params?.arguments ?? {};
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: call.id ?? null,
      result: { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured },
    });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
// A clean exit on SIGTERM, so that --cpu-prof can write its profile.
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
