import { describe, expect, it } from 'vitest';

import { CircuitBreaker } from '../src/breaker.js';
import { likePattern } from '../src/databases.js';
import { wrapBatch } from '../src/engines/mssql.js';
import { RowCollector } from '../src/engines/results.js';
import { decodeKey, keyId, parseSecrets, PasswordCipher } from '../src/secrets.js';
import { databaseIncluded, parseServersFile } from '../src/servers-file.js';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('hex');

describe('PasswordCipher (AES-256-GCM)', () => {
  const a = new PasswordCipher(decodeKey(KEY_A, 'A'));
  it('round-trips, never repeats a ciphertext, and names its key', () => {
    const one = a.encrypt('s3cret', 'pg-main');
    const two = a.encrypt('s3cret', 'pg-main');
    expect(one).not.toBe(two);
    expect(one).not.toContain('s3cret');
    expect(PasswordCipher.keyIdOf(one)).toBe(keyId(decodeKey(KEY_A, 'A')));
    expect(a.decrypt(one, 'pg-main')).toBe('s3cret');
  });

  it('binds a ciphertext to its server and detects tampering', () => {
    const stored = a.encrypt('s3cret', 'pg-main');
    expect(() => a.decrypt(stored, 'maria-main')).toThrow(/failed authentication/);
    const parts = stored.split(':');
    parts[4] = Buffer.from('x').toString('base64');
    expect(() => a.decrypt(parts.join(':'), 'pg-main')).toThrow(/failed authentication/);
  });

  it('decrypts with a previous key while rotating, and refuses an unknown key by id', () => {
    const stored = a.encrypt('s3cret', 'x');
    const rotated = new PasswordCipher(decodeKey(KEY_B, 'B'), [decodeKey(KEY_A, 'A')]);
    expect(rotated.decrypt(stored, 'x')).toBe('s3cret');
    expect(PasswordCipher.keyIdOf(rotated.encrypt('s3cret', 'x'))).toBe(rotated.currentKeyId);
    const other = new PasswordCipher(decodeKey(KEY_B, 'B'));
    expect(() => other.decrypt(stored, 'x')).toThrow(
      `The stored password of x was encrypted with key ${a.currentKeyId}, which is neither DATABASES_ENCRYPTION_KEY (${other.currentKeyId}) nor listed in DATABASES_ENCRYPTION_KEY_PREVIOUS`,
    );
  });

  it('reads keys from the secrets file and refuses weak or missing ones without echoing them', () => {
    const secrets = parseSecrets(
      `# comment\nDATABASES_ENCRYPTION_KEY="${KEY_A}"\nDATABASES_ENCRYPTION_KEY_PREVIOUS=${KEY_B}\n`,
      'f',
    );
    expect(PasswordCipher.fromSecrets(secrets).currentKeyId).toBe(keyId(decodeKey(KEY_A, 'A')));
    expect(() => PasswordCipher.fromSecrets(new Map())).toThrow(
      /^DATABASES_SECRETS_FILE has no DATABASES_ENCRYPTION_KEY/,
    );
    expect(() => PasswordCipher.fromSecrets(new Map([['DATABASES_ENCRYPTION_KEY', 'short-secret']]))).toThrow(
      'DATABASES_ENCRYPTION_KEY must be 32 random bytes, as base64 (openssl rand -base64 32) or 64 hex digits',
    );
    expect(() => parseSecrets('not a pair\n', 'f')).toThrow('f: line 1 is not KEY=value');
  });
});

const SECRETS = new Map([['PW', 'hunter2']]);

