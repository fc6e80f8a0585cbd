/**
 * A Loki client for the three read endpoints the tools use (Loki's HTTP API, /loki/api/v1):
 * `query_range` (LogQL: log streams or metric matrices), `labels` and `label/<name>/values`, plus
 * `/ready` for /health. The tenant goes in `X-Scope-OrgID`; credentials (basic or bearer) come from
 * the settings or their `_FILE` secrets, read once at start-up and never shown. Every request has a
 * timeout and the call's abort signal, and its body is read with a byte cap.
 */
import { readFileSync } from 'node:fs';

import { loadUndici } from '@mcp-sse/net-guard/undici';
import type { request } from 'undici';
import { z } from 'zod';

import { MonitoringError } from './errors.js';
import { type Instant, toUnixNanos } from './time-window.js';

export type LokiAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface LokiSettings {
  url: string;
  tenant?: string | undefined;
  auth?: LokiAuth | undefined;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface LokiSecretSource {
  LOKI_USERNAME?: string | undefined;
  LOKI_PASSWORD?: string | undefined;
  LOKI_PASSWORD_FILE?: string | undefined;
  LOKI_TOKEN?: string | undefined;
  LOKI_TOKEN_FILE?: string | undefined;
}

function readSecretFile(variable: string, path: string): string {
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new Error(`${variable}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (value === '') throw new Error(`${variable}: ${path} is empty`);
  return value;
}

/** The credentials the settings name (the config schema has already refused conflicting ones). */
export function resolveLokiAuth(source: LokiSecretSource): LokiAuth | undefined {
  const token =
    source.LOKI_TOKEN_FILE !== undefined
      ? readSecretFile('LOKI_TOKEN_FILE', source.LOKI_TOKEN_FILE)
      : source.LOKI_TOKEN;
  if (token !== undefined) return { kind: 'bearer', token };
  const password =
    source.LOKI_PASSWORD_FILE !== undefined
      ? readSecretFile('LOKI_PASSWORD_FILE', source.LOKI_PASSWORD_FILE)
      : source.LOKI_PASSWORD;
  if (source.LOKI_USERNAME !== undefined && password !== undefined) {
    return { kind: 'basic', username: source.LOKI_USERNAME, password };
  }
  return undefined;
}

const streamsResult = z.object({
  resultType: z.literal('streams'),
  result: z.array(
    z.object({ stream: z.record(z.string(), z.string()), values: z.array(z.tuple([z.string(), z.string()])) }),
  ),
});
const matrixResult = z.object({
  resultType: z.literal('matrix'),
  result: z.array(
    z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) }),
  ),
});
const vectorResult = z.object({
  resultType: z.literal('vector'),
  result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
});
const queryRangeSchema = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [streamsResult, matrixResult, vectorResult]),
});
export type LokiQueryData = z.infer<typeof queryRangeSchema>['data'];

const labelsSchema = z.object({ status: z.literal('success'), data: z.array(z.string()).nullish() });

/** Prometheus/Loki label name grammar. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class LokiClient {
  private readonly base: URL;

  constructor(private readonly settings: LokiSettings) {
    this.base = new URL(settings.url.endsWith('/') ? settings.url : `${settings.url}/`);
  }

  get url(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  async queryRange(
    query: string,
    window: { since: Instant; until: Instant },
    limit: number,
    signal?: AbortSignal,
  ): Promise<LokiQueryData> {
    const params = {
      query,
      start: toUnixNanos(window.since),
      end: toUnixNanos(window.until),
      limit: String(limit),
      direction: 'backward',
    };
    const body = await this.get('loki/api/v1/query_range', params, signal);
    return parseWith(queryRangeSchema, body, 'query_range').data;
  }

  async labels(window: { since: Instant; until: Instant }, signal?: AbortSignal): Promise<string[]> {
    const body = await this.get(
      'loki/api/v1/labels',
      { start: toUnixNanos(window.since), end: toUnixNanos(window.until) },
      signal,
    );
    return parseWith(labelsSchema, body, 'labels').data ?? [];
  }

  async labelValues(
    label: string,
    window: { since: Instant; until: Instant },
    query: string | undefined,
    signal?: AbortSignal,
  ): Promise<string[]> {
    if (!LABEL_NAME.test(label))
      throw new MonitoringError('INVALID_INPUT', `label: not a label name (${LABEL_NAME.source})`);
    const params: Record<string, string> = { start: toUnixNanos(window.since), end: toUnixNanos(window.until) };
    if (query !== undefined) params['query'] = query;
    const body = await this.get(`loki/api/v1/label/${label}/values`, params, signal);
    return parseWith(labelsSchema, body, 'label values').data ?? [];
  }

  async ready(signal?: AbortSignal): Promise<void> {
    await this.get('ready', {}, signal, false);
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.settings.tenant !== undefined) headers['x-scope-orgid'] = this.settings.tenant;
    const auth = this.settings.auth;
    if (auth?.kind === 'bearer') headers['authorization'] = `Bearer ${auth.token}`;
    else if (auth?.kind === 'basic') {
      headers['authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    return headers;
  }

  private async get(path: string, params: Record<string, string>, signal?: AbortSignal, json = true): Promise<string> {
    const url = new URL(path, this.base);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Awaited<ReturnType<typeof request>>;
    try {
      // Loaded with the first Loki request (about 20 MB resident): /health without Loki needs none.
      // undici's request follows no redirects: a redirect is answered as an unexpected status.
      const { request } = await loadUndici();
      response = await request(url, { method: 'GET', headers: this.headers(), signal: combined });
    } catch (error) {
      throw this.failure(error, timeout, signal);
    }
    let text: string;
    try {
      text = await readBody(response.body, this.settings.maxResponseBytes);
    } catch (error) {
      if (error instanceof MonitoringError) throw error;
      throw this.failure(error, timeout, signal);
    }
    const status = response.statusCode;
    if (status >= 200 && status < 300) return json ? text : '';
    const message = text.trim().slice(0, 500) || 'no message';
    if (status === 400) throw new MonitoringError('INVALID_INPUT', `Loki refused the query: ${message}`);
    if (status === 401 || status === 403) {
      throw new MonitoringError(
        'UPSTREAM_FAILED',
        `Loki refused the credentials (HTTP ${status}): check LOKI_USERNAME/LOKI_PASSWORD or LOKI_TOKEN, and LOKI_TENANT`,
      );
    }
    if (status === 404)
      throw new MonitoringError(
        'UPSTREAM_FAILED',
        `Loki has no ${url.pathname} (HTTP 404): is LOKI_URL the Loki base URL?`,
      );
    if (status === 429)
      throw new MonitoringError('UNAVAILABLE', `Loki is rate limiting queries (HTTP 429): ${message}`);
    throw new MonitoringError('UPSTREAM_FAILED', `Loki failed (HTTP ${status}): ${message}`);
  }

  private failure(error: unknown, timeout: AbortSignal, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted');
    if (timeout.aborted) {
      return new MonitoringError(
        'TIMEOUT',
        `Loki did not answer within ${this.settings.timeoutMs} ms (LOKI_TIMEOUT_MS)`,
        { cause: error },
      );
    }
    const code = (error as { code?: string }).code ?? (error as Error).name;
    return new MonitoringError('UNAVAILABLE', `Loki at ${this.url} is not reachable (${code})`, { cause: error });
  }
}

async function readBody(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new MonitoringError(
        'PAYLOAD_TOO_LARGE',
        `Loki's answer is larger than ${maxBytes} bytes (LOKI_MAX_RESPONSE_BYTES): lower limit or narrow the query`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseWith<S extends z.ZodType>(schema: S, text: string, what: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MonitoringError('UPSTREAM_FAILED', `Loki's ${what} answer is not JSON`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new MonitoringError('UPSTREAM_FAILED', `Loki's ${what} answer has an unexpected shape`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
