/**
 * Regex filtering of log lines with a bounded cost. JavaScript regexes backtrack and have no time
 * limit, so a pattern like `(a+)+$` can take minutes on one line. Patterns are therefore:
 *
 * - compiled here first (syntax errors come back at once, with the engine's message), at most
 *   MAX_PATTERN_LENGTH characters; a leading `(?i)` (LogQL's and RE2's spelling) means case-insensitive;
 * - matched in a worker thread, batch by batch, under a time budget for the whole call: when the
 *   matching time passes it, the worker is terminated (the only way to stop a regex) and the call
 *   fails with a message that says so. The event loop never runs the pattern.
 *
 * Each call that filters gets its own worker (started on first batch, ended with the call).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

import { MonitoringError, shown } from './errors.js';

export const MAX_PATTERN_LENGTH = 512;

export interface CompiledPattern {
  source: string;
  flags: string;
}

/** Checks and normalises a pattern (`(?i)` prefix → the `i` flag). */
export function compilePattern(pattern: string, field = 'grep'): CompiledPattern {
  if (pattern.length === 0) throw new MonitoringError('INVALID_INPUT', `${field}: the pattern is empty`);
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new MonitoringError('INVALID_INPUT', `${field}: the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    new RegExp(source, flags);
  } catch (error) {
    throw new MonitoringError(
      'INVALID_INPUT',
      `${field}: invalid regular expression ${shown(pattern)}: ${(error as Error).message}`,
    );
  }
  return { source, flags };
}

// Runs in the worker: self-contained (it is sent as source text).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let regex;
parentPort.on('message', (message) => {
  if (message.compile) { regex = new RegExp(message.compile.source, message.compile.flags); return; }
  const hits = [];
  const lines = message.lines;
  for (let i = 0; i < lines.length; i++) if (regex.test(lines[i])) hits.push(i);
  parentPort.postMessage({ id: message.id, hits });
});
`;

interface Reply {
  id: number;
  hits: number[];
}

/** Matches batches of lines against one pattern under a total time budget. Always `close()` it. */
export class LineMatcher {
  private worker: Worker | undefined;
  private nextId = 0;
  private spentMs = 0;

  constructor(
    private readonly pattern: CompiledPattern,
    /** Total matching time this call may use, in ms. */
    private readonly budgetMs: number,
    private readonly label = 'grep',
  ) {}

  /** Indexes of the lines that match. */
  async match(lines: readonly string[], signal?: AbortSignal): Promise<number[]> {
    if (lines.length === 0) return [];
    signal?.throwIfAborted();
    let worker = this.worker;
    if (!worker) {
      worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 64 } });
      this.worker = worker;
      // Starting a thread is not matching time: the budget starts once it runs.
      await once(worker, 'online');
      worker.postMessage({ compile: this.pattern });
    }
    const id = (this.nextId += 1);
    const started = performance.now();
    const left = Math.max(1, this.budgetMs - this.spentMs);
    const current = worker;
    return new Promise<number[]>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        current.off('message', onMessage);
        current.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
        this.spentMs += performance.now() - started;
      };
      const kill = (error: Error) => {
        cleanup();
        // A regex stuck in backtracking cannot be interrupted any other way.
        void current.terminate();
        this.worker = undefined;
        reject(error);
      };
      const onMessage = (reply: Reply) => {
        if (reply.id !== id) return;
        cleanup();
        resolve(reply.hits);
      };
      const onError = (error: Error) =>
        kill(new MonitoringError('INVALID_INPUT', `${this.label}: the pattern failed: ${error.message}`));
      const onAbort = () => kill(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      const timer = setTimeout(
        () =>
          kill(
            new MonitoringError(
              'TIMEOUT',
              `${this.label}: the pattern used more than ${this.budgetMs} ms of matching time (catastrophic backtracking?): ` +
                'simplify it (avoid nested quantifiers such as (a+)+) or narrow the window',
            ),
          ),
        left,
      );
      current.on('message', onMessage);
      current.on('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
      current.postMessage({ id, lines });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
