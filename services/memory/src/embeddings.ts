/**
 * Embedding providers. Every vector leaves here L2-normalised as a Float32Array of exactly
 * `dimensions` numbers, so cosine similarity is a dot product everywhere else.
 *
 * - builtin: hashed features (words, word pairs, character trigrams), signed feature hashing into
 *   `dimensions` buckets. No model, deterministic, fast; it finds shared words and spellings, not
 *   synonyms. The service works out of the box with it.
 * - openai: any OpenAI-compatible POST /v1/embeddings (LiteLLM, Ollama, text-embeddings-inference,
 *   vLLM, OpenAI): batched, with a timeout per request and bounded retries (429 honours
 *   Retry-After). Wrong dimensions and malformed answers are refused, never stored.
 *
 * Plain domain code: no MCP or server imports.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { z } from 'zod';

import { MemoryError } from './errors.js';

/** What the database records, and start-up compares. */
export interface EmbeddingSpec {
  provider: 'builtin' | 'openai';
  model: string;
  dimensions: number;
}

export interface EmbeddingProvider {
  readonly spec: EmbeddingSpec;
  /** One vector per text, in order. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export const BUILTIN_MODEL = 'hashed-ngrams-v1';

export function specLabel(spec: EmbeddingSpec): string {
  return `${spec.provider}:${spec.model} (${spec.dimensions} dimensions)`;
}

/** Scales v to unit length in place; a zero vector stays zero. */
export function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  if (sum > 0) {
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i]! *= scale;
  }
  return v;
}

/** FNV-1a over UTF-16 code units, with a seed per feature kind. */
function fnv1a(text: string, seed: number): number {
  let hash = (0x81_1c_9d_c5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01_00_01_93) >>> 0;
  }
  // A final avalanche so that the low bits (the bucket) and the top bit (the sign) are independent.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85_eb_ca_6b) >>> 0;
  hash ^= hash >>> 13;
  return hash >>> 0;
}

function addFeature(vector: Float32Array, feature: string, seed: number, weight: number): void {
  const hash = fnv1a(feature, seed);
  const bucket = hash % vector.length;
  vector[bucket]! += hash & 0x80_00_00_00 ? -weight : weight;
}

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/** The builtin embedding of one text (deterministic; see the module comment). */
export function hashedEmbedding(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    addFeature(vector, word, 1, 1);
    if (i > 0) addFeature(vector, `${words[i - 1]!} ${word}`, 2, 0.5);
    const padded = `<${word}>`;
    if (padded.length > 3) {
      const weight = 0.6 / Math.sqrt(padded.length - 2);
      for (let j = 0; j + 3 <= padded.length; j++) addFeature(vector, padded.slice(j, j + 3), 3, weight);
    }
  }
  // Text without a letter or digit (punctuation, emoji): its characters, so it still has a direction.
  if (words.length === 0) for (const char of text) addFeature(vector, char, 4, 1);
  return normalise(vector);
}

export function builtinProvider(dimensions: number): EmbeddingProvider {
  return {
    spec: { provider: 'builtin', model: BUILTIN_MODEL, dimensions },
    embed: (texts) => Promise.resolve(texts.map((text) => hashedEmbedding(text, dimensions))),
  };
}

const responseSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()), index: z.number().int().min(0).optional() })).min(1),
});

