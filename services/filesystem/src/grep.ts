/**
 * Regex matching for grep_files, run in a worker thread so that a pathological pattern (catastrophic
 * backtracking: JavaScript regexes have no time limit) can be stopped: each file gets a time budget,
 * and a worker over budget is terminated. The pattern is also capped in length, and callers cap the
 * file size and the number of matches.
 */
import { Worker } from 'node:worker_threads';

import { FsError } from './path-guard.js';

export interface GrepHit {
  line: number;
  text: string;
  before?: string[];
  after?: string[];
}

export const MAX_REGEX_LENGTH = 1000;

/** Compiles the pattern once on the calling side, so syntax errors come back as a clear message. */
export function checkRegex(source: string): void {
  if (source.length === 0) throw new FsError('INVALID_INPUT', 'regex must not be empty');
  if (source.length > MAX_REGEX_LENGTH) {
    throw new FsError('INVALID_INPUT', `regex is longer than ${MAX_REGEX_LENGTH} characters`);
  }
  try {
    new RegExp(source);
  } catch (error) {
    throw new FsError('INVALID_INPUT', `Invalid regex: ${(error as Error).message}`);
  }
}

/**
 * Finds the lines of `text` that match. Self-contained on purpose: the worker runs its source text
 * (Function.prototype.toString), so it must not use anything from outside its own body.
 */
export function matchText(
  text: string,
  source: string,
  contextLines: number,
  maxHits: number,
  maxLineChars: number,
): GrepHit[] {
  const regex = new RegExp(source);
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const clip = (line: string): string => (line.length > maxLineChars ? `${line.slice(0, maxLineChars)}…` : line);
  const hits: GrepHit[] = [];
  for (let index = 0; index < lines.length && hits.length < maxHits; index += 1) {
    const line = lines[index] as string;
    if (!regex.test(line)) continue;
    const hit: GrepHit = { line: index + 1, text: clip(line) };
    if (contextLines > 0) {
      hit.before = lines.slice(Math.max(0, index - contextLines), index).map(clip);
      hit.after = lines.slice(index + 1, index + 1 + contextLines).map(clip);
    }
    hits.push(hit);
  }
  return hits;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const matchText = ${matchText.toString()};
parentPort.on('message', (message) => {
  try {
    const hits = matchText(message.text, message.source, message.context, message.max, message.maxLineChars);
    parentPort.postMessage({ id: message.id, hits });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String(error && error.message) });
  }
});
`;

interface WorkerReply {
  id: number;
  hits?: GrepHit[];
  error?: string;
}

export interface MatchRequest {
  text: string;
  source: string;
  contextLines: number;
  maxHits: number;
  maxLineChars: number;
}

/** One worker per grep call; `match` runs one file under a time budget. Always `close()` it. */
export class RegexWorker {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(
    /** Longest one file may take, in ms. */
    private readonly budgetMs: number,
  ) {}

  async match(request: MatchRequest, label: string, signal?: AbortSignal): Promise<GrepHit[]> {
    signal?.throwIfAborted();
    const worker = (this.worker ??= new Worker(WORKER_SOURCE, { eval: true }));
    const id = (this.nextId += 1);
    return new Promise<GrepHit[]>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
      };
      const kill = (error: unknown) => {
        cleanup();
        // A regex stuck in backtracking cannot be interrupted any other way.
        void worker.terminate();
        this.worker = undefined;
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.id !== id) return;
        cleanup();
        if (reply.error !== undefined) reject(new FsError('INVALID_INPUT', `Invalid regex: ${reply.error}`));
        else resolve(reply.hits ?? []);
      };
      const onError = (error: Error) => kill(error);
      const onAbort = () => kill(signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(
        () =>
          kill(
            new FsError(
              'TIMEOUT',
              `The regex took longer than ${this.budgetMs} ms on ${label} (catastrophic backtracking?); simplify it`,
            ),
          ),
        this.budgetMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({
        id,
        text: request.text,
        source: request.source,
        context: request.contextLines,
        max: request.maxHits,
        maxLineChars: request.maxLineChars,
      });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
