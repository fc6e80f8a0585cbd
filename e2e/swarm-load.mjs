// Load for the Swarm test (scripts/swarm-test.sh): keeps `concurrency` tool calls in flight against
// each target until SIGTERM or SIGINT, then lets the calls in flight finish and prints one JSON
// summary line.
//
//   node e2e/swarm-load.mjs '<json config>'
//   config: { "targets": [{ "name", "url", "transport": "rpc" | "mcp", "tool", "args", "expect" }],
//             "concurrency": 4, "maxAttempts": 10, "idPrefix": "k" }
//   args may contain "$ID", replaced by the call's id (a file name per call: idempotent writes)
//
// Every call has its own id; each attempt of it sends the JSON-RPC id "<call id>#<attempt>" over a
// new connection (so the load balancer spreads the calls over the replicas). An attempt that fails
// before an answer (connection refused or reset, HTTP 5xx, a JSON-RPC "shutting down" / "unavailable"
// error) is retried, up to maxAttempts; the summary says how often and why. A call counts as answered
// once ONE answer with its attempt's id arrives and matches `expect` (a regular expression over the
// result's text); an answer with another id, or a second answer, is counted as `mismatched`.
// "lost" = calls with no answer after every attempt. The test wants lost = 0 and mismatched = 0.
import { request } from 'node:http';

const config = JSON.parse(process.argv[2] ?? '{}');
const { targets, concurrency = 4, maxAttempts = 10, idPrefix = 'c' } = config;
if (!Array.isArray(targets) || targets.length === 0) {
  process.stderr.write('usage: node e2e/swarm-load.mjs \'{"targets":[...]}\'\n');
  process.exit(2);
}

const RETRYABLE_RPC = new Set([-32018, -32011, -32016]); // shutting down, unavailable, too many sessions
let stopping = false;
let sequence = 0;
const summary = {
  calls: 0,
  answered: 0,
  lost: 0,
  mismatched: 0,
  wrong: 0,
  retried: 0,
  attempts: 0,
  reasons: {},
  perTarget: {},
  written: [],
  examples: [],
};

function post(url, body, transport) {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      connection: 'close',
    };
    if (transport === 'mcp') {
      headers.accept = 'application/json, text/event-stream';
      headers['mcp-protocol-version'] = '2025-06-18';
    }
    const req = request(url, { method: 'POST', headers, agent: false, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (error) => resolve({ error: `response ${error.code ?? error.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error: error.code ?? error.message }));
    req.end(payload);
  });
}

/** The JSON-RPC messages of a response: one JSON body, or the data lines of an SSE stream. */
function messages(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const parsed = JSON.parse(trimmed);
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  return trimmed
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)));
}

const count = (key) => (summary.reasons[key] = (summary.reasons[key] ?? 0) + 1);

async function call(target) {
  const id = `${idPrefix}${++sequence}`;
  const stats = (summary.perTarget[target.name] ??= { calls: 0, answered: 0, retried: 0 });
  summary.calls += 1;
  stats.calls += 1;
  const args = JSON.parse(JSON.stringify(target.args).replaceAll('$ID', id));
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    summary.attempts += 1;
    if (attempt > 1) {
      summary.retried += 1;
      stats.retried += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
    }
    const attemptId = `${id}#${attempt}`;
    const body = {
      jsonrpc: '2.0',
      id: attemptId,
      method: 'tools/call',
      params: { name: target.tool, arguments: args },
    };
    const response = await post(target.url, body, target.transport);
    if (response.error) {
      count(`${target.name}: ${response.error}`);
      continue;
    }
    let answers;
    try {
      answers = messages(response.text).filter((message) => 'result' in message || 'error' in message);
    } catch {
      answers = [];
    }
    if (response.status >= 500 || answers.length === 0) {
      count(`${target.name}: HTTP ${response.status}${answers[0]?.error ? ` ${answers[0].error.code}` : ''}`);
      continue;
    }
    if (answers.length !== 1 || answers[0].id !== attemptId) {
      summary.mismatched += 1;
      summary.examples.push({ id: attemptId, got: response.text.slice(0, 300) });
      return;
    }
    const answer = answers[0];
    if (answer.error) {
      if (RETRYABLE_RPC.has(answer.error.code)) {
        count(`${target.name}: JSON-RPC ${answer.error.code}`);
        continue;
      }
      summary.wrong += 1;
      summary.examples.push({ id: attemptId, error: answer.error });
      return;
    }
    const text = (answer.result?.content ?? []).map((part) => part.text ?? '').join('\n');
    if (answer.result?.isError && /shutting down/i.test(text)) {
      count(`${target.name}: tool error "shutting down"`);
      continue;
    }
    if (!new RegExp(target.expect).test(text)) {
      summary.wrong += 1;
      summary.examples.push({ id: attemptId, text: text.slice(0, 300) });
      return;
    }
    summary.answered += 1;
    stats.answered += 1;
    if (JSON.stringify(target.args).includes('$ID')) summary.written.push(id);
    return;
  }
  summary.lost += 1;
}

async function worker(target) {
  while (!stopping) await call(target);
}

process.once('SIGINT', () => (stopping = true));
process.once('SIGTERM', () => (stopping = true));
const started = Date.now();
await Promise.all(targets.flatMap((target) => Array.from({ length: concurrency }, () => worker(target))));
summary.seconds = Math.round((Date.now() - started) / 100) / 10;
summary.examples = summary.examples.slice(0, 5);
process.stdout.write(`${JSON.stringify(summary)}\n`);
