/**
 * A small, deterministic parser for the time expressions people use when they recall something:
 * "yesterday", "last week", "3 days ago", "in March", "past 2 weeks", "last monday", "2025". The
 * clock is a parameter, so tests fix "now". Calendars are UTC; weeks start on Monday (ISO 8601).
 * Each expression is a half-open range [after, before) in epoch milliseconds. Anything else is a
 * clear error listing the forms understood: a guess would silently search the wrong days.
 */
import { MemoryError, show } from './errors.js';

export interface TimeRange {
  /** Inclusive lower bound, epoch ms. */
  after: number;
  /** Exclusive upper bound, epoch ms. */
  before: number;
}

const DAY = 86_400_000;
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};
type Unit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

export const TIME_EXPR_FORMS =
  'today, yesterday, this/last week, this/last month, this/last year, N minutes/hours/days/weeks/months/years ago, ' +
  'last/past N minutes/hours/days/weeks/months/years, [last] monday…sunday, [in] March [2025], [in] 2025, 2025-03-01';

function monthFromName(word: string): number | undefined {
  if (word.length < 3) return undefined;
  const index = MONTHS.findIndex((month) => month.startsWith(word));
  return index === -1 ? undefined : index;
}

function weekdayFromName(word: string): number | undefined {
  if (word.length < 3) return undefined;
  const index = WEEKDAYS.findIndex((day) => day.startsWith(word));
  return index === -1 ? undefined : index;
}

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

/** Monday 00:00 UTC of the week holding ms. */
function startOfWeek(ms: number): number {
  const day = startOfDay(ms);
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY;
}

function startOfMonth(ms: number, monthsBack = 0): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - monthsBack, 1);
}

function startOfYear(ms: number, yearsBack = 0): number {
  return Date.UTC(new Date(ms).getUTCFullYear() - yearsBack, 0, 1);
}

/** The calendar unit holding ms: [start, end). */
function unitAround(ms: number, unit: Unit): TimeRange {
  switch (unit) {
    case 'minute':
      return { after: Math.floor(ms / 60_000) * 60_000, before: Math.floor(ms / 60_000) * 60_000 + 60_000 };
    case 'hour':
      return {
        after: Math.floor(ms / 3_600_000) * 3_600_000,
        before: Math.floor(ms / 3_600_000) * 3_600_000 + 3_600_000,
      };
    case 'day':
      return { after: startOfDay(ms), before: startOfDay(ms) + DAY };
    case 'week':
      return { after: startOfWeek(ms), before: startOfWeek(ms) + 7 * DAY };
    case 'month':
      return { after: startOfMonth(ms), before: startOfMonth(ms, -1) };
    case 'year':
      return { after: startOfYear(ms), before: startOfYear(ms, -1) };
  }
}

/** ms moved back by n units (months and years by the calendar). */
function back(ms: number, n: number, unit: Unit): number {
  const date = new Date(ms);
  switch (unit) {
    case 'minute':
      return ms - n * 60_000;
    case 'hour':
      return ms - n * 3_600_000;
    case 'day':
      return ms - n * DAY;
    case 'week':
      return ms - n * 7 * DAY;
    case 'month':
      return date.setUTCMonth(date.getUTCMonth() - n);
    case 'year':
      return date.setUTCFullYear(date.getUTCFullYear() - n);
  }
}

function parseCount(word: string): number | undefined {
  if (/^\d{1,4}$/.test(word)) return Number(word);
  return NUMBER_WORDS[word];
}

function parseUnit(word: string): Unit | undefined {
  const singular = word.endsWith('s') ? word.slice(0, -1) : word;
  if (singular === 'min' || singular === 'minute') return 'minute';
  if (singular === 'hr' || singular === 'hour') return 'hour';
  if (singular === 'day' || singular === 'week' || singular === 'month' || singular === 'year') return singular;
  return undefined;
}

function unknown(expression: string): MemoryError {
  return new MemoryError(
    'INVALID_INPUT',
    `time_expr ${show(expression)} is not understood; use one of: ${TIME_EXPR_FORMS}, or after/before with ISO dates`,
  );
}

/** Parses a time expression against `now` (epoch ms). Throws INVALID_INPUT for anything else. */
export function parseTimeExpression(expression: string, now: number): TimeRange {
  if (expression.length > 100) throw unknown(expression);
  const words = expression
    .toLowerCase()
    .replace(/[,.]/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((word) => word.length > 0);
  // Filler words that do not change the meaning.
  while (words.length > 1 && ['in', 'during', 'on', 'from', 'the'].includes(words[0]!)) words.shift();
  const text = words.join(' ');

  if (text === 'today') return unitAround(now, 'day');
  if (text === 'yesterday') return unitAround(now - DAY, 'day');
  if (text === 'day before yesterday') return unitAround(now - 2 * DAY, 'day');

  const thisOrLast = /^(this|last|previous) (week|month|year)$/.exec(text);
  if (thisOrLast) {
    const unit = thisOrLast[2] as Unit;
    return unitAround(thisOrLast[1] === 'this' ? now : back(unitAround(now, unit).after, 1, unit), unit);
  }

  const ago = /^(\S+) (\S+) ago$/.exec(text);
  if (ago) {
    const count = parseCount(ago[1]!);
    const unit = parseUnit(ago[2]!);
    if (count === undefined || unit === undefined) throw unknown(expression);
    return unitAround(back(now, count, unit), unit);
  }

  const span = /^(?:last|past|previous) (\S+) (\S+)$/.exec(text);
  if (span) {
    const count = parseCount(span[1]!);
    const unit = parseUnit(span[2]!);
    if (count === undefined || unit === undefined) throw unknown(expression);
    return { after: back(now, count, unit), before: now + 1 };
  }

  const weekday = /^(last )?(\S+)$/.exec(text);
  if (weekday) {
    const day = weekdayFromName(weekday[2]!);
    if (day !== undefined) {
      const today = new Date(startOfDay(now)).getUTCDay();
      let daysBack = (today - day + 7) % 7;
      if (weekday[1] !== undefined && daysBack === 0) daysBack = 7;
      return unitAround(now - daysBack * DAY, 'day');
    }
  }

  const month = /^(\S+)(?: (\d{4}))?$/.exec(text);
  if (month) {
    const index = monthFromName(month[1]!);
    if (index !== undefined) {
      const current = new Date(now);
      const year =
        month[2] !== undefined
          ? Number(month[2])
          : index <= current.getUTCMonth()
            ? current.getUTCFullYear()
            : current.getUTCFullYear() - 1;
      return { after: Date.UTC(year, index, 1), before: Date.UTC(year, index + 1, 1) };
    }
  }

  if (/^\d{4}$/.test(text)) {
    const year = Number(text);
    return { after: Date.UTC(year, 0, 1), before: Date.UTC(year + 1, 0, 1) };
  }

  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (date) {
    const [year, monthNumber, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const start = Date.UTC(year, monthNumber - 1, day);
    const check = new Date(start);
    if (check.getUTCMonth() !== monthNumber - 1 || check.getUTCDate() !== day) throw unknown(expression);
    return { after: start, before: start + DAY };
  }

  throw unknown(expression);
}
