/**
 * Live events from the outbox. The hub learns that the outbox may have grown in three ways:
 * - right after a write of this process commits (notify()),
 * - fs.watch on the database's folder: any process committing to the file writes its -wal file,
 *   and the kernel tells us at once (inotify on Linux). The notice comes with the WAL write, before
 *   the writer's fsync and its update of the shared WAL index (a memory map, which raises no notice),
 *   so one look at that moment can miss the commit: after a notice the hub looks every millisecond
 *   for HOT_WINDOW_MS (each look is one index lookup, a few microseconds),
 * - a slow poll (EVENTS_POLL_MS) in case a notice is lost (network file systems, a WAL reset).
 * Each time it reads max(id) of the outbox (one index lookup); when that grew, each subscriber
 * reads the new rows from its own cursor, in order, pausing while its socket is full. So every
 * committed change reaches every reader, in commit order, whichever process wrote it.
 *
 * Plain domain code: no MCP or server imports.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

import type Database from 'better-sqlite3';

import { eventsAfter, newestEventId, type OutboxEvent, prunedThrough } from './writes.js';

/** How long the hub keeps looking after a file notice (ms): longer than a slow fsync. */
const HOT_WINDOW_MS = 250;

export interface Subscriber {
  /** Called with the newest id when the outbox grew past what this subscriber has. */
  wake(newest: number): void;
}

export interface EventHubOptions {
  path: string;
  pollMs: number;
  onError?: (error: unknown) => void;
}

export class EventHub {
  private newest: number;
  private readonly subscribers = new Set<Subscriber>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private scheduled = false;
  private hotUntil = 0;
  private hotTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly options: EventHubOptions,
  ) {
    this.newest = newestEventId(db);
  }

  start(): void {
    const file = basename(this.options.path);
    try {
      this.watcher = watch(dirname(this.options.path), { persistent: false }, (_event, name) => {
        if (name === null || name === `${file}-wal` || name === file) this.noticed();
      });
      this.watcher.on('error', (error) => this.options.onError?.(error));
    } catch (error) {
      this.options.onError?.(error);
    }
    this.poll = setInterval(() => this.check(), this.options.pollMs);
    this.poll.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.hotTimer) clearTimeout(this.hotTimer);
    if (this.poll) clearInterval(this.poll);
    this.subscribers.clear();
  }

  /** The newest event id seen. */
  get newestId(): number {
    return this.newest;
  }

  /** A write of this process committed: look now. */
  notify(): void {
    this.check();
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Events after `cursor`, at most `limit`, in order. */
  read(cursor: number, limit: number): OutboxEvent[] {
    return eventsAfter(this.db, cursor, limit);
  }

  /** The highest pruned id: a resume from below it has missed events. */
  prunedThrough(): number {
    return prunedThrough(this.db);
  }

  /** A file changed: look now, then every millisecond for a while (see the module comment). */
  private noticed(): void {
    this.hotUntil = performance.now() + HOT_WINDOW_MS;
    this.schedule();
    if (this.hotTimer === undefined) this.hot();
  }

  private hot(): void {
    this.hotTimer = setTimeout(() => {
      this.hotTimer = undefined;
      this.check();
      if (performance.now() < this.hotUntil) this.hot();
    }, 1);
    this.hotTimer.unref();
  }

  /** Several file notices per commit (pages, then the sync) are folded into one look. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.check();
    });
  }

  private check(): void {
    let newest: number;
    try {
      newest = newestEventId(this.db);
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    if (newest <= this.newest) return;
    this.newest = newest;
    for (const subscriber of this.subscribers) subscriber.wake(newest);
  }
}
