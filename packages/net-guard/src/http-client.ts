import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';

import { FetchError, isFetchError } from './fetch-error.js';
import { loadUndici } from './load-undici.js';
import { type CheckedTarget, pinnedLookup, type SsrfGuard } from './ssrf-guard.js';

/**
 * A GET-only HTTP client on undici in which every hop (the first URL and each redirect target) goes
 * through the SSRF guard and connects only to the addresses the guard checked. Redirects are
 * followed here, never by undici, so that no hop escapes the check.
 */

export interface HttpClientOptions {
  guard: SsrfGuard;
  userAgent: string;
  /** The whole exchange (all hops, headers and body) must finish within this. */
  timeoutMs: number;
  maxBodyBytes: number;
  maxRedirects: number;
  /** Extra trust anchors for TLS (a private CA); the system store is used otherwise. */
  ca?: string | Buffer | (string | Buffer)[];
  /** The settings named in timeout and redirect errors (the fetch service's by default). */
  settings?: { timeoutMs?: string; maxRedirects?: string };
}

export interface GetOptions {
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Overrides the client's body cap for this request (robots.txt uses a smaller one). */
  maxBodyBytes?: number;
  /** Runs before each hop is requested (robots.txt check); may throw to stop the request. */
  beforeHop?: (url: URL, signal: AbortSignal) => Promise<void>;
}

export interface HttpResponse {
  /** The URL asked for, after parsing. */
  url: string;
  /** The URL of the response that was returned, after redirects. */
  finalUrl: string;
  status: number;
  headers: Record<string, string>;
  contentType: string | undefined;
  /** The decoded (gunzipped) body, at most maxBodyBytes. */
  body: Buffer;
  /** True when the body was cut at maxBodyBytes. */
  truncated: boolean;
  /** Every redirect target, in order. */
  redirects: string[];
}

export interface HttpClient {
  get(url: string | URL, options?: GetOptions): Promise<HttpResponse>;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers the caller may not set: the client owns framing, identity and encoding. */
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'keep-alive',
  'expect',
  'proxy-authorization',
  'proxy-connection',
  'accept-encoding',
  'user-agent',
]);

