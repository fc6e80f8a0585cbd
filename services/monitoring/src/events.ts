/**
 * The engine's events (GET /events) for a closed window: `until` is always sent (default now), so
 * the engine replays what it has and closes the stream instead of following it. The body is
 * newline-delimited JSON; at most `limit` events are kept, and reading stops (the connection is
 * closed) at the first one beyond, or at a byte cap. Attributes carry the container's labels:
 * they are masked like inspect's labels.
 */
import { StringDecoder } from 'node:string_decoder';

import type { Engine } from './engine.js';
import { engineEventSchema } from './engine-schemas.js';
import { MonitoringError } from './errors.js';
import { maskLabels } from './masking.js';
import { formatInstant, type Instant, type TimeWindow, toEngineTime } from './time-window.js';

export const EVENT_TYPES = [
  'container',
  'image',
  'volume',
  'network',
  'daemon',
  'plugin',
  'node',
  'service',
  'secret',
  'config',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventEntry {
  time: string;
  type: string;
  action: string;
  id: string | null;
  name: string | null;
  image: string | null;
  exit_code: number | null;
  attributes: Record<string, string>;
}

export interface EventsResult {
  events: EventEntry[];
  truncated: boolean;
  next_since?: string;
}

const MAX_EVENT_LINE = 256 * 1024;

function eventInstant(timeNano: number | null | undefined, time: number | null | undefined): Instant {
  if (typeof timeNano === 'number' && timeNano > 0) {
    // timeNano exceeds 2^53: the last digits are lost in JSON numbers; milliseconds are exact enough.
    const ms = Math.floor(timeNano / 1_000_000);
    return { ms, subMsNanos: 0 };
  }
  return { ms: (time ?? 0) * 1000, subMsNanos: 0 };
}

export async function readEvents(
  engine: Engine,
  options: {
    window: TimeWindow;
    type?: EventType | undefined;
    containerId?: string | undefined;
    limit: number;
    signal?: AbortSignal | undefined;
  },
): Promise<EventsResult> {
  const filters: Record<string, string[]> = {};
  if (options.type !== undefined) filters['type'] = [options.type];
  if (options.containerId !== undefined) {
    filters['container'] = [options.containerId];
    filters['type'] ??= ['container'];
  }
  const query = {
    since: options.window.since === undefined ? undefined : toEngineTime(options.window.since),
    until: toEngineTime(options.window.until),
    filters: Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined,
  };
  const stream = await engine.getStream('/events', { query, signal: options.signal });
  const result: EventsResult = { events: [], truncated: false };
  let buffered = '';
  const decoder = new StringDecoder('utf8');
  const onAbort = () => stream.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const take = (line: string): boolean => {
    if (line.trim() === '') return true;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new MonitoringError('UPSTREAM_FAILED', 'The Docker engine sent an event that is not JSON', {
        cause: error,
      });
    }
    const parsed = engineEventSchema.safeParse(json);
    if (!parsed.success) {
      throw new MonitoringError('UPSTREAM_FAILED', 'The Docker engine sent an event of an unexpected shape', {
        cause: parsed.error,
      });
    }
    const event = parsed.data;
    const instant = eventInstant(event.timeNano, event.time);
    if (result.events.length >= options.limit) {
      result.truncated = true;
      result.next_since = formatInstant(instant);
      return false;
    }
    const attributes = event.Actor?.Attributes ?? {};
    const exitCode = attributes['exitCode'];
    result.events.push({
      time: formatInstant(instant),
      type: event.Type ?? 'unknown',
      action: event.Action ?? 'unknown',
      id: event.Actor?.ID ?? null,
      name: attributes['name'] ?? null,
      image: attributes['image'] ?? null,
      exit_code: exitCode !== undefined && /^-?\d+$/.test(exitCode) ? Number(exitCode) : null,
      attributes: maskLabels(attributes),
    });
    return true;
  };
  try {
    outer: for await (const chunk of stream as AsyncIterable<Buffer>) {
      buffered += decoder.write(chunk);
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!take(line)) break outer;
      }
      if (buffered.length > MAX_EVENT_LINE) {
        throw new MonitoringError(
          'UPSTREAM_FAILED',
          `The Docker engine sent an event longer than ${MAX_EVENT_LINE} bytes`,
        );
      }
    }
    if (!result.truncated) {
      options.signal?.throwIfAborted();
      take(buffered + decoder.end());
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
  return result;
}