describe('the servers file', () => {
  it('reads entries with defaults, engine aliases and passwords by reference', () => {
    const [server] = parseServersFile(
      'servers:\n  - {name: a, engine: mariadb, host: db, user: u, password_secret: PW, tags: [x]}\n',
      'file',
      SECRETS,
    );
    expect(server).toMatchObject({
      name: 'a',
      engine: 'mysql',
      port: 3306,
      access: 'read_only',
      password: 'hunter2',
      tls: 'off',
    });
  });

  it('names the entry and the field of every mistake, never a secret', () => {
    const parse = (text: string) => () => parseServersFile(text, 'file', SECRETS);
    expect(parse('servers:\n  - {name: A!, engine: mysql, host: h, user: u}\n')).toThrow(
      /^file: servers\[0\] \(A!\): name: /,
    );
    expect(parse('servers:\n  - {name: a, engine: oracle, host: h, user: u}\n')).toThrow(
      /^file: servers\[0\] \(a\): engine: /,
    );
    expect(parse('servers:\n  - {name: a, engine: mysql, host: h, user: u, password: x}\n')).toThrow(/password/);
    expect(parse('servers:\n  - {name: a, engine: mysql, host: h, user: u, password_secret: NOPE}\n')).toThrow(
      'file: servers[0] (a): password_secret NOPE is not in the secrets file',
    );
    expect(
      parse(
        'servers:\n  - {name: a, engine: mysql, host: h, user: u}\n  - {name: a, engine: mysql, host: h, user: u}\n',
      ),
    ).toThrow('file: servers[1] (a): the name "a" is used twice');
    expect(parse('servers: [\n')).toThrow(/^file: not valid YAML/);
  });

  it('includes and excludes databases by glob, and system databases only by exact name', () => {
    const server = { engine: 'mysql' as const, databases: { include: ['shop_*', 'mysql'], exclude: ['*_old'] } };
    expect(databaseIncluded(server, 'shop_eu')).toBe(true);
    expect(databaseIncluded(server, 'shop_old')).toBe(false);
    expect(databaseIncluded(server, 'hr')).toBe(false);
    expect(databaseIncluded(server, 'mysql')).toBe(true);
    expect(databaseIncluded({ engine: 'mysql', databases: { include: ['*'], exclude: [] } }, 'mysql')).toBe(false);
    expect(databaseIncluded({ engine: 'postgres', databases: { include: ['a.b'], exclude: [] } }, 'aXb')).toBe(false);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold, lets one trial through after the cooldown, closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker(2, 1000, () => now);
    breaker.failure('ECONNREFUSED');
    expect(breaker.tryAcquire()).toEqual({ ok: true });
    breaker.failure('ECONNREFUSED');
    expect(breaker.snapshot()).toEqual({
      state: 'open',
      consecutive_failures: 2,
      retry_at: new Date(1000).toISOString(),
      last_error: 'ECONNREFUSED',
    });
    now = 400;
    expect(breaker.tryAcquire()).toEqual({ ok: false, retryInMs: 600 });
    now = 1000;
    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()).toEqual({ ok: true });
    expect(breaker.tryAcquire()).toEqual({ ok: false, retryInMs: 0 });
    breaker.failure('again');
    expect(breaker.state).toBe('open');
    now = 2000;
    expect(breaker.tryAcquire()).toEqual({ ok: true });
    breaker.success();
    expect(breaker.snapshot()).toEqual({ state: 'closed', consecutive_failures: 0, retry_at: null, last_error: null });
  });
});

describe('small pieces', () => {
  it('RowCollector stops at the row limit and before the byte budget', () => {
    const rows = new RowCollector(['a'], 2, 1000);
    expect([rows.add([1]), rows.add([2]), rows.add([3])]).toEqual([true, true, false]);
    expect(rows.truncatedBy).toBe('rows');
    const bytes = new RowCollector(['a'], 100, 30);
    expect([bytes.add(['x'.repeat(10)]), bytes.add(['y'.repeat(10)])]).toEqual([true, false]);
    expect(bytes.truncatedBy).toBe('bytes');
    const values = new RowCollector(['b', 'd', 'n'], 10, 1000);
    values.add([10n, new Date(0), Buffer.from([1, 255])]);
    expect(values.rows).toEqual([{ b: '10', d: '1970-01-01T00:00:00.000Z', n: '0x01ff' }]);
  });

  it('find_objects patterns: wildcards or substring, LIKE characters escaped', () => {
    expect(likePattern('Cust*')).toBe('cust%');
    expect(likePattern('a?c')).toBe('a_c');
    expect(likePattern('100%_x')).toBe('%100\\%\\_x%');
  });

  it('wraps a SQL Server batch in a transaction that ends with it', () => {
    expect(wrapBatch('SELECT 1', true)).toBe(
      'SET XACT_ABORT ON;\nBEGIN TRANSACTION;\nSELECT 1\n;\nIF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;',
    );
    expect(wrapBatch('UPDATE t SET a = 1', false)).toMatch(/IF @@TRANCOUNT > 0 COMMIT TRANSACTION;$/);
  });
});

describe('config/servers.example.yml', () => {
  it('parses, each engine once, with the passwords it names', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../../config/servers.example.yml', import.meta.url), 'utf8');
    const secrets = new Map(
      ['SALES_PG_PASSWORD', 'SHOP_MARIADB_PASSWORD', 'ERP_SQL_PASSWORD', 'SCRATCH_PG_PASSWORD'].map((k) => [k, 'x']),
    );
    const servers = parseServersFile(text, 'example', secrets);
    expect(servers.map((s) => [s.name, s.engine, s.port, s.access])).toEqual([
      ['sales-pg', 'postgres', 5432, 'read_only'],
      ['shop-mariadb', 'mysql', 3306, 'read_only'],
      ['erp-sql', 'mssql', 1433, 'read_only'],
      ['scratch-pg', 'postgres', 5432, 'read_write'],
    ]);
  });
});
