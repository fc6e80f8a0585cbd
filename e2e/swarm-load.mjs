// Load for the Swarm test (scripts/swarm-test.sh): keeps `concurrency` tool calls in flight against
// each target until SIGTERM or SIGINT, then lets the calls in flight finish and prints one JSON
// summary line.
//
//   node e2e/swarm-load.mjs '<json config>'
//   config: { "targets": [{ "name", "url", "transport": "rpc" | "mcp" | "sse", "tool", "args", "expect" }],
//             "concurrency": 4, "maxAttempts": 10, "idPrefix": "k" }
//   url: the service's base address (http://127.0.0.1:<port>); args may contain "$ID", replaced by
//   the call's id (a file name per call: idempotent writes)
//
// Transports, each the way a client of that kind talks to several replicas behind one address:
//   rpc  POST /rpc, no session.
//   mcp  Streamable HTTP with a session: each worker initializes one (POST /mcp) and sends its calls
//        with Mcp-Session-Id; the answer comes in the POST's response.
//   sse  legacy SSE: each worker holds a GET /sse stream, initializes over it, and POSTs its calls to
//        the endpoint the stream named (/messages?sessionId=); the answer comes on the stream.
// Every request goes over a new connection, so the load balancer spreads them over the replicas: a
// session's POSTs mostly land on replicas that do not hold it, which forward them to the one that
// does through the shared session store (Redis).
//
// Every call has its own id; each attempt of it sends the JSON-RPC id "<call id>#<attempt>". An
// attempt that fails before an answer is retried, up to maxAttempts: connection refused or reset,
// HTTP 5xx, a JSON-RPC "shutting down" / "unavailable" error, and for the session transports a
// session the server no longer knows (404) or a stream that ended (the replica holding it stopped):
// the worker then opens a new session, as an MCP client does. An SSE POST whose connection broke
// after it went out (the replica that took it was killed) may still have reached the session's
// replica: the worker waits on the stream for its answer (15 s) before it tries again, as a careful
// client does, or the call would run twice. The summary says how often and why.
// A call counts as answered once ONE answer with its attempt's id arrives and matches `expect` (a
// regular expression over the result's text). An answer with another id, a second answer, or an
// answer to an attempt the client had already given up on (a call run twice) is counted as
// `mismatched`. "lost" = calls with no answer after every attempt. The test wants lost = 0 and
// mismatched = 0.
import { request } from 'node:http';

const config = JSON.parse(process.argv[2] ?? '{}');
const { targets, concurrency = 4, maxAttempts = 10, idPrefix = 'c' } = config;
if (!Array.isArray(targets) || targets.length === 0) {
  process.stderr.write('usage: node e2e/swarm-load.mjs \'{"targets":[...]}\'\n');
  process.exit(2);
}

const PROTOCOL_VERSION = '2025-06-18';
const ANSWER_TIMEOUT_MS = 30_000;
/** How long an SSE client waits on its stream for the answer to a POST whose connection broke. */
const UNKNOWN_OUTCOME_WAIT_MS = 15_000;
/** Failures before the request went out: it cannot have been delivered. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
const RETRYABLE_RPC = new Set([-32018, -32011, -32016, -32020, -32023]); // shutting down, unavailable, too many sessions, forward timeout, store down
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
  sessions: 0,
  reasons: {},
  perTarget: {},
  written: [],
  examples: [],
};
const count = (key) => (summary.reasons[key] = (summary.reasons[key] ?? 0) + 1);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function post(url, body, headers = {}) {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          connection: 'close',
          ...headers,
        },
        agent: false,
        timeout: ANSWER_TIMEOUT_MS,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', (error) => resolve({ error: `response ${error.code ?? error.message}` }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error: error.code ?? error.message }));
    req.end(payload);
  });
}

/** The JSON-RPC messages of a response: one JSON body, or the data lines of an SSE stream. */
function messages(text) {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const parsed = JSON.parse(trimmed);
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  return trimmed
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)));
}

/** The answers (results and errors) of a response, or [] when it is not JSON-RPC. */
function answersOf(text) {
  try {
    return messages(text).filter((message) => 'result' in message || 'error' in message);
  } catch {
    return [];
  }
}

const INITIALIZE = {
  jsonrpc: '2.0',
  method: 'initialize',
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'swarm-load', version: '1' } },
};
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };

/**
 * An attempt's outcome: { answers } (what the server answered), { retry: reason } (failed before
 * an answer, to be tried again), { retry, sessionGone: true } (the same, on a new session).
 */

