import { describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { checkStatement, tokenize } from '../src/sql-guard.js';

function refusal(run: () => unknown): DatabaseError {
  try {
    run();
  } catch (error) {
    if (error instanceof DatabaseError) return error;
    throw error;
  }
  throw new Error('expected the guard to refuse');
}

describe('tokenize', () => {
  it('drops comments and whitespace, keeps literals as strings', () => {
    const tokens = tokenize(`SELECT /* a /* nested */ comment */ 'it''s' -- trailing pg_sleep(1)\n, "Mixed""Case", $1`);
    expect(tokens.map((t) => [t.kind, t.value])).toEqual([
      ['word', 'select'],
      ['string', "it's"],
      ['punct', ','],
      ['quoted', 'Mixed"Case'],
      ['punct', ','],
      ['param', '$1'],
    ]);
  });

  it('reads E-strings with backslash escapes and dollar quotes with tags', () => {
    const tokens = tokenize(`SELECT E'a\\'b', $fn$ it's; DROP $fn$, $$x$$, a$b`);
    expect(tokens.map((t) => [t.kind, t.value])).toEqual([
      ['word', 'select'],
      ['string', "a\\'b"],
      ['punct', ','],
      ['string', " it's; DROP "],
      ['punct', ','],
      ['string', 'x'],
      ['punct', ','],
      ['word', 'a$b'],
    ]);
  });

  it('decodes U&"..." identifiers so a name cannot hide behind escapes', () => {
    const tokens = tokenize('SELECT U&"\\0070g_sleep"(1)');
    expect(tokens[1]).toMatchObject({ kind: 'quoted', value: 'pg_sleep' });
  });

  it('records 0-based offsets', () => {
    expect(tokenize('  select 1')[0]).toMatchObject({ value: 'select', position: 2 });
  });

  it.each([
    ["SELECT 'open", 'Unterminated string literal starting at position 8'],
    ['SELECT "open', 'Unterminated quoted identifier starting at position 8'],
    ['SELECT 1 /* open', 'Unterminated /* comment */ starting at position 10'],
    ['SELECT $x$ open', 'Unterminated dollar-quoted string $x$ starting at position 8'],
  ])('refuses malformed input: %s', (sql, message) => {
    const error = refusal(() => tokenize(sql));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(message);
  });
});

describe('checkStatement', () => {
  it('accepts ordinary reads and reports the verb', () => {
    expect(checkStatement('SELECT * FROM t WHERE id = $1', 'read_only').verb).toBe('select');
    expect(checkStatement('  (SELECT 1) UNION (SELECT 2);  ', 'read_only').verb).toBe('select');
    expect(checkStatement('WITH x AS (SELECT 1) SELECT * FROM x', 'read_only').verb).toBe('with');
    expect(checkStatement('SHOW search_path', 'read_only').verb).toBe('show');
    expect(checkStatement("SELECT 'pg_sleep(10); COMMIT' AS text", 'read_only').verb).toBe('select');
  });

  it('lets the READ ONLY transaction, not the guard, judge writes', () => {
    expect(checkStatement('DELETE FROM t', 'read_only').verb).toBe('delete');
    expect(checkStatement('WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x', 'read_only').verb).toBe('with');
  });

  it.each(['', '   ', '-- only a comment', ';', ' ; ; '])('refuses empty sql %j', (sql) => {
    expect(refusal(() => checkStatement(sql, 'read_write')).code).toBe('INVALID_INPUT');
  });

  it('refuses stacked statements and names where the second one starts', () => {
    const error = refusal(() => checkStatement('SELECT 1; DELETE FROM t', 'read_write'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(
      "Only one statement per call: found another statement after ';' at position 9. Send each statement in its own call.",
    );
  });

  it('allows a trailing semicolon and semicolons inside literals and comments', () => {
    expect(checkStatement("SELECT ';' /* ; */ -- ;\n;", 'read_only').verb).toBe('select');
  });

  it.each([
    ['BEGIN', 'BEGIN'],
    ['begin transaction read write', 'BEGIN'],
    ['START TRANSACTION', 'START'],
    ['COMMIT', 'COMMIT'],
    ['END', 'END'],
    ['ROLLBACK', 'ROLLBACK'],
    ['ABORT', 'ABORT'],
    ['SAVEPOINT s1', 'SAVEPOINT'],
    ['RELEASE SAVEPOINT s1', 'RELEASE'],
    ["PREPARE TRANSACTION 'x'", 'PREPARE'],
    ["COMMIT PREPARED 'x'", 'COMMIT'],
  ])('refuses transaction control: %s', (sql, verb) => {
    const error = refusal(() => checkStatement(sql, 'read_write'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain(`Transaction control (${verb}) is not allowed`);
  });

  it('refuses COPY ... PROGRAM in every mode', () => {
    for (const mode of ['read_only', 'read_write'] as const) {
      const error = refusal(() => checkStatement("COPY t FROM PROGRAM 'cat /etc/passwd'", mode));
      expect(error.message).toBe('COPY ... PROGRAM runs a shell command on the database server and is never allowed.');
    }
    expect(refusal(() => checkStatement("copy (select 1) to program 'sh'", 'read_write')).code).toBe('FORBIDDEN');
  });

  it('refuses COPY to and from server files', () => {
    for (const sql of ["COPY t TO '/tmp/out.csv'", "COPY t FROM '/etc/passwd'", "COPY (SELECT 1) TO E'/tmp/x'"]) {
      expect(refusal(() => checkStatement(sql, 'read_write')).message).toBe(
        'COPY to or from a file on the database server is never allowed.',
      );
    }
  });

  it('refuses COPY STDIN/STDOUT with a pointer to SELECT and INSERT', () => {
    expect(refusal(() => checkStatement('COPY t TO STDOUT', 'read_only')).message).toContain('Use SELECT to read rows');
    expect(refusal(() => checkStatement('COPY t FROM STDIN', 'read_write')).message).toContain('INSERT ... VALUES');
  });

  it.each([
    'SET search_path = evil',
    'SET ROLE postgres',
    'set session authorization postgres',
    'RESET ALL',
    'DISCARD ALL',
    'LISTEN chan',
    "LOAD 'plugin'",
    'PREPARE p AS SELECT 1',
    'EXECUTE p',
    'DEALLOCATE ALL',
    'DECLARE c CURSOR WITH HOLD FOR SELECT 1',
    'FETCH ALL FROM c',
  ])('refuses session-state statement %s', (sql) => {
    const error = refusal(() => checkStatement(sql, 'read_write'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain('changes session state');
  });

  it.each([
    'CREATE TEMP TABLE scratch (a int)',
    'create temporary table scratch as select 1',
    'CREATE LOCAL TEMPORARY TABLE scratch (a int)',
    'CREATE OR REPLACE TEMP VIEW v AS SELECT 1',
    'CREATE TEMP SEQUENCE s',
    'SELECT 1 AS a INTO TEMP scratch',
  ])('refuses temporary objects, which would outlive the call: %s', (sql) => {
    const error = refusal(() => checkStatement(sql, 'read_write'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/^Temporary tables, views and sequences are not allowed/);
  });

  it('accepts ordinary CREATE and SELECT INTO in read_write mode', () => {
    expect(checkStatement('CREATE TABLE temp (a int)', 'read_write').verb).toBe('create');
    expect(checkStatement('SELECT 1 AS a INTO archive', 'read_write').verb).toBe('select');
  });

  it('refuses DO and CALL only in read-only mode', () => {
    expect(refusal(() => checkStatement('DO $$ BEGIN PERFORM 1; END $$', 'read_only')).message).toBe(
      'DO runs procedural code and is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only).',
    );
    expect(refusal(() => checkStatement('CALL p()', 'read_only')).code).toBe('FORBIDDEN');
    expect(checkStatement('DO $$ BEGIN PERFORM 1; END $$', 'read_write').verb).toBe('do');
  });

  it.each([
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_catalog.pg_read_binary_file('x')",
    "SELECT * FROM pg_ls_dir('.')",
    'SELECT pg_ls_waldir()',
    "SELECT pg_stat_file('postgresql.conf')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_export(1, '/tmp/x')",
    "SELECT dblink_exec('host=x', 'DELETE FROM t')",
    "SELECT * FROM dblink('dbname=x', 'select 1') AS r(a int)",
    "SELECT set_config('search_path', 'evil', false)",
    'SELECT pg_advisory_lock(1)',
    'SELECT "pg_read_file"(\'x\')',
    'SELECT U&"\\0070g_read_file"(\'x\')',
    "SELECT PG_READ_FILE /* hidden */ ('x')",
  ])('refuses file, cross-server and session functions in every mode: %s', (sql) => {
    for (const mode of ['read_only', 'read_write'] as const) {
      const error = refusal(() => checkStatement(sql, mode));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toMatch(/^[a-z_]+\(\) is not allowed: it reads or writes server files/);
    }
  });

  it.each([
    'SELECT pg_sleep(10)',
    "SELECT pg_sleep_for('5 minutes')",
    "SELECT pg_sleep_until('tomorrow')",
    "SELECT nextval('s')",
    "SELECT setval('s', 1)",
    'SELECT txid_current()',
    'SELECT pg_terminate_backend(1)',
    'SELECT pg_cancel_backend(1)',
    'SELECT pg_reload_conf()',
    "SELECT pg_notify('c', 'x')",
    'SELECT pg_stat_reset()',
    'SELECT pg_advisory_xact_lock(1)',
    "SELECT query_to_xml('select pg_sleep(10)', true, false, '')",
    "SELECT * FROM ts_stat('select 1')",
  ])('refuses side-effecting or stalling functions in read-only mode: %s', (sql) => {
    const error = refusal(() => checkStatement(sql, 'read_only'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/^[a-z_]+\(\) is not allowed in read-only mode \(POSTGRES_ACCESS_MODE=read_only\)/);
    expect(checkStatement(sql, 'read_write').verb).toBe('select');
  });

  it('does not mistake names inside strings or longer identifiers for denied functions', () => {
    expect(checkStatement("SELECT 'pg_sleep(10)', 'nextval' FROM sleep_log", 'read_only').verb).toBe('select');
    expect(checkStatement('SELECT my_nextval_total FROM pg_file_settings', 'read_only').verb).toBe('select');
  });

  it('accepts only plannable statements for explain', () => {
    expect(checkStatement('SELECT 1', 'read_only', 'explain').verb).toBe('select');
    expect(checkStatement('UPDATE t SET a = 1', 'read_only', 'explain').verb).toBe('update');
    expect(refusal(() => checkStatement('EXPLAIN SELECT 1', 'read_only', 'explain')).message).toBe(
      'Pass the statement itself, without EXPLAIN: explain_query adds it.',
    );
    expect(refusal(() => checkStatement('CREATE TABLE x (a int)', 'read_write', 'explain')).message).toContain(
      'not CREATE',
    );
  });
});
