/**
 * The head of a statement read as SQLite's tokenizer reads it: what it skips before the first token,
 * how EXPLAIN is peeled, and PRAGMA recognised in every spelling before it is compiled.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { readStatementHead } from '../src/statement-head.js';

function refusal(sql: string): DatabaseError {
  try {
    readStatementHead(sql);
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseError);
    return error as DatabaseError;
  }
  throw new Error(`expected ${JSON.stringify(sql)} to be refused`);
}

// SQLite itself, to confirm that the core text compiles to the same statement as the whole text.
const sqlite = new Database(':memory:');
afterAll(() => sqlite.close());

describe('leading trivia: what SQLite skips before the first token', () => {
  it.each([
    ['SELECT 1', 'SELECT 1'],
    [';SELECT 1', 'SELECT 1'],
    [';;; ;\n;SELECT 1', 'SELECT 1'],
    ['  \t\r\n\fSELECT 1', 'SELECT 1'],
    ['-- c\nSELECT 1', 'SELECT 1'],
    ['-- c\r\nSELECT 1', 'SELECT 1'],
    ['/* c */SELECT 1', 'SELECT 1'],
    ['/*/ still a comment */ SELECT 1', 'SELECT 1'],
    ['/**/;--\n;/* ; */ ;SELECT 1;', 'SELECT 1;'],
  ])('%j starts at %j', (sql, core) => {
    expect(readStatementHead(sql).core).toBe(core);
    // What is prepared is exactly what SQLite would have compiled from the whole text.
    const whole = sqlite.prepare(sql).columns();
    expect(sqlite.prepare(core).columns()).toEqual(whole);
  });

  it.each([
    // Not SQLite whitespace: a token starts there, so the statement is not a PRAGMA to SQLite either.
    ['\vPRAGMA x', ''],
    ['\u00a0PRAGMA x', ''],
    ['\u2028PRAGMA x', ''],
    // A -- comment ends only at \n.
    ['-- c\rPRAGMA foreign_keys=0', 'empty'],
  ])('%j is not read as a PRAGMA', (sql, kind) => {
    if (kind === 'empty') expect(refusal(sql).code).toBe('INVALID_INPUT');
    else expect(readStatementHead(sql).pragma).toBeUndefined();
    // SQLite does not compile it as a PRAGMA either: it does not compile it at all.
    expect(() => sqlite.prepare(sql)).toThrow();
  });

  it('refuses empty statements and NUL characters (SQLite would ignore everything after a NUL)', () => {
    expect(refusal('  -- nothing\n').code).toBe('INVALID_INPUT');
    expect(refusal(';;').message).toBe('The query is empty (no SQL statement found)');
    expect(refusal('/* unterminated').code).toBe('INVALID_INPUT');
    expect(refusal('SELECT 1\0; PRAGMA synchronous=0').message).toBe('The query contains a NUL character');
  });
});

describe('EXPLAIN and the first keyword', () => {
  it.each([
    ['SELECT 1', 'SELECT', false],
    ['  select * from t', 'SELECT', false],
    ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', 'WITH', false],
    ['EXPLAIN SELECT 1', 'SELECT', true],
    ['explain query plan select 1', 'SELECT', true],
    ['EXPLAIN/**/QUERY/* */PLAN\n-- c\nSELECT 1', 'SELECT', true],
    ['EXPLAIN QUERY SELECT 1', 'QUERY', true],
    ['EXPLAINSELECT 1', 'EXPLAINSELECT', false],
    ['"PRAGMA" x', '', false],
    ['(SELECT 1)', '', false],
  ])('%j', (sql, keyword, explain) => {
    expect(readStatementHead(sql)).toMatchObject({ keyword, explain });
  });
});

