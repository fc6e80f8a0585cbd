/**
 * Points in time as callers write them: RFC 3339 (`2026-11-29T03:00:00Z`, `…+01:00`, fractional
 * seconds), relative to now (`90s`, `15m`, `2h`, `1d`, `1w`: that long ago) or `now`. A window is
 * [since, until]; every result states the one it covered, as RFC 3339 in UTC.
 */
import { MonitoringError, shown } from './errors.js';

const RELATIVE = /^(\d{1,6})(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
// Full RFC 3339 date-time: the time zone is required (a bare local time would depend on the server's zone).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** A point in time with nanosecond precision where the caller or the engine gave it. */
export interface Instant {
  /** Milliseconds since the epoch. */
  ms: number;
  /** Nanoseconds within the millisecond (0–999999), kept so that engine timestamps round-trip exactly. */
  subMsNanos: number;
}

export const TIME_HELP = 'RFC 3339 (2026-11-29T03:00:00Z), a relative age (30s, 15m, 2h, 1d, 1w) or "now"';

/** Parses `text` as an instant; `now` is the reference for relative forms. */
export function parseInstant(text: string, now: number, field: string): Instant {
  const value = text.trim();
  if (value === 'now') return { ms: now, subMsNanos: 0 };
  const relative = RELATIVE.exec(value);
  if (relative) {
    const amount = Number(relative[1]);
    const unit = relative[2] as keyof typeof UNIT_MS;
    return { ms: now - amount * UNIT_MS[unit], subMsNanos: 0 };
  }
  const match = RFC3339.exec(value);
  if (!match) throw new MonitoringError('INVALID_INPUT', `${field}: ${shown(text)} is not a time: use ${TIME_HELP}`);
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = fields;
  const base = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(base);
  // Date.UTC rolls 2026-02-30 over to March: a date that does not exist is refused instead.
  if (
    mo < 1 ||
    mo > 12 ||
    h > 23 ||
    mi > 59 ||
    s > 59 ||
    check.getUTCDate() !== d ||
    check.getUTCMonth() !== mo - 1 ||
    y < 1970
  ) {
    throw new MonitoringError('INVALID_INPUT', `${field}: ${shown(text)} is not a valid date and time`);
  }
  let offsetMs = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [oh, om] = zone.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59)
      throw new MonitoringError('INVALID_INPUT', `${field}: ${shown(text)} has an invalid offset`);
    offsetMs = sign * (oh * 60 + om) * 60_000;
  }
  const nanos = fraction === '' ? 0 : Number(fraction.slice(1).padEnd(9, '0'));
  return { ms: base - offsetMs + Math.floor(nanos / 1_000_000), subMsNanos: nanos % 1_000_000 };
}

/** The window of a call: `since` may be open (from the beginning); `until` is always set (default now). */
export interface TimeWindow {
  since: Instant | undefined;
  until: Instant;
  /** True when `until` was later than now and was moved back to now (nothing after now exists yet). */
  untilClamped: boolean;
}

export interface WindowInput {
  since?: string | undefined;
  until?: string | undefined;
}

/** Parses and checks a window: since before until; an `until` in the future becomes now. */
export function parseWindow(input: WindowInput, now: number, defaultSince?: string): TimeWindow {
  const sinceText = input.since ?? defaultSince;
  const since = sinceText === undefined ? undefined : parseInstant(sinceText, now, 'since');
  let until = input.until === undefined ? { ms: now, subMsNanos: 0 } : parseInstant(input.until, now, 'until');
  let untilClamped = false;
  if (until.ms > now) {
    until = { ms: now, subMsNanos: 0 };
    untilClamped = true;
  }
  if (since !== undefined && compareInstants(since, until) > 0) {
    throw new MonitoringError(
      'INVALID_INPUT',
      `since (${formatInstant(since)}) is after until (${formatInstant(until)}): the window is empty`,
    );
  }
  return { since, until, untilClamped };
}

export function compareInstants(a: Instant, b: Instant): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.subMsNanos - b.subMsNanos;
}

/** RFC 3339 in UTC, with nanoseconds when the instant has them (`2026-11-29T03:00:00.123456789Z`). */
export function formatInstant(instant: Instant): string {
  const iso = new Date(instant.ms).toISOString(); // …T03:00:00.123Z
  if (instant.subMsNanos === 0) return iso;
  return `${iso.slice(0, -1)}${String(instant.subMsNanos).padStart(6, '0')}Z`;
}

/** The engine's `since`/`until` query form: Unix seconds with a nanosecond fraction ("1732849200.123456789"). */
export function toEngineTime(instant: Instant): string {
  const seconds = Math.floor(instant.ms / 1000);
  const nanos = (instant.ms - seconds * 1000) * 1_000_000 + instant.subMsNanos;
  return `${seconds}.${String(nanos).padStart(9, '0')}`;
}

/** Loki's form: integer nanoseconds since the epoch, as a decimal string. */
export function toUnixNanos(instant: Instant): string {
  return (BigInt(instant.ms) * 1_000_000n + BigInt(instant.subMsNanos)).toString();
}

/** Parses Loki's nanosecond string timestamp. */
export function fromUnixNanos(text: string): Instant | undefined {
  if (!/^\d{1,20}$/.test(text)) return undefined;
  const nanos = BigInt(text);
  return { ms: Number(nanos / 1_000_000n), subMsNanos: Number(nanos % 1_000_000n) };
}

/** Parses an engine timestamp (RFC 3339 with up to nine fraction digits, as the log and event streams write them). */
export function parseEngineTimestamp(text: string): Instant | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  try {
    return parseInstant(text, 0, 'timestamp');
  } catch {
    return undefined;
  }
}

/** The window as results state it. */
export function describeWindow(window: TimeWindow): { since: string | null; until: string } {
  return { since: window.since === undefined ? null : formatInstant(window.since), until: formatInstant(window.until) };
}
