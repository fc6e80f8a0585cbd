import { describe, expect, it } from 'vitest';

import { DatabasesError } from '../src/errors.js';
import { checkSql, type GuardOptions } from '../src/sql/guard.js';
import { tokenize } from '../src/sql/lexer.js';

function refusal(sql: string, options: GuardOptions): DatabasesError {
  try {
    checkSql(sql, options);
  } catch (error) {
    if (error instanceof DatabasesError) return error;
    throw error;
  }
  throw new Error(`not refused: ${sql}`);
}

const RO = (dialect: GuardOptions['dialect']): GuardOptions => ({ dialect, access: 'read_only' });
const RW = (dialect: GuardOptions['dialect']): GuardOptions => ({ dialect, access: 'read_write' });

describe('the lexer', () => {
  it('hides keywords in strings, comments and quoted identifiers, per dialect', () => {
    const words = (sql: string, dialect: GuardOptions['dialect']) =>
      tokenize(sql, dialect)
        .filter((token) => token.kind === 'word')
        .map((token) => token.value);
    expect(words(`SELECT 'DROP TABLE x' /* DELETE */ -- UPDATE\n FROM "insert"`, 'postgres')).toEqual([
      'select',
      'from',
    ]);
    expect(words(`SELECT $tag$ DELETE $tag$, E'\\' DELETE', 1`, 'postgres')).toEqual(['select']);
    expect(words('SELECT `delete`, "update" # drop\n FROM t', 'mysql')).toEqual(['select', 'from', 't']);
    expect(words(`SELECT [drop table], N'exec xp_cmdshell' FROM t /* a /* nested */ exec */`, 'tsql')).toEqual([
      'select',
      'from',
      't',
    ]);
  });

  it('reads MySQL executable comments and hints as code', () => {
    const words = tokenize('SELECT 1 /*! , SLEEP(5) */ /*M!100100 , BENCHMARK(1,1) */ /*+ SET_VAR(x=1) */', 'mysql')
      .filter((token) => token.kind === 'word')
      .map((token) => token.value);
    expect(words).toEqual(['select', 'sleep', 'benchmark', 'set_var', 'x']);
  });

  it('ends MySQL strings where the sql_mode says', () => {
    // With backslash escapes (the default) the quote is escaped and DELETE is inside the string.
    const sql = "SELECT 'a\\', DELETE -- '";
    expect(tokenize(sql, 'mysql').some((t) => t.kind === 'word' && t.value === 'delete')).toBe(false);
    // With NO_BACKSLASH_ESCAPES the string ends at the second quote: DELETE is code.
    expect(
      tokenize(sql, 'mysql', { backslashEscapes: false }).some((t) => t.kind === 'word' && t.value === 'delete'),
    ).toBe(true);
    // ANSI_QUOTES: "..." is an identifier.
    expect(tokenize('SELECT "x"', 'mysql', { ansiQuotes: true }).map((t) => t.kind)).toEqual(['word', 'quoted']);
  });

  it('decodes PostgreSQL U&"..." identifiers', () => {
    expect(tokenize('SELECT U&"\\0070g_sleep"(1)', 'postgres')[1]).toMatchObject({ kind: 'quoted', value: 'pg_sleep' });
  });

  it('refuses unterminated strings and comments with their position', () => {
    expect(refusal("SELECT 'abc", RO('postgres')).message).toBe('Unterminated string literal starting at position 8');
    expect(refusal('SELECT 1 /* x', RO('tsql')).message).toBe('Unterminated /* comment */ starting at position 10');
    expect(refusal('SELECT [abc', RO('tsql')).message).toBe('Unterminated bracketed identifier starting at position 8');
    expect(refusal('SELECT $a$ x', RO('postgres')).message).toBe(
      'Unterminated dollar-quoted string $a$ starting at position 8',
    );
  });
});

const allowed: [GuardOptions['dialect'], string][] = [
  ['postgres', 'SELECT * FROM orders WHERE id = $1'],
  ['postgres', 'WITH x AS (SELECT 1) SELECT * FROM x'],
  ['postgres', "SELECT 'delete from orders; drop table x' AS note"],
  ['postgres', 'SELECT "update", "delete" FROM t'],
  ['postgres', 'VALUES (1), (2)'],
  ['postgres', 'SHOW server_version'],
  ['postgres', '(SELECT 1) UNION (SELECT 2);'],
  ['postgres', 'SELECT temp FROM weather'],
  ['mysql', 'SELECT * FROM products WHERE id = ?'],
  ['mysql', 'SHOW TABLES'],
  ['mysql', 'DESCRIBE products'],
  ['mysql', "SELECT 'SLEEP(10)' AS s"],
  ['mysql', 'SELECT @@version'],
  ['tsql', 'SELECT TOP (10) * FROM [dbo].[orders] WHERE id = @p1'],
  ['tsql', "SELECT N'EXEC xp_cmdshell ''dir''' AS s"],
  ['tsql', 'WITH x AS (SELECT 1 AS a) SELECT a FROM x'],
  ['tsql', 'SELECT [update], [set], [exec] FROM [t]'],
  ['tsql', 'SELECT 1; SELECT 2'],
];

