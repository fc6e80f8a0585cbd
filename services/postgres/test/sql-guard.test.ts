import { beforeAll, describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { analyzeStatement, loadSqlParser } from '../src/sql-guard.js';

beforeAll(async () => {
  await loadSqlParser();
});

function refusal(run: () => unknown): DatabaseError {
  try {
    run();
  } catch (error) {
    if (error instanceof DatabaseError) return error;
    throw error;
  }
  throw new Error('expected the guard to refuse');
}

const both = ['read_only', 'read_write'] as const;

describe('what the parser sees', () => {
  it('accepts ordinary reads in read-only mode and names their kind', () => {
    expect(analyzeStatement('SELECT * FROM t WHERE id = $1', 'read_only')).toEqual({
      kind: 'SelectStmt',
      verb: 'SELECT',
      shadowableFunctions: [],
      sessionClean: true,
    });
    expect(analyzeStatement('  (SELECT 1) UNION (SELECT 2);  ', 'read_only').kind).toBe('SelectStmt');
    expect(analyzeStatement('WITH x AS (SELECT 1) SELECT * FROM x', 'read_only').kind).toBe('SelectStmt');
    expect(analyzeStatement('VALUES (1), (2)', 'read_only').kind).toBe('SelectStmt');
    expect(analyzeStatement('TABLE t', 'read_only').kind).toBe('SelectStmt');
    expect(analyzeStatement('SHOW search_path', 'read_only').verb).toBe('SHOW');
    expect(analyzeStatement('EXPLAIN SELECT 1', 'read_only').verb).toBe('EXPLAIN');
    expect(
      analyzeStatement("SELECT 'pg_sleep(10); COMMIT' AS text, $$lo_import('/etc/passwd')$$", 'read_only').kind,
    ).toBe('SelectStmt');
  });

  it('lists the unqualified built-ins that search_path resolves, for the shadow check', () => {
    const analysis = analyzeStatement(
      'SELECT lower(name), pg_catalog.upper(name), count(*) FROM t WHERE length(name) > 2 GROUP BY 1, 2',
      'read_only',
    );
    expect(analysis.shadowableFunctions).toEqual(['count', 'length', 'lower']);
  });

  it('puts the names behind special syntax through the shadow check (older servers call them by name)', () => {
    expect(
      analyzeStatement(
        "SELECT JSON_VALUE('{}', '$.a'), json_scalar(1), JSON('{}'), SUBSTRING('abc' FROM 2), SYSTEM_USER",
        'read_only',
      ).shadowableFunctions,
    ).toEqual(['json', 'json_scalar', 'json_value', 'substring', 'system_user']);
  });

  it.each(['', '   ', '-- only a comment', '/* only */', ';', ' ; ; '])('refuses empty sql %j', (sql) => {
    const error = refusal(() => analyzeStatement(sql, 'read_write'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe('sql is empty (only whitespace, comments or ";")');
  });

  it('refuses stacked statements and says where the second one starts', () => {
    const error = refusal(() => analyzeStatement('SELECT 1; DELETE FROM t', 'read_write'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(
      "Only one statement per call: found another statement after ';' at position 9. Send each statement in its own call.",
    );
  });

  it("allows a trailing semicolon and ';' inside literals and comments", () => {
    expect(analyzeStatement("SELECT ';' /* ; */ -- ;\n;", 'read_only').kind).toBe('SelectStmt');
  });

  it('reports a syntax error the way the server does', () => {
    const error = refusal(() => analyzeStatement('SELEC 1', 'read_only'));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', sqlstate: '42601' });
    expect(error.message).toBe('syntax error at or near "SELEC" (SQLSTATE 42601). At character 1 of the statement.');
  });
});

describe('read_only mode: an allow-list of functions, by the name the parser decodes', () => {
  // The spellings PostgreSQL accepts for one name: each must be recognised as that name.
  const spellings: [string, string][] = [
    ['plain', "SELECT lo_from_bytea(0, 'x'::bytea)"],
    ['upper case', "SELECT LO_FROM_BYTEA(0, 'x'::bytea)"],
    ['quoted', `SELECT "lo_from_bytea"(0, 'x'::bytea)`],
    ['unicode escapes', `SELECT U&"lo\\005ffrom\\005fbytea"(0, 'x'::bytea)`],
    ['unicode escapes with UESCAPE', `SELECT U&"lo!005ffrom!005fbytea" UESCAPE '!' (0, 'x'::bytea)`],
    ['schema-qualified', "SELECT pg_catalog.lo_from_bytea(0, 'x'::bytea)"],
    ['quoted schema and name', `SELECT "pg_catalog"."lo_from_bytea"(0, 'x'::bytea)`],
    ['comments and odd whitespace', "SELECT/**/lo_from_bytea\t/* x */\n(0,--\n'x'::bytea)"],
    ['nested comments', "SELECT /* a /* b */ c */ lo_from_bytea(0, 'x'::bytea)"],
    ['in a CTE', "WITH x AS (SELECT lo_from_bytea(0, 'x'::bytea)) SELECT * FROM x"],
    ['in a subquery', "SELECT (SELECT lo_from_bytea(0, 'x'::bytea))"],
    ['in FROM', "SELECT * FROM lo_from_bytea(0, 'x'::bytea)"],
    ['in ROWS FROM', "SELECT * FROM ROWS FROM (lo_from_bytea(0, 'x'::bytea), generate_series(1, 2))"],
    ['in WHERE', "SELECT 1 WHERE lo_from_bytea(0, 'x'::bytea) > 0"],
    ['in ORDER BY', "SELECT 1 ORDER BY lo_from_bytea(0, 'x'::bytea)"],
    ['in VALUES', "VALUES (lo_from_bytea(0, 'x'::bytea))"],
    ['inside a cast', "SELECT lo_from_bytea(0, 'x'::bytea)::text::int"],
    ['as an argument', "SELECT coalesce(NULL, lo_from_bytea(0, 'x'::bytea))"],
    ['in a lateral join', "SELECT * FROM (SELECT 1) a, LATERAL (SELECT lo_from_bytea(0, 'x'::bytea)) b"],
    ['in a dollar-quoted neighbour', "SELECT $x$ ' $x$, lo_from_bytea(0, $$x$$::bytea)"],
    ['inside EXPLAIN ANALYZE', "EXPLAIN ANALYZE SELECT lo_from_bytea(0, 'x'::bytea)"],
    ['in a window', "SELECT sum(1) OVER (ORDER BY lo_from_bytea(0, 'x'::bytea))"],
    ['in CASE', "SELECT CASE WHEN true THEN lo_from_bytea(0, 'x'::bytea) END"],
    ['in a function argument default expression', "SELECT array_agg(lo_from_bytea(0, 'x'::bytea))"],
  ];

  it.each(spellings)('refuses lo_from_bytea spelled %s', (_label, sql) => {
    const error = refusal(() => analyzeStatement(sql, 'read_only'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toBe(
      'lo_from_bytea() is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): it reads or writes large objects.',
    );
  });

  it.each([
    ['SELECT pg_sleep(10)', 'pg_sleep', 'it stalls the call'],
    ["SELECT pg_sleep_for('5 minutes')", 'pg_sleep_for', 'it stalls the call'],
    ["SELECT nextval('s')", 'nextval', 'sequence state'],
    ["SELECT setval('s', 1)", 'setval', 'sequence state'],
    ['SELECT txid_current()', 'txid_current', 'transaction ID'],
    ["SELECT pg_notify('c', 'x')", 'pg_notify', 'signals other sessions'],
    ['SELECT pg_advisory_xact_lock(1)', 'pg_advisory_xact_lock', 'advisory locks'],
    ['SELECT lo_unlink(1)', 'lo_unlink', 'large objects'],
    ['SELECT my_function()', 'my_function', 'only built-ins known to have no side effect'],
    ['SELECT public.my_function()', 'public.my_function', 'only built-ins known to have no side effect'],
    ['SELECT "Lower"(x) FROM t', 'Lower', 'only built-ins'],
    ['SELECT * FROM t TABLESAMPLE system_rows(5)', 'system_rows', 'only built-ins'],
    ['SELECT mydb.pg_catalog.lower(x) FROM t', 'mydb.pg_catalog.lower', 'only built-ins'],
  ])('refuses %s, naming %s', (sql, name, reason) => {
    const error = refusal(() => analyzeStatement(sql, 'read_only'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(
      new RegExp(
        `^${name.replace(/\./g, '\\.')}\\(\\) is not allowed in read-only mode \\(POSTGRES_ACCESS_MODE=read_only\\): .*${reason}`,
      ),
    );
  });

  it('allows pure built-ins however they are spelled, and casts, operators and special forms', () => {
    for (const sql of [
      "SELECT LOWER('A'), pg_catalog.upper('b'), \"length\"('c'), U&\"\\0061bs\"(-1)",
      "SELECT now(), CURRENT_DATE, current_user, coalesce(NULL, 1), greatest(1, 2), nullif(1, 2), '1'::int + 2",
      "SELECT jsonb_build_object('a', 1) ->> 'a', array_agg(x ORDER BY x), row_number() OVER () FROM t",
      'SELECT * FROM generate_series(1, 3) g JOIN unnest(ARRAY[1, 2]) u ON u = g WHERE g IN (1, 2) AND g BETWEEN 1 AND 3',
      "SELECT regexp_replace('a', 'a', 'b'), to_char(now(), 'YYYY'), date_trunc('day', now()), random()",
      'SELECT pg_size_pretty(pg_total_relation_size($1)), has_table_privilege($1, $2), version()',
      'SELECT * FROM t TABLESAMPLE bernoulli (10)',
      // SQL-standard syntax the parser turns into function calls.
      "SELECT COLLATION FOR ('a'), now() AT TIME ZONE 'UTC', SUBSTRING('abc' FROM 1 FOR 2), POSITION('b' IN 'abc')",
      "SELECT OVERLAY('abc' PLACING 'x' FROM 2), EXTRACT(YEAR FROM now()), TRIM(BOTH 'x' FROM 'xax'), 'a' IS NORMALIZED",
      "SELECT XMLELEMENT(NAME a, 'x'), SYSTEM_USER, CURRENT_TIMESTAMP, LOCALTIME, CURRENT_ROLE, SESSION_USER, USER",
      "SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int PATH '.'), unnest(ARRAY[1, 2]) WITH ORDINALITY",
      'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), GROUPING(x) FROM t GROUP BY ROLLUP(x)',
      "SELECT JSON_VALUE('{\"a\": 1}', '$.a'), 'a' IS JSON, gen_random_uuid(), md5('a'), format('%s', 1)",
    ]) {
      expect(analyzeStatement(sql, 'read_only').kind, sql).toBe('SelectStmt');
    }
  });

  it('allows what the operator listed in POSTGRES_ALLOWED_FUNCTIONS, exactly as listed', () => {
    const allowed = new Set(['similarity', 'ext.digest']);
    expect(
      analyzeStatement("SELECT similarity('a', 'b')", 'read_only', 'execute', allowed).shadowableFunctions,
    ).toEqual([]);
    expect(analyzeStatement("SELECT ext.digest('a', 'sha256')", 'read_only', 'execute', allowed).kind).toBe(
      'SelectStmt',
    );
    expect(refusal(() => analyzeStatement("SELECT digest('a', 'sha256')", 'read_only', 'execute', allowed)).code).toBe(
      'FORBIDDEN',
    );
    expect(
      refusal(() => analyzeStatement("SELECT other.similarity('a', 'b')", 'read_only', 'execute', allowed)).code,
    ).toBe('FORBIDDEN');
  });

  it('refuses explicitly named operators outside pg_catalog', () => {
    for (const sql of [
      'SELECT a OPERATOR(public.===) b FROM t',
      'SELECT * FROM t ORDER BY a USING OPERATOR(public.<)',
      'SELECT 1 WHERE 1 OPERATOR(evil.=) ANY (SELECT 1)',
    ]) {
      expect(refusal(() => analyzeStatement(sql, 'read_only')).message, sql).toMatch(
        /^OPERATOR\((public|evil)\.[^)]+\) is not allowed in read-only mode/,
      );
    }
    expect(analyzeStatement('SELECT 1 OPERATOR(pg_catalog.+) 2', 'read_only').kind).toBe('SelectStmt');
  });
});

describe('read_only mode: an allow-list of statement kinds', () => {
  it.each([
    ['LOCK TABLE t IN ACCESS EXCLUSIVE MODE', 'LOCK'],
    ['ANALYZE t', 'ANALYZE'],
    ['VACUUM t', 'VACUUM'],
    ['VACUUM FULL', 'VACUUM'],
    ['CLUSTER t USING t_pkey', 'CLUSTER'],
    ['REINDEX TABLE t', 'REINDEX'],
    ['REFRESH MATERIALIZED VIEW mv', 'REFRESH MATERIALIZED VIEW'],
    ['DELETE FROM t', 'DELETE'],
    ['INSERT INTO t VALUES (1)', 'INSERT'],
    ['UPDATE t SET a = 1', 'UPDATE'],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', 'MERGE'],
    ['TRUNCATE t', 'TRUNCATE'],
    ['CREATE TABLE x (a int)', 'CREATE TABLE'],
    ['DROP TABLE t', 'DROP'],
    ['COMMENT ON TABLE t IS $$x$$', 'COMMENT'],
    ['GRANT SELECT ON t TO PUBLIC', 'GRANT'],
    ['NOTIFY chan', 'NOTIFY'],
    ['SECURITY LABEL ON TABLE t IS $$x$$', 'SECURITY LABEL'],
    ['WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone', 'DELETE'],
    ['WITH a AS (SELECT 1), b AS (UPDATE t SET a = 1 RETURNING 1) SELECT * FROM a', 'UPDATE'],
  ])('refuses %s', (sql, verb) => {
    const error = refusal(() => analyzeStatement(sql, 'read_only'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toBe(
      `${verb} is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): only SELECT (and VALUES, TABLE, WITH ... SELECT), EXPLAIN and SHOW run here.`,
    );
  });

  it.each([
    'SELECT * FROM t FOR UPDATE',
    'SELECT * FROM t FOR SHARE',
    'SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED',
    'SELECT * FROM (SELECT * FROM t FOR KEY SHARE) s',
    'WITH x AS (SELECT * FROM t FOR UPDATE) SELECT 1',
  ])('refuses row locks: %s', (sql) => {
    expect(refusal(() => analyzeStatement(sql, 'read_only')).message).toBe(
      'SELECT ... FOR UPDATE/SHARE is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): it takes row locks beyond reading.',
    );
  });

  it('plans writes with plain EXPLAIN, but refuses EXPLAIN ANALYZE of one (it would run it)', () => {
    expect(analyzeStatement('EXPLAIN DELETE FROM t', 'read_only').kind).toBe('ExplainStmt');
    expect(analyzeStatement('DELETE FROM t', 'read_only', 'explain').kind).toBe('DeleteStmt');
    for (const sql of ['EXPLAIN ANALYZE DELETE FROM t', 'EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1']) {
      expect(refusal(() => analyzeStatement(sql, 'read_only')).message).toMatch(
        /^EXPLAIN ANALYZE runs the statement, and (DELETE|UPDATE) is not allowed in read-only mode/,
      );
    }
    expect(refusal(() => analyzeStatement('DELETE FROM t', 'read_only', 'explain_analyze')).message).toMatch(
      /^DELETE is not allowed in read-only mode/,
    );
    expect(analyzeStatement('EXPLAIN (ANALYZE false) DELETE FROM t', 'read_only').kind).toBe('ExplainStmt');
  });

  it('refuses DO, CALL and SELECT ... INTO', () => {
    expect(refusal(() => analyzeStatement('DO $$ BEGIN PERFORM 1; END $$', 'read_only')).message).toBe(
      'DO runs procedural code and is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only).',
    );
    expect(refusal(() => analyzeStatement('CALL p()', 'read_only')).message).toMatch(/^(CALL|p\(\)) .*not allowed/);
    expect(refusal(() => analyzeStatement('SELECT 1 AS a INTO archive', 'read_only')).message).toBe(
      'SELECT ... INTO is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): it creates a table.',
    );
  });
});

describe('every mode', () => {
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
    ['/* hidden */ COMMIT', 'COMMIT'],
  ])('refuses transaction control: %s', (sql, verb) => {
    for (const mode of both) {
      const error = refusal(() => analyzeStatement(sql, mode));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toContain(`Transaction control (${verb}) is not allowed`);
    }
  });

  it('refuses COPY: PROGRAM, server files, and STDIN/STDOUT', () => {
    for (const mode of both) {
      for (const sql of ["COPY t FROM PROGRAM 'cat /etc/passwd'", "copy (select 1) to program 'sh'"]) {
        expect(refusal(() => analyzeStatement(sql, mode)).message).toBe(
          'COPY ... PROGRAM runs a shell command on the database server and is never allowed.',
        );
      }
      for (const sql of ["COPY t TO '/tmp/out.csv'", "COPY t FROM '/etc/passwd'", "COPY (SELECT 1) TO E'/tmp/x'"]) {
        expect(refusal(() => analyzeStatement(sql, mode)).message).toBe(
          'COPY to or from a file on the database server is never allowed.',
        );
      }
      expect(refusal(() => analyzeStatement('COPY t TO STDOUT', mode)).message).toContain('Use SELECT to read rows');
    }
  });

  it.each([
    ['SET search_path = evil', 'SET'],
    ['SET LOCAL search_path = evil', 'SET'],
    ['SET ROLE postgres', 'SET'],
    ['set session authorization postgres', 'SET'],
    ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', 'SET'],
    ['RESET ALL', 'RESET'],
    ['DISCARD ALL', 'DISCARD'],
    ['LISTEN chan', 'LISTEN'],
    ['UNLISTEN *', 'UNLISTEN'],
    ["LOAD 'plugin'", 'LOAD'],
    ['PREPARE p AS SELECT 1', 'PREPARE'],
    ['EXECUTE p', 'EXECUTE'],
    ['DEALLOCATE ALL', 'DEALLOCATE'],
    ['DECLARE c CURSOR WITH HOLD FOR SELECT 1', 'DECLARE'],
    ['FETCH ALL FROM c', 'FETCH'],
    ['MOVE c', 'MOVE'],
    ['CLOSE c', 'CLOSE'],
  ])('refuses session-state statement %s', (sql, verb) => {
    for (const mode of both) {
      const error = refusal(() => analyzeStatement(sql, mode));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toBe(
        `${verb} is not allowed: it changes session state that would outlive this call on a pooled connection. Use a plain statement instead.`,
      );
    }
  });

  it.each([
    'CREATE TEMP TABLE scratch (a int)',
    'create temporary table scratch as select 1',
    'CREATE LOCAL TEMPORARY TABLE scratch (a int)',
    'CREATE OR REPLACE TEMP VIEW v AS SELECT 1',
    'CREATE TEMP SEQUENCE s',
    'SELECT 1 AS a INTO TEMP scratch',
    'CREATE TABLE pg_temp.scratch (a int)',
  ])('refuses temporary objects, which would outlive the call: %s', (sql) => {
    const error = refusal(() => analyzeStatement(sql, 'read_write'));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/^Temporary tables, views and sequences are not allowed/);
  });

  it.each([
    ["SELECT pg_read_file('/etc/passwd')", 'pg_read_file', 'reads or writes files on the database server'],
    ["SELECT pg_catalog.pg_read_binary_file('x')", 'pg_read_binary_file', 'files'],
    ["SELECT * FROM pg_ls_dir('.')", 'pg_ls_dir', 'files'],
    ['SELECT pg_ls_waldir()', 'pg_ls_waldir', 'files'],
    ["SELECT pg_stat_file('postgresql.conf')", 'pg_stat_file', 'files'],
    ["SELECT lo_import('/etc/passwd')", 'lo_import', 'files'],
    ["SELECT lo_export(1, '/tmp/x')", 'lo_export', 'files'],
    ["SELECT dblink_exec('host=x', 'DELETE FROM t')", 'dblink_exec', 'reaches other database servers'],
    ["SELECT * FROM dblink('dbname=x', 'select 1') AS r(a int)", 'dblink', 'other database servers'],
    ["SELECT set_config('search_path', 'evil', false)", 'set_config', 'session state'],
    ['SELECT pg_advisory_lock(1)', 'pg_advisory_lock', 'session state'],
    ['SELECT pg_try_advisory_lock_shared(1)', 'pg_try_advisory_lock_shared', 'session state'],
    ['SELECT pg_advisory_unlock_all()', 'pg_advisory_unlock_all', 'session state'],
    ['SELECT pg_terminate_backend(1)', 'pg_terminate_backend', 'signals other sessions'],
    ['SELECT pg_cancel_backend(pg_backend_pid())', 'pg_cancel_backend', 'signals other sessions'],
    ['SELECT pg_reload_conf()', 'pg_reload_conf', 'changes the server'],
    ['SELECT pg_switch_wal()', 'pg_switch_wal', 'changes the server'],
    ['SELECT pg_stat_reset()', 'pg_stat_reset', 'changes the server'],
    ['SELECT pg_stat_reset_shared($$bgwriter$$)', 'pg_stat_reset_shared', 'changes the server'],
    ["SELECT pg_create_logical_replication_slot('s', 'test_decoding')", 'pg_create_logical_replication_slot', 'server'],
    ["SELECT query_to_xml('DELETE FROM t RETURNING *', true, false, '')", 'query_to_xml', 'SQL given as a string'],
    ["SELECT * FROM ts_stat('SELECT v FROM t')", 'ts_stat', 'SQL given as a string'],
    ['SELECT "pg_read_file"(\'x\')', 'pg_read_file', 'files'],
    ['SELECT U&"\\0070g_read_file"(\'x\')', 'pg_read_file', 'files'],
    ["SELECT PG_READ_FILE /* hidden */ ('x')", 'pg_read_file', 'files'],
    ['SELECT x.pg_terminate_backend FROM (SELECT 1) x', 'pg_terminate_backend', 'signals'],
  ])('refuses %s in every mode (%s)', (sql, name, reason) => {
    for (const mode of both) {
      const error = refusal(() => analyzeStatement(sql, mode));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toMatch(new RegExp(`^${name}\\(\\) is not allowed: it .*${reason}`));
    }
  });

  it.each([
    ["ALTER SYSTEM SET work_mem = '1GB'", 'ALTER SYSTEM', 'server configuration'],
    ['ALTER SYSTEM RESET ALL', 'ALTER SYSTEM', 'server configuration'],
    ['CHECKPOINT', 'CHECKPOINT', 'checkpoint'],
    ['CREATE ROLE evil SUPERUSER', 'CREATE ROLE', 'roles'],
    ['ALTER ROLE postgres PASSWORD $$x$$', 'ALTER ROLE', 'roles'],
    ['ALTER ROLE ALL SET search_path = evil', 'ALTER ROLE SET', 'roles'],
    ['DROP ROLE someone', 'DROP ROLE', 'roles'],
    ['GRANT pg_read_server_files TO current_user', 'GRANT', 'role membership'],
    ['CREATE DATABASE other', 'CREATE DATABASE', 'databases'],
    ['ALTER DATABASE test SET search_path = evil', 'ALTER DATABASE SET', 'databases'],
    ['DROP DATABASE other', 'DROP DATABASE', 'databases'],
    ["CREATE TABLESPACE t LOCATION '/tmp'", 'CREATE TABLE SPACE', 'tablespaces'],
    ['CREATE EXTENSION dblink', 'CREATE EXTENSION', 'installs code'],
    ['CREATE EXTENSION IF NOT EXISTS file_fdw', 'CREATE EXTENSION', 'installs code'],
    // PostgreSQL turns CREATE LANGUAGE into CREATE EXTENSION.
    ['CREATE LANGUAGE plperlu', 'CREATE EXTENSION', 'installs code'],
    ['CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw', 'CREATE SERVER', 'foreign data wrapper'],
    ['CREATE FOREIGN TABLE f (a text) SERVER files', 'CREATE FOREIGN TABLE', 'foreign data wrapper'],
    ["CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", 'CREATE SUBSCRIPTION', 'other servers'],
    ['CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f()', 'CREATE EVENT TRIGGER', 'DDL'],
  ])('refuses %s in every mode', (sql, verb, reason) => {
    for (const mode of both) {
      const error = refusal(() => analyzeStatement(sql, mode));
      expect(error.code, sql).toBe('FORBIDDEN');
      expect(error.message, sql).toMatch(new RegExp(`^${verb} is never allowed: it .*${reason}`));
    }
  });

  it('refuses the views that read server files', () => {
    for (const mode of both) {
      for (const view of ['pg_hba_file_rules', 'pg_catalog.pg_file_settings', 'pg_ident_file_mappings']) {
        expect(refusal(() => analyzeStatement(`SELECT * FROM ${view}`, mode)).message).toMatch(
          /^pg_[a-z_]+ is not allowed: it reads or writes files on the database server\.$/,
        );
      }
    }
  });

  it('does not mistake names inside strings, comments or longer identifiers for functions', () => {
    for (const mode of both) {
      expect(
        analyzeStatement(
          "SELECT 'pg_sleep(10)', 'set_config', $q$lo_import('/etc/passwd')$q$ /* pg_read_file() */ -- dblink()\n FROM sleep_log",
          mode,
        ).kind,
      ).toBe('SelectStmt');
      expect(analyzeStatement('SELECT my_nextval_total, pg_read_file_count FROM logs', mode).kind).toBe('SelectStmt');
    }
  });
});

describe('read_write mode', () => {
  it('lets the database judge ordinary writes and DDL', () => {
    for (const sql of [
      'DELETE FROM t',
      'INSERT INTO t VALUES (1) RETURNING *',
      'WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x',
      'CREATE TABLE temp (a int)',
      'SELECT 1 AS a INTO archive',
      "SELECT nextval('s'), pg_sleep(0.1)",
      'LOCK TABLE t IN ACCESS EXCLUSIVE MODE',
      'VACUUM t',
      'NOTIFY chan',
      'CALL p()',
    ]) {
      expect(analyzeStatement(sql, 'read_write').sessionClean, sql).toBe(false);
    }
  });

  it('proves plain reads of pure built-ins session-clean (no reset needed)', () => {
    expect(analyzeStatement('SELECT lower(name) FROM t WHERE id = $1', 'read_write').sessionClean).toBe(true);
    expect(analyzeStatement('SELECT my_function()', 'read_write').sessionClean).toBe(false);
  });

  it('checks the bodies of SQL and PL/pgSQL functions and DO blocks with the same rules', () => {
    for (const [sql, message] of [
      [
        'CREATE FUNCTION f() RETURNS bool LANGUAGE sql AS $$ SELECT pg_terminate_backend(1) $$',
        /^pg_terminate_backend\(\) is not allowed/,
      ],
      [
        'CREATE FUNCTION f() RETURNS bool LANGUAGE sql BEGIN ATOMIC SELECT pg_cancel_backend(1); END',
        /^pg_cancel_backend\(\) is not allowed/,
      ],
      [
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_ls_dir('.'); RETURN 1; END $$",
        /^pg_ls_dir\(\) is not allowed/,
      ],
      [
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ DECLARE x text; BEGIN x := pg_catalog.pg_read_file('/etc/passwd'); RETURN 1; END $$",
        /^pg_read_file\(\) is not allowed/,
      ],
      [
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SELECT 1'; RETURN 1; END $$",
        /^Dynamic SQL \(EXECUTE\) in a PL\/pgSQL body is not allowed/,
      ],
      [
        "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('a.b', 'c', false); END $$",
        /^set_config\(\) is not allowed/,
      ],
      ['DO $$ BEGIN PERFORM pg_advisory_lock(1); END $$', /^pg_advisory_lock\(\) is not allowed/],
      ["DO LANGUAGE plperlu $$ system('id') $$", /^Code in language plperlu is not allowed/],
      ["CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'libc', 'getpid'", /^Code in language c is not allowed/],
      ['CREATE OPERATOR ### (FUNCTION = pg_read_file, RIGHTARG = text)', /^pg_read_file\(\) is not allowed/],
      ['CREATE CAST (text AS int) WITH FUNCTION pg_terminate_backend(int)', /^pg_terminate_backend\(\) is not allowed/],
    ] as const) {
      const error = refusal(() => analyzeStatement(sql, 'read_write'));
      expect(error.code, sql).toBe('FORBIDDEN');
      expect(error.message, sql).toMatch(message);
    }
  });

  it('accepts checked function bodies, and a routine`s own SET clause', () => {
    for (const sql of [
      'CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + 1 $$',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql SET search_path = public AS $$ DECLARE x int := 1; BEGIN x := x + 1; RETURN x; END $$',
      'ALTER FUNCTION f() SET search_path = public',
      'DO $$ BEGIN PERFORM 1; END $$',
    ]) {
      expect(analyzeStatement(sql, 'read_write').sessionClean, sql).toBe(false);
    }
  });
});

describe('explain purpose', () => {
  it('plans only what EXPLAIN can plan, without EXPLAIN in front', () => {
    expect(analyzeStatement('UPDATE t SET a = 1', 'read_write', 'explain').kind).toBe('UpdateStmt');
    expect(refusal(() => analyzeStatement('EXPLAIN SELECT 1', 'read_only', 'explain')).message).toBe(
      'Pass the statement itself, without EXPLAIN: explain_query adds it.',
    );
    expect(refusal(() => analyzeStatement('CREATE TABLE x (a int)', 'read_write', 'explain')).message).toContain(
      'not CREATE TABLE',
    );
  });
});
