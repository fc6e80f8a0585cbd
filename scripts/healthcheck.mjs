// The HEALTHCHECK of every service image (Dockerfile.service copies it to /usr/local/lib/mcp-sse/):
//
//   node /usr/local/lib/mcp-sse/healthcheck.mjs        GET http://127.0.0.1:$PORT/health
//
// Exit 0 when /health answers 200; otherwise exit 1 and print ONE line saying why (the failing
// dependency checks of a 503, or why nothing answered). Docker keeps that line in the container's
// health log (`docker inspect`), where deploy.sh reads it while it waits, so an operator sees
// "HTTP 503 (postgres: connection refused ...)" instead of a bare "unhealthy". No curl in the images:
// node is there anyway. Node's built-in fetch only, so it runs without node_modules.
const port = process.env.PORT;
const timeoutMs = Number(process.env.MCP_HEALTHCHECK_TIMEOUT_MS ?? 4000);

function fail(reason) {
  process.stdout.write(`${reason.replace(/\s+/g, ' ').slice(0, 400)}\n`);
  process.exit(1);
}

if (!port) fail('PORT is not set in the container');

let response;
try {
  response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
} catch (error) {
  const cause = error?.cause?.code ?? error?.cause?.message;
  fail(
    error?.name === 'TimeoutError'
      ? `no answer from /health on port ${port} within ${timeoutMs} ms`
      : `nothing answers on port ${port} (${cause ?? error?.message ?? String(error)})`,
  );
}
if (response.ok) process.exit(0);

let detail = '';
try {
  const body = JSON.parse(await response.text());
  detail = Object.entries(body?.checks ?? {})
    .filter(([, check]) => check?.status !== 'ok')
    .map(([name, check]) => `${name}: ${check?.error ?? check?.status ?? 'down'}`)
    .join('; ');
  if (!detail && body?.status) detail = String(body.status);
} catch {
  // not JSON: the status code says enough
}
fail(`HTTP ${response.status}${detail ? ` (${detail})` : ''}`);