describe('statements a read-only server accepts', () => {
  it.each(allowed)('%s: %s', (dialect, sql) => {
    expect(() => checkSql(sql, RO(dialect))).not.toThrow();
  });
});

/** [dialect, sql, message]: refused on a read-only server. */
const readOnlyBank: [GuardOptions['dialect'], string, RegExp][] = [
  // PostgreSQL
  ['postgres', 'DELETE FROM orders', /^DELETE is not allowed on a read-only server: statements must start with SELECT/],
  [
    'postgres',
    'WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone',
    /^DELETE is not allowed on a read-only server/,
  ],
  ['postgres', 'WITH x AS (UPDATE orders SET total = 0 RETURNING 1) SELECT 1', /^UPDATE is not allowed/],
  ['postgres', 'WITH x AS (INSERT INTO orders VALUES (9) RETURNING 1) SELECT 1', /^INSERT is not allowed/],
  ['postgres', 'SELECT * INTO stolen FROM orders', /^INTO is not allowed on a read-only server/],
  ['postgres', 'SELECT * INTO TEMP stolen FROM orders', /^INTO is not allowed|^Temporary tables/],
  ['postgres', 'CREATE TEMP TABLE t (a int)', /^Temporary tables|^CREATE is not allowed/],
  ['postgres', 'LOCK TABLE orders', /^LOCK is not allowed: it stalls or locks the server/],
  ['postgres', 'SET search_path = evil', /^SET is not allowed: it changes session state/],
  ['postgres', 'set/**/statement_timeout=0', /^SET is not allowed/],
  [
    'postgres',
    "SELECT set_config('statement_timeout', '0', false)",
    /^SET_CONFIG is not allowed: it changes session state/,
  ],
  ['postgres', 'RESET ALL', /^RESET is not allowed/],
  ['postgres', 'DISCARD ALL', /^DISCARD is not allowed/],
  ['postgres', 'CALL do_things()', /^CALL is not allowed on a read-only server/],
  ['postgres', 'DO $$ BEGIN DELETE FROM orders; END $$', /^DO is not allowed on a read-only server/],
  ['postgres', 'SELECT pg_sleep(10)', /^PG_SLEEP is not allowed on a read-only server: it stalls/],
  ['postgres', "SELECT pg_catalog.pg_sleep_for('10 s')", /^PG_SLEEP_FOR is not allowed/],
  ['postgres', 'SELECT "pg_sleep"(10)', /^pg_sleep is not allowed on a read-only server/],
  ['postgres', 'SELECT U&"\\0070g_sleep"(10)', /^pg_sleep is not allowed on a read-only server/],
  ['postgres', 'SELECT lo_create(0)', /^LO_CREATE is not allowed on a read-only server/],
  ['postgres', "SELECT lo_import('/etc/passwd')", /^LO_IMPORT is not allowed: it reads or writes files/],
  ['postgres', "SELECT pg_read_file('/etc/passwd')", /^PG_READ_FILE is not allowed/],
  ['postgres', "SELECT * FROM pg_ls_dir('.')", /^PG_LS_DIR is not allowed/],
  ['postgres', "SELECT nextval('order_ids')", /^NEXTVAL is not allowed on a read-only server/],
  ['postgres', 'SELECT pg_advisory_lock(1)', /^PG_ADVISORY_LOCK is not allowed: it changes session state/],
  ['postgres', 'SELECT pg_advisory_xact_lock(1)', /^PG_ADVISORY_XACT_LOCK is not allowed on a read-only server/],
  ['postgres', 'SELECT pg_terminate_backend(1)', /^PG_TERMINATE_BACKEND is not allowed: it signals/],
  [
    'postgres',
    "SELECT query_to_xml('DELETE FROM orders RETURNING *', true, false, '')",
    /^QUERY_TO_XML is not allowed/,
  ],
  ['postgres', "SELECT * FROM dblink('host=x', 'DELETE FROM t')", /^DBLINK is not allowed/],
  ['postgres', "COPY orders TO PROGRAM 'sh'", /^COPY is not allowed/],
  ['postgres', 'SELECT 1; DELETE FROM orders', /^Only one statement per call/],
  ['postgres', 'SELECT 1;/* */DELETE FROM orders', /^Only one statement per call/],
  ['postgres', 'BEGIN', /^BEGIN is not allowed: transaction control/],
  ['postgres', 'COMMIT', /^COMMIT is not allowed/],
  ['postgres', "PREPARE TRANSACTION 'x'", /^PREPARE is not allowed/],
  ['postgres', 'SELECT * FROM orders FOR UPDATE', /^UPDATE is not allowed on a read-only server/],
  ['postgres', "NOTIFY chan, 'x'", /^NOTIFY is not allowed/],
  ['postgres', 'DECLARE c CURSOR WITH HOLD FOR SELECT 1', /^DECLARE is not allowed/],
  // MySQL / MariaDB
  ['mysql', 'DELETE FROM products', /^DELETE is not allowed on a read-only server/],
  ['mysql', 'DROP TABLE products', /^DROP is not allowed on a read-only server/],
  ['mysql', 'WITH x AS (SELECT 1) DELETE FROM products', /^DELETE is not allowed on a read-only server/],
  ['mysql', 'SELECT * FROM products INTO OUTFILE "/tmp/x"', /^INTO is not allowed on a read-only server/],
  ['mysql', "SELECT 1 INTO DUMPFILE '/tmp/x'", /^INTO is not allowed on a read-only server/],
  ['mysql', 'SELECT 1 INTO @x', /^INTO is not allowed on a read-only server/],
  ['mysql', "SELECT LOAD_FILE('/etc/passwd')", /^LOAD_FILE is not allowed/],
  ['mysql', "LOAD DATA INFILE '/etc/passwd' INTO TABLE products", /^LOAD is not allowed/],
  ['mysql', 'HANDLER products OPEN', /^HANDLER is not allowed/],
  ['mysql', 'LOCK TABLES products WRITE', /^LOCK is not allowed/],
  ['mysql', 'SET GLOBAL max_connections = 1', /^SET is not allowed/],
  ['mysql', 'SET @@global.max_connections = 1', /^SET is not allowed/],
  ['mysql', 'SELECT @a := 1', /^Assigning user variables/],
  ['mysql', "SELECT GET_LOCK('x', 10)", /^GET_LOCK is not allowed/],
  ['mysql', 'SELECT SLEEP(10)', /^SLEEP is not allowed on a read-only server: it stalls/],
  ['mysql', "SELECT BENCHMARK(100000000, MD5('x'))", /^BENCHMARK is not allowed/],
  ['mysql', 'SELECT 1 /*!, SLEEP(10) */', /^SLEEP is not allowed/],
  ['mysql', 'SELECT 1 /*!50000 ; DELETE FROM products */', /^Only one statement per call/],
  ['mysql', 'SELECT 1 /*M! ; DROP TABLE products */', /^Only one statement per call/],
  ['mysql', 'CALL p()', /^CALL is not allowed on a read-only server/],
  ['mysql', 'DO SLEEP(5)', /^DO is not allowed on a read-only server/],
  ['mysql', 'SELECT 1; DELETE FROM products', /^Only one statement per call/],
  ['mysql', 'START TRANSACTION', /^START is not allowed: transaction control/],
  ['mysql', 'USE mysql', /^USE is not allowed/],
  ['mysql', 'PREPARE s FROM "DELETE FROM products"', /^PREPARE is not allowed/],
  ['mysql', 'SELECT * FROM products LOCK IN SHARE MODE', /^SHARE is not allowed on a read-only server/],
  ['mysql', 'SELECT * FROM products FOR UPDATE', /^UPDATE is not allowed on a read-only server/],
  ['mysql', 'CREATE TEMPORARY TABLE t (a int)', /^TEMPORARY is not allowed|^CREATE is not allowed/],
  ['mysql', 'SELECT NEXTVAL(s)', /^NEXTVAL is not allowed/],
  ['mysql', 'KILL 1', /^KILL is not allowed/],
  ['mysql', 'FLUSH TABLES', /^FLUSH is not allowed/],
];