/** The only caller headers that survive a redirect to another origin (credentials never do). */
const CROSS_ORIGIN_SAFE_HEADERS = new Set(['accept', 'accept-language']);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validates caller-supplied headers; returns them with lower-case names. */
export function sanitizeHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers ?? {})) {
    const name = rawName.toLowerCase();
    if (!TOKEN.test(name)) throw new FetchError('INVALID_INPUT', `invalid header name ${JSON.stringify(rawName)}`);
    if (RESERVED_HEADERS.has(name)) {
      const hint = name === 'user-agent' ? ' (set FETCH_USER_AGENT instead)' : '';
      throw new FetchError('INVALID_INPUT', `header "${rawName}" cannot be set${hint}`);
    }
    if (/[\r\n\0]/.test(value)) {
      throw new FetchError('INVALID_INPUT', `header "${rawName}" contains a line break or NUL`);
    }
    out[name] = value;
  }
  return out;
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function decoderFor(encoding: string | undefined): NodeJS.ReadWriteStream | undefined {
  const value = (encoding ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return undefined;
  // createUnzip detects gzip and zlib-wrapped deflate from the header bytes.
  if (value === 'gzip' || value === 'x-gzip' || value === 'deflate') return createUnzip();
  if (value === 'br') return createBrotliDecompress();
  throw new FetchError('UNSUPPORTED_CONTENT', `unsupported content-encoding: ${value}`);
}

/** Abandons a body unread; undici reports that as an 'error' event that nobody needs to see. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * Reads a body up to `cap` decoded bytes. The cap counts bytes after decompression, so a small
 * gzip bomb is stopped like a large plain body; the rest of the stream is abandoned unread.
 */
export async function readCapped(
  body: Readable,
  contentEncoding: string | undefined,
  cap: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const decoder = decoderFor(contentEncoding);
  let source: AsyncIterable<Buffer> = body;
  if (decoder !== undefined) {
    // pipeline destroys both sides if either fails or the consumer stops early.
    source = pipeline(body, decoder, () => undefined) as unknown as AsyncIterable<Buffer>;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  try {
    for await (const chunk of source) {
      const room = cap - total;
      if (chunk.length > room) {
        if (room > 0) chunks.push(chunk.subarray(0, room));
        total += Math.max(room, 0);
        truncated = true;
        break;
      }
      chunks.push(chunk);
      total += chunk.length;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code.startsWith('ERR_BROTLI') || code.startsWith('ERR__')) {
      throw new FetchError('UNSUPPORTED_CONTENT', `could not decode the ${contentEncoding} response body`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    if (truncated) discard(body);
  }
  return { body: Buffer.concat(chunks, total), truncated };
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  // autoSelectFamily failures arrive as an AggregateError of per-address errors.
  if (Array.isArray(e.errors)) return errorCode(e.errors[0]);
  if (e.cause !== undefined && e.cause !== error) return errorCode(e.cause);
  return undefined;
}

function translateError(error: unknown, hostPort: string): FetchError {
  if (isFetchError(error)) return error;
  const code = errorCode(error);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new FetchError('TIMEOUT', `connecting to ${hostPort} timed out`, { cause: error });
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new FetchError('TIMEOUT', `${hostPort} stopped responding`, { cause: error });
    case 'ECONNREFUSED':
      return new FetchError('CONNECT', `connection refused by ${hostPort}`, { cause: error });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return new FetchError('CONNECT', `connection to ${hostPort} closed unexpectedly`, { cause: error });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new FetchError('CONNECT', `${hostPort} is unreachable`, { cause: error });
    default:
      break;
  }
  if (code !== undefined && /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)) {
    return new FetchError('CONNECT', `TLS handshake with ${hostPort} failed (${code})`, { cause: error });
  }
  return new FetchError('CONNECT', `request to ${hostPort} failed${code ? ` (${code})` : ''}`, { cause: error });
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { guard, userAgent, timeoutMs, maxRedirects } = options;
  const timeoutSetting = options.settings?.timeoutMs ?? 'FETCH_TIMEOUT_MS';
  const redirectSetting = options.settings?.maxRedirects ?? 'FETCH_MAX_REDIRECTS';

  /** One request to one checked target, on a connection pinned to the checked addresses. */
  async function requestOnce(
    target: CheckedTarget,
    headers: Record<string, string>,
    signal: AbortSignal,
    cap: number,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer; truncated: boolean }> {
    const { Agent, request } = await loadUndici();
    // A fresh agent per hop: its only way to an address is the pinned lookup, and no pooled
    // connection made for another hop can be reused.
    const agent = new Agent({
      connect: { lookup: pinnedLookup(target), timeout: timeoutMs, ...(options.ca ? { ca: options.ca } : {}) },
      connections: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    try {
      const url = new URL(target.url);
      url.hash = '';
      const response = await request(url, {
        method: 'GET',
        dispatcher: agent,
        signal,
        headers: {
          accept: 'text/html,application/xhtml+xml,application/json;q=0.9,text/plain;q=0.8,*/*;q=0.5',
          ...headers,
          'user-agent': userAgent,
          'accept-encoding': 'gzip, deflate, br',
        },
      });
      const responseHeaders = flattenHeaders(response.headers);
      if (REDIRECT_STATUSES.has(response.statusCode) && responseHeaders['location'] !== undefined) {
        discard(response.body);
        return { status: response.statusCode, headers: responseHeaders, body: Buffer.alloc(0), truncated: false };
      }
      const read = await readCapped(response.body, responseHeaders['content-encoding'], cap);
      return { status: response.statusCode, headers: responseHeaders, ...read };
    } finally {
      await agent.destroy().catch(() => undefined);
    }
  }

  async function get(input: string | URL, getOptions: GetOptions = {}): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = getOptions.signal ? AbortSignal.any([getOptions.signal, timeout]) : timeout;
    const cap = getOptions.maxBodyBytes ?? options.maxBodyBytes;
    let url = guard.parseUrl(input);
    const requested = url.href;
    let headers = sanitizeHeaders(getOptions.headers);
    const redirects: string[] = [];
    let hostPort = url.host;
    try {
      for (;;) {
        signal.throwIfAborted();
        hostPort = url.host;
        await getOptions.beforeHop?.(url, signal);
        const target = await guard.check(url);
        signal.throwIfAborted();
        const hop = await requestOnce(target, headers, signal, cap);
        const location = hop.headers['location'];
        if (REDIRECT_STATUSES.has(hop.status) && location !== undefined) {
          let next: URL;
          try {
            next = new URL(location, url);
          } catch (error) {
            throw new FetchError('CONNECT', `${hostPort} sent an invalid redirect location`, { cause: error });
          }
          if (redirects.length >= maxRedirects) {
            throw new FetchError(
              'TOO_MANY_REDIRECTS',
              `stopped after ${maxRedirects} redirects (${redirectSetting}); the next one was to ${next.href}`,
            );
          }
          next = guard.parseUrl(next);
          if (next.origin !== url.origin) {
            headers = Object.fromEntries(
              Object.entries(headers).filter(([name]) => CROSS_ORIGIN_SAFE_HEADERS.has(name)),
            );
          }
          redirects.push(next.href);
          url = next;
          continue;
        }
        return {
          url: requested,
          finalUrl: url.href,
          status: hop.status,
          headers: hop.headers,
          contentType: hop.headers['content-type'],
          body: hop.body,
          truncated: hop.truncated,
          redirects,
        };
      }
    } catch (error) {
      if (timeout.aborted) {
        throw new FetchError('TIMEOUT', `timed out after ${timeoutMs} ms fetching ${requested} (${timeoutSetting})`, {
          cause: error,
        });
      }
      if (getOptions.signal?.aborted) throw new FetchError('CANCELLED', `fetching ${requested} was cancelled`);
      throw translateError(error, hostPort);
    }
  }

  return { get };
}
