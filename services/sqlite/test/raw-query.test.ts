import { describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { classifyStatement } from '../src/raw-query.js';

function refusal(sql: string): DatabaseError {
  try {
    classifyStatement(sql);
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseError);
    return error as DatabaseError;
  }
  throw new Error(`expected ${JSON.stringify(sql)} to be refused`);
}

describe('classifyStatement finds the leading keyword', () => {
  it.each([
    ['SELECT 1', 'SELECT', false],
    ['  select * from t', 'SELECT', false],
    ['-- a comment\n/* block */ WITH x AS (SELECT 1) SELECT * FROM x', 'WITH', false],
    ['insert into t values (1)', 'INSERT', false],
    ['EXPLAIN SELECT 1', 'SELECT', true],
    ['explain query plan select 1', 'SELECT', true],
    ['VACUUM', 'VACUUM', false],
    ['CREATE TABLE x (a)', 'CREATE', false],
  ])('%j', (sql, keyword, explain) => {
    expect(classifyStatement(sql)).toMatchObject({ keyword, explain });
  });

  it('refuses an empty query', () => {
    expect(refusal('  -- nothing\n').code).toBe('INVALID_INPUT');
    expect(refusal('EXPLAIN QUERY SELECT 1').message).toContain('PLAN');
  });
});

describe('classifyStatement refuses statement kinds that are never allowed', () => {
  it.each([
    "ATTACH DATABASE '/tmp/x.db' AS x",
    "attach '/tmp/x.db' as x",
    "/* hide */ ATTACH ':memory:' AS m",
    "-- line\nATTACH 'x' AS y",
    'DETACH x',
    "EXPLAIN ATTACH 'x' AS y",
    'BEGIN',
    'begin immediate',
    'COMMIT',
    'END TRANSACTION',
    'ROLLBACK',
    'SAVEPOINT s',
    'RELEASE s',
    "VACUUM INTO '/tmp/copy.db'",
    "vacuum main into '/tmp/copy.db'",
    "VACUUM /* c */ INTO '/tmp/copy.db'",
  ])('%j', (sql) => {
    expect(refusal(sql).code).toBe('FORBIDDEN');
  });
});

describe('PRAGMA: a read-only allowlist, never an assignment', () => {
  it.each([
    ['PRAGMA table_info(users)', 'table_info'],
    ["pragma table_info('users');", 'table_info'],
    ['PRAGMA main.table_xinfo("odd name")', 'table_xinfo'],
    ['PRAGMA index_list(users)', 'index_list'],
    ['PRAGMA foreign_key_list(users)', 'foreign_key_list'],
    ['PRAGMA integrity_check', 'integrity_check'],
    ['PRAGMA integrity_check(10)', 'integrity_check'],
    ['PRAGMA quick_check', 'quick_check'],
    ['PRAGMA foreign_key_check', 'foreign_key_check'],
    ['PRAGMA user_version', 'user_version'],
    ['PRAGMA schema_version;', 'schema_version'],
    ['PRAGMA page_count', 'page_count'],
    ['PRAGMA compile_options', 'compile_options'],
    ['PRAGMA collation_list', 'collation_list'],
    ['PRAGMA table_list', 'table_list'],
  ])('allows %j', (sql, pragma) => {
    expect(classifyStatement(sql)).toEqual({ keyword: 'PRAGMA', explain: false, pragma });
  });

  it.each([
    ['PRAGMA journal_mode=DELETE', 'journal_mode is not allowed'],
    ['PRAGMA journal_mode', 'journal_mode is not allowed'],
    ['PRAGMA writable_schema=1', 'writable_schema is not allowed'],
    ['PRAGMA writable_schema = ON', 'writable_schema is not allowed'],
    ['PRAGMA foreign_keys=OFF', 'foreign_keys is not allowed'],
    ['PRAGMA synchronous = OFF', 'synchronous is not allowed'],
    ['PRAGMA query_only = 0', 'query_only is not allowed'],
    ['PRAGMA "journal_mode" = DELETE', 'journal_mode is not allowed'],
    ['PRAGMA user_version = 5', 'sets a value'],
    ['PRAGMA user_version(5)', 'sets a value'],
    ['PRAGMA main.user_version = 5', 'sets a value'],
    ['PRAGMA schema_version = 1', 'sets a value'],
    ['PRAGMA page_size = 1024', 'sets a value'],
    ['PRAGMA table_info = users', 'sets a value'],
    ['EXPLAIN PRAGMA writable_schema = 1', 'writable_schema is not allowed'],
    ['PRAGMA table_info(users) extra', 'unexpected text'],
    ['PRAGMA table_info(users, x)', 'takes one name'],
    ['PRAGMA table_info()', 'takes one name'],
    ['PRAGMA', 'without a name'],
  ])('refuses %j', (sql, fragment) => {
    const error = refusal(sql);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain(fragment);
  });
});