/** POST /rpc: no session. */
class RpcChannel {
  constructor(url) {
    this.url = `${url}/rpc`;
  }
  async send(body) {
    const response = await post(this.url, body);
    if (response.error) return { retry: response.error };
    const answers = answersOf(response.text);
    if (response.status >= 500 || answers.length === 0) return { retry: httpReason(response, answers) };
    return { answers };
  }
  close() {}
}

function httpReason(response, answers) {
  return `HTTP ${response.status}${answers[0]?.error ? ` ${answers[0].error.code}` : ''}`;
}

/** Streamable HTTP with a session (Mcp-Session-Id); each POST on a new connection. */
class McpSessionChannel {
  constructor(url) {
    this.url = `${url}/mcp`;
    this.sessionId = undefined;
  }
  headers() {
    return {
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL_VERSION,
      ...(this.sessionId && { 'mcp-session-id': this.sessionId }),
    };
  }
  async open() {
    const init = await post(this.url, { ...INITIALIZE, id: 'init' }, this.headers());
    if (init.error) return `initialize: ${init.error}`;
    const id = init.headers['mcp-session-id'];
    if (init.status !== 200 || typeof id !== 'string') return `initialize: HTTP ${init.status}`;
    this.sessionId = id;
    const initialized = await post(this.url, INITIALIZED, this.headers());
    if (initialized.error || initialized.status !== 202) {
      this.sessionId = undefined;
      return `initialized: ${initialized.error ?? `HTTP ${initialized.status}`}`;
    }
    summary.sessions += 1;
    return undefined;
  }
  async send(body) {
    if (!this.sessionId) {
      const failure = await this.open();
      if (failure) return { retry: failure };
    }
    const response = await post(this.url, body, this.headers());
    if (response.error) return { retry: response.error };
    if (response.status === 404) {
      // the replica that held the session is gone: a new one, as the spec says
      this.sessionId = undefined;
      return { retry: 'HTTP 404 (session gone)', sessionGone: true };
    }
    const answers = answersOf(response.text);
    if (response.status >= 500 || answers.length === 0) return { retry: httpReason(response, answers) };
    return { answers };
  }
  close() {
    if (!this.sessionId) return;
    const req = request(this.url, { method: 'DELETE', headers: this.headers(), agent: false, timeout: 5000 });
    req.on('error', () => undefined).on('timeout', () => req.destroy());
    req.end();
  }
}

