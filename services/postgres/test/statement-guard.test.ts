import { afterAll, describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { INLINE_CHECK_CHARS, StatementGuard } from '../src/statement-guard.js';

const guard = new StatementGuard('read_only', new Set());

afterAll(async () => {
  await guard.close();
});

/** A statement longer than the inline limit, padded with a comment the parser skips. */
const long = (sql: string) => `${sql} /* ${'x'.repeat(INLINE_CHECK_CHARS)} */`;

describe('StatementGuard', () => {
  it('checks long statements in a worker thread, with the same verdicts', async () => {
    await expect(guard.check(long('SELECT lower(name) FROM t'), 'execute')).resolves.toEqual({
      kind: 'SelectStmt',
      verb: 'SELECT',
      shadowableFunctions: ['lower'],
      sessionClean: true,
    });
    const refused = await guard.check(long("SELECT lo_from_bytea(0, 'x')"), 'execute').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DatabaseError);
    expect(refused).toMatchObject({
      code: 'FORBIDDEN',
      message:
        'lo_from_bytea() is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): it reads or writes large objects.',
    });
    await expect(guard.check(long('SELEC 1'), 'execute')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      sqlstate: '42601',
    });
  });

  it('keeps the event loop free while a pathological statement is parsed', async () => {
    // 100,000 characters of nested operators: the parser needs a long time for it.
    const sql = `SELECT ${Array.from({ length: 7000 }, (_, i) => `lower('${i}')`).join(' || ')}`.slice(0, 99_000);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const verdict = guard.check(`${sql.slice(0, sql.lastIndexOf(' ||'))}`, 'execute');
    await verdict;
    clearInterval(timer);
    // The timer kept firing while the worker parsed (an event loop blocked for the whole parse would
    // let it fire once or twice at most).
    expect(ticks).toBeGreaterThan(3);
  });

  it('remembers verdicts of short statements', async () => {
    const first = await guard.check('SELECT 1', 'execute');
    expect(await guard.check('SELECT 1', 'execute')).toBe(first);
  });

  it('stops waiting when the call is cancelled', async () => {
    const controller = new AbortController();
    const pending = guard.check(long(`SELECT ${'1 + '.repeat(2000)}1`), 'execute', controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
