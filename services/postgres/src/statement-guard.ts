import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { ErrorCode } from '@mcp-sse/core';
import { childEntry } from '@mcp-sse/core/child-entry';

import { DatabaseError } from './errors.js';
import {
  type AccessMode,
  type AllowedFunctions,
  analyzeStatement,
  loadSqlParser,
  type StatementAnalysis,
  type StatementPurpose,
} from './sql-guard.js';
import type { GuardRequest } from './sql-guard-worker.js';

/**
 * Statements up to this many characters are checked on the event loop (well under a millisecond);
 * longer ones (up to the 100,000 execute_sql accepts, which can take the parser 100 ms and more) go
 * to a worker thread, so that no call blocks the others while its statement is parsed.
 */
export const INLINE_CHECK_CHARS = 2048;
/** Checked statements remembered (repeated statements skip the parser), each at most INLINE_CHECK_CHARS long. */
const CACHE_ENTRIES = 512;

type WorkerAnswer =
  | { id: number; analysis: StatementAnalysis }
  | { id: number; error: { code: ErrorCode; message: string; sqlstate?: string } };

/** Checks statements with sql-guard.ts, on the event loop or in a worker, and remembers recent verdicts. */
export class StatementGuard {
  private readonly cache = new Map<string, StatementAnalysis>();
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: StatementAnalysis): void; reject(error: Error): void }>();

  constructor(
    readonly mode: AccessMode,
    readonly allowed: AllowedFunctions,
  ) {}

  async check(sql: string, purpose: StatementPurpose, signal?: AbortSignal): Promise<StatementAnalysis> {
    const key = `${purpose}\u0000${sql}`;
    const cached = this.cache.get(key);
    if (cached) {
      // Most recently used last: Map keeps insertion order, so the oldest is evicted first.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    if (sql.length > INLINE_CHECK_CHARS) return this.checkInWorker(sql, purpose, signal);
    await loadSqlParser();
    const analysis = analyzeStatement(sql, this.mode, purpose, this.allowed);
    this.cache.set(key, analysis);
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return analysis;
  }

  private checkInWorker(sql: string, purpose: StatementPurpose, signal?: AbortSignal): Promise<StatementAnalysis> {
    const worker = this.startWorker();
    const id = this.nextId++;
    return new Promise<StatementAnalysis>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        reject(new DatabaseError('CANCELLED', 'The call was cancelled while its statement was being checked.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      const request: GuardRequest = { id, sql, mode: this.mode, purpose, allowed: [...this.allowed] };
      worker.postMessage(request);
    });
  }

  private startWorker(): Worker {
    if (this.worker) return this.worker;
    let worker: Worker;
    if (import.meta.url.endsWith('.ts')) {
      // From source (tests, tsx): tsx's API loads the TypeScript worker in this thread.
      const api = createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs');
      const source = new URL('./sql-guard-worker.ts', import.meta.url).href;
      const bootstrap = `const { tsImport } = await import(${JSON.stringify(pathToFileURL(api).href)}); await tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)});`;
      worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
    } else {
      // tsc's sql-guard-worker.js, or in the image the worker entry's own bundle.
      worker = new Worker(childEntry(import.meta.url, 'sql-guard-worker').path);
    }
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if ('analysis' in answer) waiting.resolve(answer.analysis);
      else {
        const { code, message, sqlstate } = answer.error;
        waiting.reject(
          code === 'INTERNAL'
            ? new Error(`statement check failed: ${message}`)
            : new DatabaseError(code, message, sqlstate === undefined ? {} : { sqlstate }),
        );
      }
    });
    const fail = (error: Error) => {
      this.worker = undefined;
      for (const [, waiting] of this.pending) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.worker === worker) fail(new Error(`the statement checker stopped (exit code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
