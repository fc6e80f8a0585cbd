/**
 * Reads in child processes (the core's ProcessPool, as sqlite's database processes): searches,
 * lists, tag counts and stats run there, so the event loop of the service stays free whatever the
 * size of the database, and an abandoned read (timeout, cancellation, disconnect) is stopped by
 * SIGKILL, the only way to stop SQLite mid-statement. At most `workers` children live at once;
 * further requests wait in a bounded queue, beyond which they are refused (UNAVAILABLE).
 *
 * No child runs until the first read (an idle service holds only its own process); that read starts
 * the others too, idle, so that the reads after it do not each wait for a process to start.
 *
 * Plain domain code: no MCP or server imports.
 */
import { childEntry } from '@mcp-sse/core/child-entry';
import { ProcessPool, startChild } from '@mcp-sse/core/process-pool';

import { MemoryError } from './errors.js';
import type { QueryProcessSettings, QueryReply, QueryRequest } from './query-protocol.js';

export interface QueryPoolOptions extends QueryProcessSettings {
  workers: number;
  maxQueued: number;
}

export class QueryPool extends ProcessPool<QueryRequest, QueryReply> {
  private warmed = false;

  constructor(private readonly settings: Readonly<QueryPoolOptions>) {
    const entry = childEntry(import.meta.url, 'query-entry');
    const processSettings: QueryProcessSettings = { path: settings.path, busyTimeoutMs: settings.busyTimeoutMs };
    super({
      start: () => startChild({ entry, args: [JSON.stringify(processSettings)] }),
      workers: settings.workers,
      maxQueued: settings.maxQueued,
      what: 'reads',
      outcome: (reply) =>
        reply.ok
          ? { ok: true, result: reply.result }
          : { ok: false, error: new MemoryError(reply.error.code, reply.error.message) },
      errors: {
        closed: () => new MemoryError('UNAVAILABLE', 'The memory database is closed'),
        full: (message) => new MemoryError('UNAVAILABLE', message),
        failed: (cause) => new MemoryError('INTERNAL', 'Internal memory error', { cause }),
        died: () => new MemoryError('INTERNAL', 'The query process stopped unexpectedly'),
      },
      startAllWithFirstCall: true,
    });
  }

  /**
   * Starts every child and has each load the binary codes, so that the searches that follow do not
   * pay for it; once per pool. Failures are left for the next real request to report.
   */
  warm(): void {
    if (this.warmed) return;
    this.warmed = true;
    for (let i = 0; i < this.settings.workers; i++) this.run({ op: 'warm', args: {} }).catch(() => undefined);
  }
}
