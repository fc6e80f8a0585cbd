import { describe, expect, it } from 'vitest';

import {
  formatInstant,
  fromUnixNanos,
  parseEngineTimestamp,
  parseInstant,
  parseWindow,
  toEngineTime,
  toUnixNanos,
} from '../src/time-window.js';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0); // 2026-11-29T12:00:00Z

describe('parseInstant', () => {
  it('reads relative ages in every unit', () => {
    const cases: [string, number][] = [
      ['30s', 30_000],
      ['15m', 15 * 60_000],
      ['2h', 2 * 3_600_000],
      ['1d', 86_400_000],
      ['1w', 7 * 86_400_000],
      ['0s', 0],
    ];
    for (const [text, ago] of cases) expect(parseInstant(text, NOW, 'since')).toEqual({ ms: NOW - ago, subMsNanos: 0 });
    expect(parseInstant('now', NOW, 'until')).toEqual({ ms: NOW, subMsNanos: 0 });
  });

  it('reads RFC 3339 with Z, offsets, lower-case t/z and up to nine fraction digits', () => {
    expect(formatInstant(parseInstant('2026-11-29T03:00:00Z', NOW, 'since'))).toBe('2026-11-29T03:00:00.000Z');
    expect(formatInstant(parseInstant('2026-11-29T04:30:00+01:30', NOW, 'since'))).toBe('2026-11-29T03:00:00.000Z');
    expect(formatInstant(parseInstant('2026-11-28T22:00:00-05:00', NOW, 'since'))).toBe('2026-11-29T03:00:00.000Z');
    expect(formatInstant(parseInstant('2026-11-29t03:00:00.5z', NOW, 'since'))).toBe('2026-11-29T03:00:00.500Z');
    const nanos = parseInstant('2026-11-29T03:00:00.123456789Z', NOW, 'since');
    expect(nanos).toEqual({ ms: Date.UTC(2026, 10, 29, 3, 0, 0, 123), subMsNanos: 456789 });
    expect(formatInstant(nanos)).toBe('2026-11-29T03:00:00.123456789Z');
    expect(toEngineTime(nanos)).toBe(`${Date.UTC(2026, 10, 29, 3) / 1000}.123456789`);
    expect(toUnixNanos(nanos)).toBe(`${Date.UTC(2026, 10, 29, 3, 0, 0, 123)}456789`);
    expect(fromUnixNanos(toUnixNanos(nanos))).toEqual(nanos);
    expect(parseEngineTimestamp('2026-11-29T03:00:00.000000001Z')).toEqual({
      ms: Date.UTC(2026, 10, 29, 3),
      subMsNanos: 1,
    });
  });

  it('refuses everything else with a message naming the field and the accepted forms', () => {
    const bad = [
      '',
      'yesterday',
      '15 m',
      '-15m',
      '15min',
      '1y',
      '1e3s',
      '9999999s',
      '2026-11-29',
      '2026-11-29T03:00:00',
      '2026-11-29T03:00Z',
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-11-29T24:00:00Z',
      '2026-11-29T03:60:00Z',
      '2026-11-29T03:00:00+25:00',
      '1969-12-31T23:59:59Z',
      '2026-11-29T03:00:00.1234567890Z',
      '１５m',
      '15m; id',
      '$(date)',
    ];
    for (const text of bad) {
      expect(() => parseInstant(text, NOW, 'since'), text).toThrow(/^since: /);
    }
    expect(() => parseInstant('soon', NOW, 'until')).toThrow(
      'until: "soon" is not a time: use RFC 3339 (2026-11-29T03:00:00Z), a relative age (30s, 15m, 2h, 1d, 1w) or "now"',
    );
  });
});

describe('parseWindow', () => {
  it('defaults until to now, keeps since open without a default, and clamps a future until to now', () => {
    expect(parseWindow({}, NOW)).toEqual({ since: undefined, until: { ms: NOW, subMsNanos: 0 }, untilClamped: false });
    expect(parseWindow({}, NOW, '1h').since).toEqual({ ms: NOW - 3_600_000, subMsNanos: 0 });
    const future = parseWindow({ since: '1h', until: '2026-11-30T00:00:00Z' }, NOW);
    expect(future.until).toEqual({ ms: NOW, subMsNanos: 0 });
    expect(future.untilClamped).toBe(true);
  });

  it('refuses since after until', () => {
    expect(() => parseWindow({ since: '1h', until: '2h' }, NOW)).toThrow(
      'since (2026-11-29T11:00:00.000Z) is after until (2026-11-29T10:00:00.000Z): the window is empty',
    );
  });
});
