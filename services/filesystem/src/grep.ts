/**
 * Regex matching for grep_files, run in a worker thread so that a pathological pattern (catastrophic
 * backtracking: JavaScript regexes have no time limit) can be stopped: each piece of text sent gets
 * a time budget, and a worker over budget is terminated. Files are streamed to the worker in chunks
 * (the worker keeps the line state), so memory stays at a chunk and a line whatever the file's size;
 * the pattern is capped in length, lines are searched in their first GREP_MAX_LINE_CHARS characters,
 * and callers cap the file size, the bytes read per call and the number of matches.
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
/** A line is searched in its first this many characters (the rest of a longer line is skipped). */
export const GREP_MAX_LINE_CHARS = 1024 * 1024;

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

export interface GrepOptions {
  source: string;
  contextLines: number;
  maxHits: number;
  /** Lines are clipped to this many characters in the answer. */
  maxLineChars: number;
  /** Lines are searched in their first this many characters. */
  maxSearchChars?: number;
  /** Stop once the hits weigh about this much (characters of text and context): the answer could not carry more. */
  maxHitChars?: number;
}

export interface LineMatcher {
  /** Feeds text; `final` ends the file. Returns true once enough hits were found (stop reading). */
  push(text: string, final: boolean): boolean;
  readonly hits: GrepHit[];
}

/**
 * A streaming line matcher over the chunks of one file. Self-contained on purpose: the worker runs
 * its source text (Function.prototype.toString), so it must not use anything from outside its body.
 */
export function createLineMatcher(options: GrepOptions): LineMatcher {
  const regex = new RegExp(options.source);
  const context = options.contextLines;
  const maxSearch = options.maxSearchChars ?? 1024 * 1024;
  const clip = (line: string): string =>
    line.length > options.maxLineChars ? `${line.slice(0, options.maxLineChars)}…` : line;
  const hits: GrepHit[] = [];
  const before: string[] = [];
  let pending: GrepHit[] = [];
  let lineNumber = 0;
  let carry = '';
  let carryFull = false; // the current line is longer than maxSearch: the rest is skipped
  let done = false;
  let hitChars = 0;
  const maxHitChars = options.maxHitChars ?? Infinity;

  const onLine = (raw: string) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    lineNumber += 1;
    const clipped = clip(line);
    if (pending.length > 0) {
      for (const hit of pending) (hit.after as string[]).push(clipped);
      hitChars += pending.length * (clipped.length + 4);
      pending = pending.filter((hit) => (hit.after as string[]).length < context);
    }
    if (hits.length < options.maxHits && hitChars <= maxHitChars && regex.test(line)) {
      const hit: GrepHit = { line: lineNumber, text: clipped };
      hitChars += clipped.length + 40;
      if (context > 0) {
        hit.before = before.slice();
        for (const kept of before) hitChars += kept.length + 4;
        hit.after = [];
        pending.push(hit);
      }
      hits.push(hit);
    }
    if (context > 0) {
      before.push(clipped);
      if (before.length > context) before.shift();
    }
    if ((hits.length >= options.maxHits || hitChars > maxHitChars) && pending.length === 0) done = true;
  };

  return {
    hits,
    push(text, final) {
      let start = 0;
      while (!done && start < text.length) {
        const newline = text.indexOf('\n', start);
        const end = newline === -1 ? text.length : newline;
        if (!carryFull) {
          carry += text.slice(start, Math.min(end, start + maxSearch - carry.length));
          if (carry.length >= maxSearch && newline === -1) carryFull = true;
        }
        if (newline === -1) break;
        onLine(carry);
        carry = '';
        carryFull = false;
        start = newline + 1;
      }
      if (final && !done && carry !== '') {
        onLine(carry);
        carry = '';
      }
      return done;
    },
  };
}

// `__name`: the helper esbuild (tsx) inserts into functions to keep their names; under tsc it is unused.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const __name = (fn) => fn;
const createLineMatcher = ${createLineMatcher.toString()};
let matcher;
parentPort.on('message', (message) => {
  try {
    if (message.op === 'begin') {
      matcher = createLineMatcher(message.options);
      parentPort.postMessage({ id: message.id });
      return;
    }
    const done = matcher.push(message.text, message.final);
    parentPort.postMessage({ id: message.id, done, hits: message.final || done ? matcher.hits : undefined });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String(error && error.message) });
  }
});
`;

interface WorkerReply {
  id: number;
  done?: boolean;
  hits?: GrepHit[];
  error?: string;
}

/** The heap a grep worker may use: a chunk, a long line (GREP_MAX_LINE_CHARS) and the hits fit in it. */
const WORKER_HEAP_MB = 32;

/**
 * One worker per grep call; each file is `begin`, then `push` chunks (each under the time budget).
 * Always `close()` it.
 */
export class RegexWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private label = '';

  constructor(
    /** Longest one chunk of text may take, in ms. */
    private readonly budgetMs: number,
  ) {}

  /** Starts a file; `label` names it in errors. */
  async begin(options: GrepOptions, label: string, signal?: AbortSignal): Promise<void> {
    this.label = label;
    await this.send({ op: 'begin', options }, signal);
  }

  /** Sends the next piece of the file. Returns the hits when the file is done or enough were found. */
  async push(text: string, final: boolean, signal?: AbortSignal): Promise<{ done: boolean; hits?: GrepHit[] }> {
    const reply = await this.send({ op: 'chunk', text, final }, signal);
    return { done: reply.done === true, hits: reply.hits };
  }

  /** A whole text at once (tests and small files). */
  async match(options: GrepOptions & { text: string }, label: string, signal?: AbortSignal): Promise<GrepHit[]> {
    const { text, ...rest } = options;
    await this.begin(rest, label, signal);
    return (await this.push(text, true, signal)).hits ?? [];
  }

  private send(message: Record<string, unknown>, signal?: AbortSignal): Promise<WorkerReply> {
    signal?.throwIfAborted();
    const worker = (this.worker ??= new Worker(WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 4 },
    }));
    const id = (this.nextId += 1);
    const label = this.label;
    return new Promise<WorkerReply>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
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
        else resolve(reply);
      };
      const onError = (error: Error & { code?: string }) =>
        kill(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new FsError('PAYLOAD_TOO_LARGE', `Searching ${label} needed more than ${WORKER_HEAP_MB} MB; narrow it`)
            : error,
        );
      const onExit = () => kill(new Error('the regex worker stopped'));
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
      worker.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ id, ...message });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
