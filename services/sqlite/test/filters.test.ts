import { describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { buildOrderBy, buildWhere } from '../src/filters.js';
import { ColumnResolver } from '../src/identifiers.js';

const columns = new ColumnResolver('people', ['id', 'name', 'Age', 'note', 'created at']);

function refused(fn: () => unknown): DatabaseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseError);
    return error as DatabaseError;
  }
  throw new Error('expected a refusal');
}

describe('buildWhere', () => {
  it('builds equality, IS NULL and AND-ed conditions with bound values', () => {
    expect(buildWhere({ name: 'Ann', note: null }, columns)).toEqual({
      sql: '"name" = ? AND "note" IS NULL',
      params: ['Ann'],
    });
  });

  it('gives an empty fragment for no filters', () => {
    expect(buildWhere({}, columns)).toEqual({ sql: '', params: [] });
  });

  it('supports every operator', () => {
    const where = buildWhere(
      {
        id: { in: [1, 2, 3] },
        age: { gte: 18, lt: 65 },
        name: { like: 'A%', ne: 'Al' },
        note: { is_null: false },
      },
      columns,
    );
    expect(where.sql).toBe(
      '"id" IN (?, ?, ?) AND "Age" >= ? AND "Age" < ? AND "name" LIKE ? AND "name" <> ? AND "note" IS NOT NULL',
    );
    expect(where.params).toEqual([1, 2, 3, 18, 65, 'A%', 'Al']);
    expect(buildWhere({ id: { not_in: [4] }, note: { is_null: true } }, columns).sql).toBe(
      '"id" NOT IN (?) AND "note" IS NULL',
    );
    expect(buildWhere({ id: { gt: 1, lte: 9 }, note: { eq: null } }, columns).sql).toBe(
      '"id" > ? AND "id" <= ? AND "note" IS NULL',
    );
    expect(buildWhere({ note: { ne: null } }, columns).sql).toBe('"note" IS NOT NULL');
  });

  it('converts booleans to 1/0', () => {
    expect(buildWhere({ id: true, note: { ne: false } }, columns).params).toEqual([1, 0]);
  });

  it('resolves column names against the schema and quotes them', () => {
    expect(buildWhere({ AGE: 3, 'created at': '2024' }, columns).sql).toBe('"Age" = ? AND "created at" = ?');
  });

  it('keeps injection attempts in values as bound parameters', () => {
    const where = buildWhere({ name: "x' OR '1'='1" }, columns);
    expect(where.sql).toBe('"name" = ?');
    expect(where.params).toEqual(["x' OR '1'='1"]);
  });

  it.each([
    [{ 'name = name OR 1=1 --': 1 }, 'NOT_FOUND', 'has no column'],
    [{ 'name"': 1 }, 'NOT_FOUND', 'has no column'],
    [{ name: { regexp: 'x' } }, 'INVALID_INPUT', 'unknown operator "regexp"'],
    [{ name: {} }, 'INVALID_INPUT', 'empty operator object'],
    [{ name: ['a', 'b'] }, 'INVALID_INPUT', 'use { "in": [...] }'],
    [{ id: { in: [] } }, 'INVALID_INPUT', 'non-empty array'],
    [{ id: { in: 'a' } }, 'INVALID_INPUT', 'non-empty array'],
    [{ id: { in: [1, null] } }, 'INVALID_INPUT', 'is_null'],
    [{ id: { in: [[1]] } }, 'INVALID_INPUT', 'not an object or array'],
    [{ id: { gt: null } }, 'INVALID_INPUT', 'cannot compare with null'],
    [{ id: { gt: { a: 1 } } }, 'INVALID_INPUT', 'not an object or array'],
    [{ name: { like: 3 } }, 'INVALID_INPUT', 'pattern string'],
    [{ note: { is_null: 'yes' } }, 'INVALID_INPUT', 'true or false'],
    [{ id: Number.NaN }, 'INVALID_INPUT', 'cannot be stored'],
  ])('refuses %j', (filters, code, fragment) => {
    const error = refused(() => buildWhere(filters, columns));
    expect(error.code).toBe(code);
    expect(error.message).toContain(fragment);
  });
});

describe('buildOrderBy', () => {
  it.each([
    ['name', '"name" ASC'],
    ['name DESC', '"name" DESC'],
    ['name asc, age desc', '"name" ASC, "Age" DESC'],
    ['-id', '"id" DESC'],
    ['- id,name', '"id" DESC, "name" ASC'],
    ['"created at" DESC', '"created at" DESC'],
  ])('%s', (orderBy, expected) => {
    expect(buildOrderBy(orderBy, columns)).toBe(expected);
  });

  it.each([
    ['name; DROP TABLE people', 'INVALID_INPUT'],
    ['name;', 'NOT_FOUND'],
    ['name DESC; DROP TABLE people', 'INVALID_INPUT'],
    ['(SELECT 1)', 'INVALID_INPUT'],
    ['(SELECT', 'NOT_FOUND'],
    ['name COLLATE NOCASE', 'INVALID_INPUT'],
    ['1', 'NOT_FOUND'],
    ['name,', 'INVALID_INPUT'],
    ['', 'INVALID_INPUT'],
    ['-name DESC', 'INVALID_INPUT'],
    ['password', 'NOT_FOUND'],
    ['"name" ""', 'INVALID_INPUT'],
  ])('refuses %j', (orderBy, code) => {
    expect(refused(() => buildOrderBy(orderBy, columns)).code).toBe(code);
  });
});
