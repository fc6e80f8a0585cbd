import { describe, expect, it } from 'vitest';

import { parseTimeExpression } from '../src/time-expr.js';

// Wednesday 2026-06-17 15:45:30 UTC.
const NOW = Date.UTC(2026, 5, 17, 15, 45, 30);
const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
const range = (expression: string) => {
  const { after, before } = parseTimeExpression(expression, NOW);
  return [new Date(after).toISOString(), new Date(before).toISOString()];
};
const iso = (ms: number) => new Date(ms).toISOString();

describe('time expressions (now: Wednesday 2026-06-17 15:45:30 UTC)', () => {
  it.each([
    ['today', day(2026, 6, 17), day(2026, 6, 18)],
    ['yesterday', day(2026, 6, 16), day(2026, 6, 17)],
    ['Yesterday.', day(2026, 6, 16), day(2026, 6, 17)],
    ['day before yesterday', day(2026, 6, 15), day(2026, 6, 16)],
    ['this week', day(2026, 6, 15), day(2026, 6, 22)],
    ['last week', day(2026, 6, 8), day(2026, 6, 15)],
    ['previous week', day(2026, 6, 8), day(2026, 6, 15)],
    ['this month', day(2026, 6, 1), day(2026, 7, 1)],
    ['last month', day(2026, 5, 1), day(2026, 6, 1)],
    ['this year', day(2026, 1, 1), day(2027, 1, 1)],
    ['last year', day(2025, 1, 1), day(2026, 1, 1)],
    ['3 days ago', day(2026, 6, 14), day(2026, 6, 15)],
    ['three days ago', day(2026, 6, 14), day(2026, 6, 15)],
    ['a week ago', day(2026, 6, 8), day(2026, 6, 15)],
    ['2 months ago', day(2026, 4, 1), day(2026, 5, 1)],
    ['1 year ago', day(2025, 1, 1), day(2026, 1, 1)],
    ['2 hours ago', Date.UTC(2026, 5, 17, 13), Date.UTC(2026, 5, 17, 14)],
    ['in March', day(2026, 3, 1), day(2026, 4, 1)],
    ['march', day(2026, 3, 1), day(2026, 4, 1)],
    ['during Mar', day(2026, 3, 1), day(2026, 4, 1)],
    // A month after this one means last year's.
    ['in September', day(2025, 9, 1), day(2025, 10, 1)],
    ['in December 2024', day(2024, 12, 1), day(2025, 1, 1)],
    ['in 2025', day(2025, 1, 1), day(2026, 1, 1)],
    ['2024', day(2024, 1, 1), day(2025, 1, 1)],
    ['2026-02-28', day(2026, 2, 28), day(2026, 3, 1)],
    ['monday', day(2026, 6, 15), day(2026, 6, 16)],
    ['on Wednesday', day(2026, 6, 17), day(2026, 6, 18)],
    ['last wednesday', day(2026, 6, 10), day(2026, 6, 11)],
    ['last friday', day(2026, 6, 12), day(2026, 6, 13)],
  ])('%s', (expression, after, before) => {
    expect(range(expression)).toEqual([iso(after), iso(before)]);
  });

  it('spans: last/past N units end now', () => {
    expect(range('last 7 days')).toEqual([iso(NOW - 7 * 86_400_000), iso(NOW + 1)]);
    expect(range('past 2 weeks')).toEqual([iso(NOW - 14 * 86_400_000), iso(NOW + 1)]);
    expect(range('past 30 minutes')).toEqual([iso(NOW - 30 * 60_000), iso(NOW + 1)]);
    expect(range('last 3 months')).toEqual([iso(Date.UTC(2026, 2, 17, 15, 45, 30)), iso(NOW + 1)]);
  });

  it('is deterministic in the clock: the same words on another day mean other days', () => {
    const other = Date.UTC(2027, 0, 3, 1); // Sunday 2027-01-03
    expect(parseTimeExpression('yesterday', other)).toEqual({ after: day(2027, 1, 2), before: day(2027, 1, 3) });
    expect(parseTimeExpression('last week', other)).toEqual({ after: day(2026, 12, 21), before: day(2026, 12, 28) });
    expect(parseTimeExpression('in March', other)).toEqual({ after: day(2026, 3, 1), before: day(2026, 4, 1) });
  });

  it.each([
    'tomorrow',
    'soon',
    'last fortnight',
    '3 eons ago',
    'many days ago',
    '2026-02-30',
    'in Marchember',
    '',
    'yesterday; DROP TABLE memories',
    'x'.repeat(200),
  ])('refuses %j with the forms it understands', (expression) => {
    expect(() => parseTimeExpression(expression, NOW)).toThrow(
      /time_expr .* is not understood; use one of: today, yesterday/,
    );
  });
});