/** Legacy SSE: a GET /sse stream that carries the answers, POST /messages?sessionId= for the calls. */
class SseChannel {
  constructor(url) {
    this.url = url;
    this.stream = undefined; // { endpoint, request, ended }
    this.pending = new Map(); // attempt id → resolve
    this.abandoned = new Set(); // attempt ids given up on: an answer to one is a call run twice
  }
  connect() {
    return new Promise((resolve) => {
      const stream = { endpoint: undefined, ended: false, request: undefined };
      let buffer = '';
      const end = (reason) => {
        if (stream.ended) return;
        stream.ended = true;
        for (const [id, settle] of this.pending) settle({ retry: `stream ended (${reason})`, sessionGone: true, id });
        this.pending.clear();
        if (this.stream === stream) this.stream = undefined;
        resolve(`GET /sse: ${reason}`);
      };
      const req = request(`${this.url}/sse`, {
        headers: { accept: 'text/event-stream' },
        agent: false,
        timeout: 10_000,
      });
      stream.request = req;
      req.on('timeout', () => {
        if (!stream.endpoint) req.destroy(new Error('timeout'));
      });
      req.on('error', (error) => end(error.code ?? error.message));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          end(`HTTP ${res.statusCode}`);
          return;
        }
        req.setTimeout(0);
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          buffer += chunk;
          let boundary;
          while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
            this.event(stream, block, resolve);
          }
        });
        res.on('end', () => end('closed by the server'));
        res.on('error', (error) => end(error.code ?? error.message));
        res.on('close', () => end('closed'));
      });
      req.end();
    });
  }
  event(stream, block, opened) {
    let name = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length === 0) return; // a heartbeat comment
    if (name === 'endpoint') {
      stream.endpoint = new URL(data.join('\n'), this.url).href;
      this.stream = stream;
      opened(undefined);
      return;
    }
    let message;
    try {
      message = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    if (!('result' in message || 'error' in message)) return;
    const settle = this.pending.get(message.id);
    if (settle) {
      this.pending.delete(message.id);
      settle({ answers: [message] });
    } else {
      summary.mismatched += 1;
      const why = this.abandoned.has(message.id) ? 'an answer after the client gave up (run twice)' : 'unexpected id';
      summary.examples.push({ id: message.id, why, got: JSON.stringify(message).slice(0, 300) });
    }
  }
  /** POSTs a message to the session's endpoint and waits for the answer on the stream. */
  async exchange(body) {
    const stream = this.stream;
    if (!stream) return { retry: 'stream ended', sessionGone: true };
    const answered = new Promise((resolve) => this.pending.set(body.id, resolve));
    const response = await post(stream.endpoint, body);
    const abandon = (outcome) => {
      this.pending.delete(body.id);
      this.abandoned.add(body.id);
      return outcome;
    };
    if (response.error && !NOT_SENT.has(response.error)) {
      // The connection broke after the POST went out (the replica that took it was killed, say):
      // it may have reached the session's replica, whose answer comes on the stream. Wait for it
      // before trying again, as a careful client does, or the call would run twice.
      const outcome = await this.await(answered, UNKNOWN_OUTCOME_WAIT_MS, `POST ${response.error}, no answer`);
      if (outcome.retry) return abandon(outcome);
      return { ...outcome, note: `POST ${response.error}, answered on the stream` };
    }
    if (response.error || response.status !== 202) {
      abandon();
      if (response.status === 404) {
        this.drop();
        return { retry: 'HTTP 404 (session gone)', sessionGone: true };
      }
      const answers = response.error ? [] : answersOf(response.text);
      return { retry: response.error ?? httpReason(response, answers) };
    }
    const outcome = await this.await(answered, ANSWER_TIMEOUT_MS, 'no answer on the stream within 30 s');
    return outcome.retry ? abandon(outcome) : outcome;
  }
  /** The answer, or { retry: reason } after `ms` (or when the stream ends). */
  async await(answered, ms, reason) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ retry: reason }), ms);
    });
    const outcome = await Promise.race([answered, timeout]);
    clearTimeout(timer);
    return outcome;
  }
  async open() {
    const failure = await this.connect();
    if (failure) return failure;
    const init = await this.exchange({ ...INITIALIZE, id: `init-${++sequence}` });
    if (init.retry) return `initialize: ${init.retry}`;
    const initialized = await post(this.stream?.endpoint ?? `${this.url}/messages`, INITIALIZED);
    if (initialized.error || initialized.status !== 202) {
      this.drop();
      return `initialized: ${initialized.error ?? `HTTP ${initialized.status}`}`;
    }
    summary.sessions += 1;
    return undefined;
  }
  drop() {
    const stream = this.stream;
    this.stream = undefined;
    stream?.request.destroy();
  }
  async send(body) {
    if (!this.stream) {
      const failure = await this.open();
      if (failure) {
        this.drop();
        return { retry: failure };
      }
    }
    return this.exchange(body);
  }
  close() {
    this.drop();
  }
}

const CHANNELS = { rpc: RpcChannel, mcp: McpSessionChannel, sse: SseChannel };

async function call(target, channel) {
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
      await sleep(Math.min(100 * attempt, 1000));
    }
    const attemptId = `${id}#${attempt}`;
    const body = {
      jsonrpc: '2.0',
      id: attemptId,
      method: 'tools/call',
      params: { name: target.tool, arguments: args },
    };
    const outcome = await channel.send(body);
    if (outcome.note) count(`${target.name}: ${outcome.note}`);
    if (outcome.retry) {
      count(`${target.name}: ${outcome.retry}`);
      continue;
    }
    const { answers } = outcome;
    if (answers.length !== 1 || answers[0].id !== attemptId) {
      summary.mismatched += 1;
      summary.examples.push({ id: attemptId, got: JSON.stringify(answers).slice(0, 300) });
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
  const Channel = CHANNELS[target.transport];
  if (!Channel) throw new Error(`unknown transport ${target.transport}`);
  const channel = new Channel(target.url);
  while (!stopping) await call(target, channel);
  channel.close();
}

process.once('SIGINT', () => (stopping = true));
process.once('SIGTERM', () => (stopping = true));
const started = Date.now();
await Promise.all(targets.flatMap((target) => Array.from({ length: concurrency }, () => worker(target))));
summary.seconds = Math.round((Date.now() - started) / 100) / 10;
summary.examples = summary.examples.slice(0, 5);
process.stdout.write(`${JSON.stringify(summary)}\n`);
