/**
 * The Docker engine client: dockerode over the socket (or a TCP endpoint such as a socket proxy),
 * with three guarantees the tools rely on:
 *
 * - Only GET is ever sent, unless restarts are allowed, and then the one extra request that can be
 *   sent is `POST /containers/<full id>/restart`. The check sits on dockerode's `modem.dial`, the
 *   single path every dockerode call takes, so no code path (ours or the library's) can send more.
 *   The one request that does not go through dockerode is /health's fixed `GET /_ping` (ping()).
 * - Every body is read as a stream with a byte cap, and every request carries the call's abort
 *   signal and an idle timeout: nothing waits or buffers without bound.
 * - Engine failures become clear MonitoringErrors (not reachable, permission denied, no such
 *   container); the engine's own message is kept where it describes the caller's request.
 */
import { type IncomingMessage, request as httpRequest } from 'node:http';

import type Docker from 'dockerode';
import type { z } from 'zod';

import { MonitoringError } from './errors.js';

/** Where the engine listens. */
export type EngineAddress = { socketPath: string } | { protocol: 'http'; host: string; port: number };

/** The address named by DOCKER_HOST (`unix:///path`, `tcp://host:port`, `http://host:port`) or the socket path. */
export function parseEngineAddress(dockerHost: string | undefined, socketPath: string): EngineAddress {
  if (dockerHost === undefined) return { socketPath };
  if (dockerHost.startsWith('unix://')) {
    const path = dockerHost.slice('unix://'.length);
    if (!path.startsWith('/'))
      throw new Error('DOCKER_HOST: unix:// needs an absolute socket path (unix:///var/run/docker.sock)');
    return { socketPath: path };
  }
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw new Error('DOCKER_HOST: expected unix:///path/to/docker.sock, tcp://host:port or http://host:port');
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:') {
    throw new Error(
      `DOCKER_HOST: ${url.protocol}// is not supported (unix://, tcp:// and http:// are; TLS and ssh are not)`,
    );
  }
  if (url.username !== '' || url.password !== '')
    throw new Error('DOCKER_HOST: credentials in the URL are not supported');
  if (url.pathname !== '/' && url.pathname !== '') throw new Error('DOCKER_HOST: a path prefix is not supported');
  const port = url.port === '' ? 2375 : Number(url.port);
  return { protocol: 'http', host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

export function describeAddress(address: EngineAddress): string {
  return 'socketPath' in address ? `unix://${address.socketPath}` : `tcp://${address.host}:${address.port}`;
}

export interface EngineOptions {
  address: EngineAddress;
  /** A request whose connection is idle this long fails (ms). */
  timeoutMs: number;
  /** Allows the one write request: POST /containers/<id>/restart. */
  allowRestart: boolean;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined> | undefined;
  signal?: AbortSignal | undefined;
  /** Most bytes of body read; more is an error (JSON) or the caller's stop (streams). */
  maxBytes?: number | undefined;
}

const RESTART_PATH = /^\/containers\/[0-9a-f]{64}\/restart$/;

/** Whether the guard lets `method path` through (the path without its query string). */
export function isAllowedRequest(method: string, path: string, allowRestart: boolean): boolean {
  if (method === 'GET') return true;
  return allowRestart && method === 'POST' && RESTART_PATH.test(path);
}

const DEFAULT_JSON_LIMIT = 32 * 1024 * 1024;

export class Engine {
  readonly description: string;
  private dockerode: Promise<Docker> | undefined;

  constructor(private readonly options: EngineOptions) {
    this.description = describeAddress(options.address);
  }

  /**
   * dockerode, its modem guarded, loaded on the first tool request rather than at start (with
   * docker-modem and ssh2 it was about 20 MB resident and 100 ms of start, and /health's ping does
   * not need it).
   */
  docker(): Promise<Docker> {
    this.dockerode ??= import('dockerode').then(({ default: Dockerode }) => this.guarded(Dockerode));
    return this.dockerode;
  }

  private guarded(Dockerode: typeof Docker): Docker {
    const { address } = this.options;
    const docker = new Dockerode({
      ...('socketPath' in address ? { socketPath: address.socketPath } : address),
      timeout: this.options.timeoutMs,
    });
    // The one gate: every dockerode request, whatever method built it, goes through modem.dial.
    const modem = docker.modem;
    const dial = modem.dial.bind(modem);
    const allowRestart = this.options.allowRestart;
    modem.dial = (dialOptions, callback) => {
      const method = (dialOptions.method ?? 'GET').toUpperCase();
      const path = dialOptions.path.split('?')[0] ?? '';
      if (!isAllowedRequest(method, path, allowRestart)) {
        const error = new MonitoringError(
          'FORBIDDEN',
          `Refused ${method} ${path}: this service only reads from the Docker engine` +
            (allowRestart ? ' (and restarts containers)' : ' (MONITORING_ALLOW_RESTART is off)'),
        );
        if (callback) callback(error, null);
        else throw error;
        return;
      }
      dial(dialOptions, callback);
    };
    return docker;
  }

  /** GET `path` and parse the body as JSON, validated by `schema`. */
  async getJson<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    const stream = await this.open('GET', path, options);
    const body = await readCapped(stream, options.maxBytes ?? DEFAULT_JSON_LIMIT, options.signal, path);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new MonitoringError('UPSTREAM_FAILED', `The Docker engine sent invalid JSON for ${path}`, { cause: error });
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      throw new MonitoringError('UPSTREAM_FAILED', `The Docker engine's answer for ${path} has an unexpected shape`, {
        cause: result.error,
      });
    }
    return result.data;
  }

  /** GET `path` as a stream (logs, events): the caller reads what it needs and destroys it. */
  async getStream(path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    return this.open('GET', path, options);
  }

  /**
   * The engine's /_ping (health check), with node's own HTTP client rather than dockerode, so that
   * /health does not load it: a GET of one fixed path, which the guard lets through anyway. Failures
   * read as the tools' do (the same translation).
   */
  async ping(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { address, timeoutMs } = this.options;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(
        {
          ...('socketPath' in address
            ? { socketPath: address.socketPath }
            : { host: address.host, port: address.port }),
          path: '/_ping',
          method: 'GET',
          timeout: timeoutMs,
          ...(signal && { signal }),
        },
        resolve,
      );
      // As docker-modem does with an idle request: end it, which reads as a reset.
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ECONNRESET' })));
      request.on('error', (error) => reject(this.translate(error, '/_ping')));
      request.end();
    });
    const body = await readCapped(response, 1024, signal, '/_ping');
    if (response.statusCode !== 200) {
      const error = Object.assign(new Error(`HTTP ${response.statusCode}`), {
        statusCode: response.statusCode,
        json: parseJson(body),
      });
      throw this.translate(error, '/_ping');
    }
  }

  /** POST /containers/<id>/restart: only when restarts are allowed (the dial guard checks again). */
  async restart(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
    if (!this.options.allowRestart) {
      throw new MonitoringError('FORBIDDEN', 'Restarting containers is off (MONITORING_ALLOW_RESTART=false)');
    }
    const stream = await this.open('POST', `/containers/${id}/restart`, { query: { t: timeoutSeconds }, signal });
    await readCapped(stream, 64 * 1024, signal, 'restart');
  }

  private async open(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    options.signal?.throwIfAborted();
    const query = Object.fromEntries(
      Object.entries(options.query ?? {}).flatMap(([key, value]) => (value === undefined ? [] : [[key, value]])),
    );
    const docker = await this.docker();
    return new Promise<IncomingMessage>((resolve, reject) => {
      docker.modem.dial(
        {
          // The modem appends the query string only to a path that ends in "?".
          path: `${path}?`,
          method,
          options: query,
          isStream: true,
          statusCodes: {
            200: true,
            204: true,
            304: true,
            400: 'bad request',
            404: 'not found',
            409: 'conflict',
            500: 'server error',
            503: 'unavailable',
          },
          ...(options.signal && { abortSignal: options.signal }),
        },
        (error, result) => {
          if (error) reject(this.translate(error, path));
          else resolve(result as IncomingMessage);
        },
      );
    });
  }

  private translate(error: unknown, path: string): Error {
    if (error instanceof MonitoringError) return error;
    const err = error as Error & { code?: string; statusCode?: number; json?: unknown; name?: string };
    if (err.name === 'AbortError') return err;
    const engineMessage = engineErrorMessage(err);
    switch (err.statusCode) {
      case 404:
        return new MonitoringError('NOT_FOUND', engineMessage ?? `Not found: ${path}`, { cause: err });
      case 400:
        return new MonitoringError(
          'INVALID_INPUT',
          `The Docker engine refused the request: ${engineMessage ?? 'bad request'}`,
          { cause: err },
        );
      case 409:
        return new MonitoringError('CONFLICT', engineMessage ?? 'Conflict', { cause: err });
      case 501:
        return new MonitoringError(
          'UNAVAILABLE',
          `The Docker engine cannot do this here: ${engineMessage ?? 'not implemented'}`,
          {
            cause: err,
            kind: 'unsupported',
          },
        );
      case undefined:
        break;
      default:
        return new MonitoringError(
          'UPSTREAM_FAILED',
          `The Docker engine failed (HTTP ${err.statusCode}): ${engineMessage ?? 'no message'}`,
          { cause: err },
        );
    }
    const where = this.description;
    switch (err.code) {
      case 'ENOENT':
        return new MonitoringError(
          'UNAVAILABLE',
          `No Docker engine socket at ${where} (mount /var/run/docker.sock or set DOCKER_HOST)`,
          { cause: err },
        );
      case 'EACCES':
      case 'EPERM':
        return new MonitoringError(
          'UNAVAILABLE',
          `Permission denied on the Docker socket ${where}: the service's user needs the socket's group (compose group_add)`,
          { cause: err },
        );
      case 'ECONNRESET':
        // docker-modem ends a request idle past its timeout by destroying it: it surfaces as a reset.
        return new MonitoringError(
          'UNAVAILABLE',
          `The Docker engine at ${where} closed the connection or did not answer within DOCKER_TIMEOUT_MS (${this.options.timeoutMs} ms)`,
          { cause: err },
        );
      case 'ECONNREFUSED':
      case 'EPIPE':
      case 'EHOSTUNREACH':
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new MonitoringError('UNAVAILABLE', `The Docker engine at ${where} is not reachable (${err.code})`, {
          cause: err,
        });
      default:
        break;
    }
    if (/timeout|socket hang up/i.test(err.message)) {
      return new MonitoringError('UNAVAILABLE', `The Docker engine at ${where} did not answer in time`, { cause: err });
    }
    return new MonitoringError('UPSTREAM_FAILED', `The Docker engine request failed (${err.code ?? 'error'})`, {
      cause: err,
    });
  }
}

/** A body as JSON, or undefined when it is not (the engine's error bodies are `{"message": "..."}`). */
function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The engine's own error text (`{"message": "..."}`), cut short. */
function engineErrorMessage(error: { json?: unknown; message: string }): string | undefined {
  const json = error.json;
  let message: string | undefined;
  if (json && typeof json === 'object' && 'message' in json && typeof json.message === 'string') message = json.message;
  else if (typeof json === 'string' && json.trim() !== '') message = json.trim();
  else {
    // docker-modem puts the cause after " - " in its message: "(HTTP code 404) not found - No such container: x "
    const dash = error.message.indexOf(' - ');
    if (dash >= 0) message = error.message.slice(dash + 3).trim();
  }
  if (message === undefined || message === '') return undefined;
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** Reads a whole body, failing once it passes `maxBytes` (the stream is destroyed then, not drained). */
export async function readCapped(
  stream: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const onAbort = () => stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        stream.destroy();
        throw new MonitoringError(
          'PAYLOAD_TOO_LARGE',
          `The Docker engine's answer for ${what} is larger than ${maxBytes} bytes`,
        );
      }
      chunks.push(chunk);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks);
}
