import { describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { fromSqlValue, toRow, toSqlValue } from '../src/values.js';

describe('toSqlValue', () => {
  it('binds JSON values', () => {
    expect(toSqlValue('a', 'x')).toBe('a');
    expect(toSqlValue(1.5, 'x')).toBe(1.5);
    expect(toSqlValue(null, 'x')).toBeNull();
    expect(toSqlValue(true, 'x')).toBe(1);
    expect(toSqlValue(false, 'x')).toBe(0);
    expect(toSqlValue({ a: [1, 'b'] }, 'x')).toBe('{"a":[1,"b"]}');
    expect(toSqlValue([1, 2], 'x')).toBe('[1,2]');
    expect(toSqlValue(10n, 'x')).toBe(10n);
  });

  it.each([undefined, () => 1, Symbol('s'), Number.POSITIVE_INFINITY, Number.NaN])('refuses %s', (value) => {
    expect(() => toSqlValue(value, 'column "a"')).toThrow(DatabaseError);
    expect(() => toSqlValue(value, 'column "a"')).toThrow('column "a"');
  });
});

describe('fromSqlValue and toRow', () => {
  it('keeps exact integers as numbers and big ones as strings', () => {
    expect(fromSqlValue(42n)).toBe(42);
    expect(fromSqlValue(9007199254740993n)).toBe('9007199254740993');
    expect(fromSqlValue(-9007199254740993n)).toBe('-9007199254740993');
    expect(fromSqlValue(1.25)).toBe(1.25);
    expect(fromSqlValue(null)).toBeNull();
  });

  it('encodes blobs as base64', () => {
    expect(fromSqlValue(Buffer.from([0, 255]))).toEqual({ blob_base64: 'AP8=' });
  });

  it('suffixes repeated column names and keeps __proto__ a plain key', () => {
    const row = toRow(['a', 'a', 'a_2', '__proto__'], [1n, 2n, 3n, 'p']);
    expect(row).toEqual({ a: 1, a_2: 2, a_2_2: 3, ['__proto__']: 'p' });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(['a', 'a_2', 'a_2_2', '__proto__']);
  });
});