describe('refused on a read-only server', () => {
  it.each(readOnlyBank)('%s: %s', (dialect, sql, message) => {
    expect(refusal(sql, RO(dialect)).message).toMatch(message);
  });

  it('follows the session sql_mode for MySQL strings', () => {
    // Backslash escapes: one string up to the last quote. NO_BACKSLASH_ESCAPES: SLEEP(5) is code.
    const sql = "SELECT 'a\\', SLEEP(5) -- '";
    expect(() => checkSql(sql, RO('mysql'))).not.toThrow();
    expect(refusal(sql, { ...RO('mysql'), lex: { backslashEscapes: false } }).message).toMatch(/^SLEEP is not allowed/);
  });
});

/** The T-SQL bank: batches split on GO, procedures, stalls, files, other servers, hidden keywords. */
const tsqlBank: [string, RegExp][] = [
  ['SELECT 1\nGO\nDROP TABLE t', /^GO is not allowed: GO separates batches/],
  ['SELECT 1\ngo 5', /^GO is not allowed/],
  ["EXEC xp_cmdshell 'dir'", /^EXEC is not allowed/],
  ['EXECUTE sp_configure', /^EXECUTE is not allowed/],
  ["EXEC('DELETE FROM t')", /^EXEC is not allowed/],
  ["EXEC (N'SEL' + N'ECT 1')", /^EXEC is not allowed/],
  ["xp_cmdshell 'dir'", /^SELECT|is not allowed/],
  ["[master]..[xp_cmdshell] 'dir'", /^this statement is not allowed on a read-only server/],
  ["master.dbo.sp_configure 'show advanced options', 1", /^MASTER is not allowed|is not allowed/],
  ['SELECT * FROM sys.sp_who', /^SP_WHO is not allowed: system stored procedures/],
  ["sp_executesql N'DELETE FROM t'", /is not allowed/],
  ["WAITFOR DELAY '00:00:10'", /^WAITFOR is not allowed/],
  ["SELECT 1 WAITFOR DELAY '00:10'", /^WAITFOR is not allowed: it stalls/],
  [
    "SELECT * FROM OPENROWSET('SQLNCLI', 'Server=x;', 'SELECT 1')",
    /^OPENROWSET is not allowed: it reaches other servers/,
  ],
  ["SELECT * FROM OPENDATASOURCE('SQLNCLI', 'Data Source=x').db.dbo.t", /^OPENDATASOURCE is not allowed/],
  ["SELECT * FROM OPENQUERY(linked, 'SELECT 1')", /^OPENQUERY is not allowed/],
  ["BULK INSERT t FROM 'c:\\x.csv'", /^BULK is not allowed/],
  ["SELECT * FROM OPENROWSET(BULK 'c:\\secret.txt', SINGLE_CLOB) x", /^OPENROWSET is not allowed/],
  ['SELECT * INTO stolen FROM t', /^INTO is not allowed on a read-only server/],
  ['SELECT * INTO #t FROM t', /^INTO is not allowed on a read-only server/],
  ['DBCC DROPCLEANBUFFERS', /^DBCC is not allowed/],
  ['SHUTDOWN WITH NOWAIT', /^SHUTDOWN is not allowed/],
  ['RECONFIGURE', /^RECONFIGURE is not allowed/],
  ['KILL 52', /^KILL is not allowed/],
  ["BACKUP DATABASE x TO DISK = 'c:\\x.bak'", /^BACKUP is not allowed/],
  ['DELETE FROM t', /^DELETE is not allowed on a read-only server/],
  ['SELECT 1 DELETE FROM t', /^DELETE is not allowed on a read-only server/],
  ['SELECT 1; UPDATE t SET a = 1', /^UPDATE is not allowed|^SET is not allowed/],
  ['SELECT 1 TRUNCATE TABLE t', /^TRUNCATE is not allowed/],
  ['SELECT 1 COMMIT', /^COMMIT is not allowed: transaction control/],
  ['SELECT 1 ROLLBACK TRAN', /^ROLLBACK is not allowed/],
  ['SELECT 1 BEGIN TRAN', /^BEGIN is not allowed/],
  ['SELECT 1 SAVE TRANSACTION s', /^SAVE is not allowed/],
  ['SELECT 1 RETURN', /^RETURN is not allowed: it would jump past the end of the transaction/],
  ['SELECT 1 SET XACT_ABORT OFF', /^SET is not allowed: it changes session state/],
  ['SELECT 1 SET IMPLICIT_TRANSACTIONS ON', /^SET is not allowed/],
  ['SELECT 1 USE master', /^USE is not allowed/],
  ['SELECT 1 GRANT SELECT ON t TO public', /^GRANT is not allowed/],
  ['SELECT * FROM t WITH (TABLOCKX, HOLDLOCK)', /^TABLOCKX is not allowed on a read-only server: it stalls/],
  ['SELECT * FROM t WITH (UPDLOCK)', /^UPDLOCK is not allowed/],
  ['SELECT NEXT VALUE FOR dbo.seq', /^NEXT is not allowed on a read-only server/],
  ['SELECT 1 DECLARE @t TABLE (a int)', /^DECLARE is not allowed/],
  ['SELECT 1 /* comment */ DROP TABLE t', /^DROP is not allowed/],
  ['SELECT 1 /* nested /* */ */ DROP TABLE t', /^DROP is not allowed/],
  ["SELECT 'it''s' DROP TABLE t", /^DROP is not allowed/],
  ['SELECT [a]]b] CREATE TABLE x (a int)', /^CREATE is not allowed/],
  ['SELECT 1\u00a0DELETE FROM t', /^DELETE is not allowed/],
  ["SELECT 1\u2003EXEC('x')", /^EXEC is not allowed/],
  ['ＳＥＬＥＣＴ 1', /^ＳＥＬＥＣＴ is not allowed on a read-only server/],
  ['ALTER LOGIN sa ENABLE', /^ALTER is not allowed|^ALTER LOGIN/],
  ['SELECT 1 WRITETEXT t.c @p 0x00', /^WRITETEXT is not allowed/],
  ['SELECT * FROM t WHERE a = 1 OR 1=1 GOTO x', /^GOTO is not allowed/],
];

