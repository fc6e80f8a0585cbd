import { describe, expect, it } from 'vitest';

import { DatabaseError, showName } from '../src/errors.js';
import { checkNewIdentifier, ColumnResolver, findName, isInternalTable, quoteIdentifier } from '../src/identifiers.js';

describe('quoteIdentifier', () => {
  it('double-quotes and doubles embedded quotes', () => {
    expect(quoteIdentifier('users')).toBe('"users"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(quoteIdentifier('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
  });

  it('refuses NUL', () => {
    expect(() => quoteIdentifier('a\u0000b')).toThrow(DatabaseError);
  });
});

describe('checkNewIdentifier', () => {
  it.each(['users', '_tmp', 'Order_Items2', 'a'.repeat(64)])('accepts %s', (name) => {
    expect(checkNewIdentifier(name, 'table')).toBe(name);
  });

  it.each([
    ['', 'Invalid table name'],
    ['1abc', 'Invalid table name'],
    ['a b', 'Invalid table name'],
    ['users; DROP TABLE x', 'Invalid table name'],
    ['x"y', 'Invalid table name'],
    ['a'.repeat(65), 'Invalid table name'],
    ['café', 'Invalid table name'],
    ['sqlite_master', 'reserved'],
    ['SQLITE_evil', 'reserved'],
  ])('refuses %j', (name, fragment) => {
    expect(() => checkNewIdentifier(name, 'table')).toThrow(fragment);
  });

  it('names the kind of identifier', () => {
    expect(() => checkNewIdentifier('bad name', 'column')).toThrow('Invalid column name "bad name"');
  });
});

describe('findName', () => {
  const names = ['Users', 'orders', 'ÄBC'];
  it('prefers an exact match, then ASCII case-insensitive like SQLite', () => {
    expect(findName(names, 'Users')).toBe('Users');
    expect(findName(names, 'users')).toBe('Users');
    expect(findName(names, 'ORDERS')).toBe('orders');
    expect(findName(['a', 'A'], 'A')).toBe('A');
  });
  it('does not fold non-ASCII letters (SQLite does not)', () => {
    expect(findName(names, 'äbc')).toBeUndefined();
  });
  it('returns undefined for unknown names', () => {
    expect(findName(names, 'users; --')).toBeUndefined();
  });
});

describe('isInternalTable', () => {
  it('spots sqlite_ tables whatever the case', () => {
    expect(isInternalTable('sqlite_sequence')).toBe(true);
    expect(isInternalTable('SQLite_stat1')).toBe(true);
    expect(isInternalTable('my_sqlite_table')).toBe(false);
  });
});

describe('ColumnResolver', () => {
  const columns = new ColumnResolver('users', ['id', 'Email']);
  it('resolves to the schema spelling and quotes', () => {
    expect(columns.resolve('email')).toBe('Email');
    expect(columns.quoted('ID')).toBe('"id"');
  });
  it('refuses unknown columns with NOT_FOUND listing the real ones', () => {
    try {
      columns.resolve('password"; --');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).code).toBe('NOT_FOUND');
      expect((error as DatabaseError).message).toBe(
        'Table "users" has no column "password\\"; --" (columns: id, Email)',
      );
    }
  });
});

describe('showName', () => {
  it('quotes and shortens', () => {
    expect(showName('abc')).toBe('"abc"');
    expect(showName('x'.repeat(100))).toBe(`"${'x'.repeat(64)}…"`);
  });
});