describe('PRAGMA: a read-only allowlist, recognised in every spelling', () => {
  it.each([
    ['PRAGMA table_info(users)', 'table_info'],
    ["pragma table_info('users');", 'table_info'],
    ['PRAGMA main.table_xinfo("odd name")', 'table_xinfo'],
    ['PRAGMA "main" . [index_list] (users)', 'index_list'],
    ['PRAGMA `foreign_key_list` = users', 'foreign_key_list'],
    ["PRAGMA 'integrity_check'", 'integrity_check'],
    ['PRAGMA integrity_check(10)', 'integrity_check'],
    ['PRAGMA quick_check', 'quick_check'],
    ['PRAGMA foreign_key_check', 'foreign_key_check'],
    ['PrAgMa UsEr_VeRsIoN', 'user_version'],
    ['PRAGMA schema_version;', 'schema_version'],
    ['PRAGMA page_count -- trailing comment', 'page_count'],
    ['PRAGMA compile_options /* c */ ;', 'compile_options'],
    ['PRAGMA collation_list', 'collation_list'],
    ['PRAGMA table_list', 'table_list'],
    ['EXPLAIN PRAGMA table_info(t)', 'table_info'],
    ['\uFEFFPRAGMA table_info(t)', 'table_info'],
    [' \vPRAGMA table_info(t)', 'table_info'],
    [';/* */ PRAGMA/**/table_info(t)', 'table_info'],
  ])('allows %j', (sql, pragma) => {
    expect(readStatementHead(sql).pragma).toBe(pragma);
  });

  it.each([
    ['PRAGMA journal_mode=DELETE', 'PRAGMA "journal_mode" is not allowed'],
    ['PRAGMA journal_mode', 'PRAGMA "journal_mode" is not allowed'],
    [';PRAGMA synchronous=OFF', 'PRAGMA "synchronous" is not allowed'],
    ['\uFEFFPRAGMA synchronous=OFF', 'PRAGMA "synchronous" is not allowed'],
    ['\t\v\uFEFF\r\v;\uFEFFPRAGMA \uFEFFsynchronous=OFF', 'PRAGMA "synchronous" is not allowed'],
    ['PRAGMA synchronous=0 /', 'PRAGMA "synchronous" is not allowed'],
    ['\n/* x */;;PRAGMA synchronous = 0', 'PRAGMA "synchronous" is not allowed'],
    ['PRAGMA main.synchronous(0)', 'PRAGMA "synchronous" is not allowed'],
    ['PRAGMA "synchronous"=0', 'PRAGMA "synchronous" is not allowed'],
    ["PRAGMA 'foreign_keys' = OFF", 'PRAGMA "foreign_keys" is not allowed'],
    ['PRAGMA [query_only] = 0', 'PRAGMA "query_only" is not allowed'],
    ['PRAGMA `busy_timeout` = 0', 'PRAGMA "busy_timeout" is not allowed'],
    ['pragma SOFT_HEAP_LIMIT=1', 'PRAGMA "soft_heap_limit" is not allowed'],
    ['PRAGMA case_sensitive_like = 1', 'PRAGMA "case_sensitive_like" is not allowed'],
    ['PRAGMA writable_schema=1', 'PRAGMA "writable_schema" is not allowed'],
    ['PRAGMA locking_mode = EXCLUSIVE', 'PRAGMA "locking_mode" is not allowed'],
    ['PRAGMA wal_checkpoint(TRUNCATE)', 'PRAGMA "wal_checkpoint" is not allowed'],
    ['PRAGMA optimize', 'PRAGMA "optimize" is not allowed'],
    ['PRAGMA database_list', 'PRAGMA "database_list" is not allowed'],
    ['PRAGMA table_info.synchronous = 0', 'PRAGMA "synchronous" is not allowed'],
    ['EXPLAIN PRAGMA writable_schema = 1', 'PRAGMA "writable_schema" is not allowed'],
    ['EXPLAIN QUERY PLAN PRAGMA foreign_keys=0', 'PRAGMA "foreign_keys" is not allowed'],
    ['PRAGMA user_version = 5', 'with a value sets it'],
    ['PRAGMA user_version(5)', 'with a value sets it'],
    ['PRAGMA main.user_version = 5', 'with a value sets it'],
    ["PRAGMA 'user_version' = 5", 'with a value sets it'],
    ['PRAGMA schema_version = 1', 'with a value sets it'],
    ['PRAGMA page_size = 1024', 'with a value sets it'],
    ['PRAGMA user_version -5', 'unexpected text'],
    ['PRAGMA', 'without a name'],
    ['PRAGMA "unterminated', 'without a name'],
    ['PRAGMA main.', 'without a pragma name'],
  ])('refuses %j', (sql, fragment) => {
    const error = refusal(sql);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain(fragment);
  });

  it('recognises as a PRAGMA every text SQLite compiles as one: 3000 generated spellings, checked against SQLite itself', () => {
    // Pieces SQLite may or may not skip: its whitespace, \v (whitespace only inside a run), Unicode
    // spaces (identifier characters to SQLite), the UTF-8 BOM (whitespace anywhere), comments, semicolons.
    const pieces = [
      ' ',
      '\t',
      '\n',
      '\r',
      '\f',
      '\v',
      '\u00a0',
      '\u2028',
      '\u0085',
      '\ufeff',
      ';',
      '-- c\n',
      '-- c\r',
      '/* c */',
      '/**/',
      '/*/ */',
      '-',
      '/',
      'EXPLAIN ',
      'EXPLAIN QUERY PLAN ',
      'explain\n',
    ];
    // mulberry32: a small seeded generator, so that a failure names a reproducible text.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const trivia = () => Array.from({ length: random(3) }, () => pieces[random(pieces.length)]).join('');
    let compiledAsPragma = 0;
    for (let n = 0; n < 3000; n++) {
      const sql = `${trivia()}PRAGMA${trivia() || ' '}synchronous${trivia()}=${trivia()}0`;
      const scratch = new Database(':memory:');
      try {
        scratch.pragma('synchronous = FULL');
        try {
          scratch.prepare(sql);
        } catch {
          // Not a statement to SQLite: it compiled nothing.
        }
        // Any change counts: `synchronous = <unknown word>` sets NORMAL, and a pragma takes effect even
        // when a syntax error follows it ("PRAGMA synchronous=0 /").
        const isPragma = scratch.pragma('synchronous', { simple: true }) !== 2;
        let head: ReturnType<typeof readStatementHead> | DatabaseError;
        try {
          head = readStatementHead(sql);
        } catch (error) {
          head = error as DatabaseError;
        }
        if (isPragma) {
          compiledAsPragma++;
          // SQLite compiled it as PRAGMA synchronous: the gate must have refused it as that pragma.
          expect(head, JSON.stringify(sql)).toBeInstanceOf(DatabaseError);
          expect((head as DatabaseError).message, JSON.stringify(sql)).toContain('PRAGMA "synchronous" is not allowed');
        }
      } finally {
        scratch.close();
      }
    }
    // The generator reaches both sides of the question.
    expect(compiledAsPragma).toBeGreaterThan(500);
    expect(compiledAsPragma).toBeLessThan(2500);
  });
});