export interface OpenAiOptions {
  url: string;
  model: string;
  dimensions: number;
  apiKey?: string | undefined;
  batchSize: number;
  timeoutMs: number;
  maxRetries: number;
  /** Longest Retry-After honoured, in ms; longer waits fail at once (default 30 s). */
  maxRetryAfterMs?: number;
  /** Base of the exponential backoff between retries, ms (default 250). */
  backoffMs?: number;
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

export function openAiProvider(options: OpenAiOptions): EmbeddingProvider {
  const spec: EmbeddingSpec = { provider: 'openai', model: options.model, dimensions: options.dimensions };
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const backoffMs = options.backoffMs ?? 250;

  async function once(batch: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let body: string;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(options.apiKey !== undefined && { authorization: `Bearer ${options.apiKey}` }),
        },
        body: JSON.stringify({ model: options.model, input: batch, encoding_format: 'float' }),
        signal: combined,
      });
      body = await response.text();
    } catch (error) {
      signal?.throwIfAborted();
      if (timeout.aborted) throw new Retryable(`no answer within ${options.timeoutMs} ms (EMBEDDINGS_TIMEOUT_MS)`);
      throw new Retryable(
        `cannot reach the endpoint (${(error as Error).cause ? String((error as Error).cause) : (error as Error).message})`,
      );
    }
    if (response.status === 429) {
      const wait = parseRetryAfter(response.headers.get('retry-after'));
      if (wait !== undefined && wait > maxRetryAfterMs) {
        throw new MemoryError(
          'UPSTREAM_FAILED',
          `Embeddings endpoint is rate limiting (429) and asks to wait ${Math.ceil(wait / 1000)} s; try again later`,
        );
      }
      throw new Retryable('rate limited (429)', wait);
    }
    if (response.status >= 500) throw new Retryable(`HTTP ${response.status}`);
    if (!response.ok) {
      throw new MemoryError(
        'UPSTREAM_FAILED',
        `Embeddings endpoint answered HTTP ${response.status} (check EMBEDDINGS_URL, EMBEDDINGS_MODEL and the API key)`,
      );
    }
    let parsed: z.infer<typeof responseSchema>;
    try {
      parsed = responseSchema.parse(JSON.parse(body));
    } catch {
      throw new MemoryError(
        'UPSTREAM_FAILED',
        'Embeddings endpoint sent a malformed answer (expected {"data":[{"embedding":[…]}]})',
      );
    }
    if (parsed.data.length !== batch.length) {
      throw new MemoryError(
        'UPSTREAM_FAILED',
        `Embeddings endpoint returned ${parsed.data.length} vectors for ${batch.length} texts`,
      );
    }
    const ordered = parsed.data.every((item) => item.index !== undefined)
      ? [...parsed.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      : parsed.data;
    return ordered.map((item) => {
      if (item.embedding.length !== options.dimensions) {
        throw new MemoryError(
          'UPSTREAM_FAILED',
          `Embeddings endpoint returned ${item.embedding.length} dimensions; EMBEDDINGS_DIMENSIONS is ${options.dimensions}. ` +
            "Set EMBEDDINGS_DIMENSIONS to the model's size (and re-embed: see the README)",
        );
      }
      if (!item.embedding.every(Number.isFinite)) {
        throw new MemoryError('UPSTREAM_FAILED', 'Embeddings endpoint returned a vector with a non-finite number');
      }
      return normalise(Float32Array.from(item.embedding));
    });
  }

  async function withRetries(batch: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(batch, signal);
      } catch (error) {
        if (!(error instanceof Retryable)) throw error;
        if (attempt >= options.maxRetries) {
          throw new MemoryError(
            'UPSTREAM_FAILED',
            `Embeddings endpoint failed after ${attempt + 1} attempts: ${error.message}`,
          );
        }
        const wait = error.waitMs ?? backoffMs * 2 ** attempt;
        await sleep(wait, undefined, signal ? { signal } : undefined);
      }
    }
  }

  return {
    spec,
    async embed(texts, signal) {
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += options.batchSize) {
        out.push(...(await withRetries(texts.slice(start, start + options.batchSize), signal)));
      }
      return out;
    },
  };
}

export interface EmbeddingSettings {
  EMBEDDINGS: 'builtin' | 'openai';
  EMBEDDINGS_URL?: string | undefined;
  EMBEDDINGS_MODEL?: string | undefined;
  EMBEDDINGS_API_KEY?: string | undefined;
  EMBEDDINGS_API_KEY_FILE?: string | undefined;
  EMBEDDINGS_DIMENSIONS: number;
  EMBEDDINGS_BATCH_SIZE: number;
  EMBEDDINGS_TIMEOUT_MS: number;
  EMBEDDINGS_MAX_RETRIES: number;
}

/** The provider the settings describe (the key file is read once, here). */
export function createProvider(settings: EmbeddingSettings): EmbeddingProvider {
  if (settings.EMBEDDINGS === 'builtin') return builtinProvider(settings.EMBEDDINGS_DIMENSIONS);
  let apiKey = settings.EMBEDDINGS_API_KEY;
  if (settings.EMBEDDINGS_API_KEY_FILE !== undefined) {
    try {
      apiKey = readFileSync(settings.EMBEDDINGS_API_KEY_FILE, 'utf8').trim();
    } catch (error) {
      throw new Error(
        `EMBEDDINGS_API_KEY_FILE: cannot read ${settings.EMBEDDINGS_API_KEY_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  return openAiProvider({
    url: settings.EMBEDDINGS_URL ?? '',
    model: settings.EMBEDDINGS_MODEL ?? '',
    dimensions: settings.EMBEDDINGS_DIMENSIONS,
    apiKey,
    batchSize: settings.EMBEDDINGS_BATCH_SIZE,
    timeoutMs: settings.EMBEDDINGS_TIMEOUT_MS,
    maxRetries: settings.EMBEDDINGS_MAX_RETRIES,
  });
}
