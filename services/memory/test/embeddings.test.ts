/**
 * The embeddings providers: the builtin hashed n-grams, and the OpenAI-compatible client against a
 * local stand-in server that can answer well, slowly, with 429, 5xx, wrong dimensions or garbage.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { builtinProvider, hashedEmbedding, openAiProvider, parseRetryAfter } from '../src/embeddings.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe('builtin embeddings', () => {
  it('are deterministic unit vectors of the configured size', () => {
    const a = hashedEmbedding('The user prefers dark mode', 384);
    expect(a).toHaveLength(384);
    expect(Math.sqrt(dot(a, a))).toBeCloseTo(1, 5);
    expect(hashedEmbedding('The user prefers dark mode', 384)).toEqual(a);
    expect(hashedEmbedding('x', 64)).toHaveLength(64);
  });

  it('put texts that share words and spellings closer than unrelated ones', () => {
    const base = hashedEmbedding('The user prefers dark mode in the editor', 384);
    const near = hashedEmbedding('dark mode preferred by the user', 384);
    const far = hashedEmbedding('Quarterly revenue grew in Brazil', 384);
    expect(dot(base, near)).toBeGreaterThan(dot(base, far) + 0.2);
    // Case and Unicode width fold.
    expect(dot(hashedEmbedding('DARK MODE', 384), hashedEmbedding('ｄａｒｋ mode', 384))).toBeCloseTo(1, 5);
  });

  it('give text without letters a direction too', () => {
    const v = hashedEmbedding('🎉🎉 !!!', 384);
    expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
  });

  it('report their spec', async () => {
    const provider = builtinProvider(128);
    expect(provider.spec).toEqual({ provider: 'builtin', model: 'hashed-ngrams-v1', dimensions: 128 });
    expect((await provider.embed(['a', 'b'])).map((v) => v.length)).toEqual([128, 128]);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

type Behaviour = (
  request: { body: { model: string; input: string[] }; headers: IncomingMessage['headers'] },
  res: ServerResponse,
) => void;

describe('OpenAI-compatible embeddings against a local stand-in', () => {
  let server: Server;
  let url: string;
  let behaviours: Behaviour[];
  let requests: { body: { model: string; input: string[] }; headers: IncomingMessage['headers'] }[];

  const vectors = (input: string[], dims: number) =>
    input.map((text, index) => ({
      index,
      embedding: Array.from({ length: dims }, (_, i) => (i === text.length % dims ? 3 : 0)),
    }));
  const ok =
    (dims = 8): Behaviour =>
    (request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Answered in reverse order: the client must sort by index.
      res.end(
        JSON.stringify({
          object: 'list',
          data: vectors(request.body.input, dims).reverse(),
          model: request.body.model,
        }),
      );
    };
  const status =
    (code: number, headers: Record<string, string> = {}): Behaviour =>
    (_request, res) => {
      res.writeHead(code, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { message: 'nope' } }));
    };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const request = { body: JSON.parse(text) as { model: string; input: string[] }, headers: req.headers };
        requests.push(request);
        (behaviours.shift() ?? ok())(request, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/embeddings`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    behaviours = [];
    requests = [];
  });

  const provider = (overrides: Partial<Parameters<typeof openAiProvider>[0]> = {}) =>
    openAiProvider({
      url,
      model: 'embed-small',
      dimensions: 8,
      apiKey: 'sk-test',
      batchSize: 2,
      timeoutMs: 2000,
      maxRetries: 2,
      backoffMs: 1,
      ...overrides,
    });

  it('sends batches with the model and the key, and returns unit vectors in input order', async () => {
    const out = await provider().embed(['a', 'bb', 'ccc']);
    expect(requests.map((request) => request.body.input)).toEqual([['a', 'bb'], ['ccc']]);
    expect(requests[0]?.body.model).toBe('embed-small');
    expect(requests[0]?.headers.authorization).toBe('Bearer sk-test');
    expect(out.map((v) => Array.from(v).indexOf(1))).toEqual([1, 2, 3]);
  });

  it('retries a 429, honouring Retry-After, and a 5xx', async () => {
    behaviours = [status(429, { 'retry-after': '0' }), status(503), ok()];
    const out = await provider().embed(['a']);
    expect(out).toHaveLength(1);
    expect(requests).toHaveLength(3);
  });

  it('gives up after the retries with a clear error', async () => {
    behaviours = [status(500), status(500), status(500)];
    await expect(provider().embed(['a'])).rejects.toMatchObject({
      code: 'UPSTREAM_FAILED',
      message: 'Embeddings endpoint failed after 3 attempts: HTTP 500',
    });
    expect(requests).toHaveLength(3);
  });

  it('refuses a Retry-After longer than it will wait', async () => {
    behaviours = [status(429, { 'retry-after': '3600' })];
    await expect(provider().embed(['a'])).rejects.toThrow('rate limiting (429) and asks to wait 3600 s');
    expect(requests).toHaveLength(1);
  });

  it('times out a request that does not answer, and retries it', async () => {
    const hang: Behaviour = () => undefined;
    behaviours = [hang, hang];
    await expect(provider({ timeoutMs: 150, maxRetries: 1 }).embed(['a'])).rejects.toThrow(
      'failed after 2 attempts: no answer within 150 ms (EMBEDDINGS_TIMEOUT_MS)',
    );
  });

  it('refuses vectors of the wrong dimension, naming both', async () => {
    behaviours = [ok(16)];
    await expect(provider().embed(['a'])).rejects.toThrow('returned 16 dimensions; EMBEDDINGS_DIMENSIONS is 8');
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'hello'],
    ['no data', '{"object":"list"}'],
    ['strings for numbers', '{"data":[{"index":0,"embedding":["1","2"]}]}'],
    ['empty data', '{"data":[]}'],
  ])('refuses a malformed answer (%s)', async (_label, body) => {
    behaviours = [(_request, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body)];
    await expect(provider().embed(['a'])).rejects.toThrow('Embeddings endpoint sent a malformed answer');
  });

  it('refuses the wrong number of vectors', async () => {
    behaviours = [
      (request, res) => res.writeHead(200).end(JSON.stringify({ data: vectors(request.body.input, 8).slice(1) })),
    ];
    await expect(provider().embed(['a', 'b'])).rejects.toThrow('returned 1 vectors for 2 texts');
  });

  it('does not retry a 401, and says what to check', async () => {
    behaviours = [status(401)];
    await expect(provider().embed(['a'])).rejects.toThrow(
      'answered HTTP 401 (check EMBEDDINGS_URL, EMBEDDINGS_MODEL and the API key)',
    );
    expect(requests).toHaveLength(1);
  });

  it('stops waiting when the caller gives up', async () => {
    behaviours = [() => undefined];
    const controller = new AbortController();
    const pending = provider({ timeoutMs: 60_000 }).embed(['a'], controller.signal);
    controller.abort(new Error('cancelled by the caller'));
    await expect(pending).rejects.toThrow('cancelled by the caller');
  });
});