describe('the T-SQL guard, read-only', () => {
  it.each(tsqlBank)('%s', (sql, message) => {
    expect(refusal(sql, RO('tsql')).message).toMatch(message);
  });
});

describe('read-write servers', () => {
  it('accept writes but still refuse what outlives the call or reaches outside', () => {
    expect(() => checkSql('INSERT INTO notes (body) VALUES ($1)', RW('postgres'))).not.toThrow();
    expect(() => checkSql('UPDATE t SET a = 1 WHERE id = @p1', RW('tsql'))).not.toThrow();
    expect(() => checkSql('DELETE FROM notes WHERE id = ?', RW('mysql'))).not.toThrow();
    expect(refusal('SET XACT_ABORT OFF', RW('tsql')).message).toMatch(/^SET is not allowed/);
    expect(refusal("EXEC sp_configure 'x', 1", RW('tsql')).message).toMatch(/^EXEC is not allowed/);
    // A procedure runs without EXEC as a batch's first statement, even bracketed.
    expect(refusal("[master]..[xp_cmdshell] 'dir'", RW('tsql')).message).toBe(
      'xp_cmdshell is not allowed: it reaches other servers or runs code the guard cannot see.',
    );
    expect(refusal("sp_configure 'show advanced options', 1", RW('tsql')).message).toMatch(
      /^SP_CONFIGURE is not allowed/,
    );
    expect(refusal('SELECT * INTO OUTFILE "/tmp/x" FROM t', RW('mysql')).message).toMatch(/^OUTFILE is not allowed/);
    expect(refusal('SET GLOBAL x = 1', RW('mysql')).message).toMatch(/^SET is not allowed/);
    expect(refusal('COMMIT', RW('postgres')).message).toMatch(/^COMMIT is not allowed/);
    expect(refusal('CREATE TEMP TABLE t (a int)', RW('postgres')).message).toMatch(/^Temporary tables/);
    expect(refusal("SELECT pg_read_file('/etc/passwd')", RW('postgres')).message).toMatch(/^PG_READ_FILE/);
  });
});

describe('explain', () => {
  it('plans writes on a read-only server, refuses what acts at plan time and EXPLAIN itself', () => {
    expect(() => checkSql('DELETE FROM orders WHERE id = $1', { ...RO('postgres'), purpose: 'explain' })).not.toThrow();
    expect(() => checkSql('UPDATE t SET a = 1', { ...RO('tsql'), purpose: 'explain' })).not.toThrow();
    expect(refusal('EXPLAIN SELECT 1', { ...RO('postgres'), purpose: 'explain' }).message).toBe(
      'Pass the statement itself, without EXPLAIN: the explain tool adds it.',
    );
    expect(refusal('SELECT SLEEP(5)', { ...RO('mysql'), purpose: 'explain' }).message).toMatch(/^SLEEP is not allowed/);
    expect(refusal('DROP TABLE x', { ...RO('mysql'), purpose: 'explain' }).message).toMatch(/^explain plans /);
  });
});

describe('empty input', () => {
  it.each(['', '   ', '-- only a comment', '/* */', ';;'])('%j is refused as empty', (sql) => {
    expect(refusal(sql, RO('postgres')).code).toBe('INVALID_INPUT');
  });
});
