import { describe, expect, it } from 'vitest';

import { DatabaseError } from '../src/errors.js';
import { redact, safeCause, secretsOf, translatePgError } from '../src/pg-errors.js';

const URL_WITH_PASSWORD = 'postgresql://app:s3cr%40t-pass@db.internal:5432/app?sslmode=require';

function serverError(code: string, message: string, extra: Record<string, string> = {}) {
  return Object.assign(new Error(message), { code, severity: 'ERROR', ...extra });
}

const context = {
  accessMode: 'read_only' as const,
  statementTimeoutMs: 200,
  aborted: false,
  secrets: secretsOf(URL_WITH_PASSWORD),
};

describe('redact', () => {
  it('removes the connection string, its password (raw and decoded) and any postgres URL', () => {
    const secrets = secretsOf(URL_WITH_PASSWORD);
    expect(secrets).toContain('s3cr@t-pass');
    const text = `failed ${URL_WITH_PASSWORD} then s3cr@t-pass and s3cr%40t-pass and postgres://other:pw@h/db`;
    const out = redact(text, secrets);
    expect(out).not.toContain('s3cr');
    expect(out).not.toContain('other:pw');
    expect(out).toBe('failed [redacted] then [redacted] and [redacted] and postgres://[redacted]');
  });

  it('finds the password of a keyword/value connection string', () => {
    expect(secretsOf("host=db user=app password='pa ss' dbname=x")).toContain('pa ss');
    expect(secretsOf('host=db password=plain dbname=x')).toContain('plain');
  });

  it('keeps a redacted copy of an error as the cause for logs', () => {
    const error = Object.assign(new Error(`connect to ${URL_WITH_PASSWORD} failed`), { code: 'ECONNREFUSED' });
    const copy = safeCause(error, secretsOf(URL_WITH_PASSWORD));
    expect(copy.message).toBe('connect to [redacted] failed');
    expect(copy.stack).not.toContain('s3cr');
    expect((copy as Error & { code?: string }).code).toBe('ECONNREFUSED');
  });
});

describe('translatePgError', () => {
  it('keeps a DatabaseError as is', () => {
    const original = new DatabaseError('FORBIDDEN', 'no');
    expect(translatePgError(original, context)).toBe(original);
  });

  it('reports a statement timeout with the setting that caused it', () => {
    const error = translatePgError(serverError('57014', 'canceling statement due to statement timeout'), context);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe(
      'The statement ran longer than POSTGRES_STATEMENT_TIMEOUT_MS (200 ms) and was cancelled by the server (SQLSTATE 57014).',
    );
  });

  it('reports our own cancellation as CANCELLED', () => {
    const error = translatePgError(serverError('57014', 'canceling statement due to user request'), {
      ...context,
      aborted: true,
    });
    expect(error.code).toBe('CANCELLED');
  });

  it('explains a read-only refusal by the access mode or by the role', () => {
    const ro = translatePgError(serverError('25006', 'cannot execute DELETE in a read-only transaction'), context);
    expect(ro.code).toBe('FORBIDDEN');
    expect(ro.message).toBe(
      'Refused by the database: cannot execute DELETE in a read-only transaction (SQLSTATE 25006). This service runs with POSTGRES_ACCESS_MODE=read_only.',
    );
    const rw = translatePgError(serverError('25006', 'cannot execute DELETE in a read-only transaction'), {
      ...context,
      accessMode: 'read_write',
    });
    expect(rw.message).toContain('default_transaction_read_only = on');
  });

  it.each([
    ['42601', 'INVALID_INPUT'],
    ['22P02', 'INVALID_INPUT'],
    ['42P01', 'NOT_FOUND'],
    ['42883', 'NOT_FOUND'],
    ['42501', 'FORBIDDEN'],
    ['23505', 'CONFLICT'],
    ['40P01', 'CONFLICT'],
    ['53300', 'UNAVAILABLE'],
    ['XX000', 'UPSTREAM_FAILED'],
  ])('maps SQLSTATE %s to %s and keeps message, detail, hint and position', (code, expected) => {
    const error = translatePgError(
      serverError(code, 'the message', { detail: 'Key (id)=(1) already exists', hint: 'try again', position: '8' }),
      context,
    );
    expect(error.code).toBe(expected);
    expect(error.sqlstate).toBe(code);
    expect(error.message).toBe(
      `the message (SQLSTATE ${code}). Detail: Key (id)=(1) already exists. Hint: try again. At character 8 of the statement.`,
    );
  });

  it('never repeats authentication details', () => {
    const error = translatePgError(serverError('28P01', 'password authentication failed for user "app"'), context);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe('Database authentication failed (SQLSTATE 28P01).');
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT'])('names only the class of a network failure (%s)', (code) => {
    const error = translatePgError(
      Object.assign(new Error(`connect ${code} db.internal:5432 ${URL_WITH_PASSWORD}`), { code }),
      context,
    );
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe(`Cannot reach the database server (${code}).`);
    expect(String((error.cause as Error).message)).not.toContain('s3cr');
  });

  it('turns pool and connection failures into UNAVAILABLE with safe messages', () => {
    expect(translatePgError(new Error('timeout exceeded when trying to connect'), context).message).toContain(
      'POSTGRES_CONNECT_TIMEOUT_MS',
    );
    expect(translatePgError(new Error('Connection terminated unexpectedly'), context).message).toBe(
      'The connection to the database was lost during the call (the server or the network closed it). The call did not complete; try again.',
    );
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
      severity: 'FATAL',
    });
    expect(translatePgError(terminated, context)).toMatchObject({
      code: 'UNAVAILABLE',
      sqlstate: '57P01',
      message:
        "The database closed this call's connection (terminating connection due to administrator command, SQLSTATE 57P01). The call did not complete; try again.",
    });
    expect(translatePgError(new Error('self-signed certificate in certificate chain'), context).message).toContain(
      'sslmode',
    );
  });

  it('hides anything else behind a generic message', () => {
    const error = translatePgError(new Error(`weird failure for ${URL_WITH_PASSWORD}`), context);
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toBe('The database driver failed; see the service log for details.');
    expect((error.cause as Error).message).toBe('weird failure for [redacted]');
  });
});
