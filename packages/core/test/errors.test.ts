import { describe, expect, it } from 'vitest';

import { ERROR_CODES, type ErrorCode, isExposedError, ServiceError, toServiceError } from '../src/index.js';

const MCP_RESERVED = new Set([-32002, -32021, -32022, -32042]);

describe('the error table', () => {
  it('has unique JSON-RPC codes, clear of the numbers MCP assigns', () => {
    const codes = Object.values(ERROR_CODES).map((entry) => entry.jsonRpc);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(MCP_RESERVED.has(code)).toBe(false);
  });

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('maps %s to its JSON-RPC code and HTTP status', (code) => {
    const error = new ServiceError(code, 'message');
    expect(error.jsonRpcCode).toBe(ERROR_CODES[code].jsonRpc);
    expect(error.httpStatus).toBe(ERROR_CODES[code].http);
    expect(error.httpStatus).toBeGreaterThanOrEqual(400);
  });

  it('keeps ServiceErrors and hides unknown errors unless debugging', () => {
    const known = new ServiceError('NOT_FOUND', 'no table');
    expect(toServiceError(known)).toBe(known);
    const hidden = toServiceError(new Error('password=secret'));
    expect(hidden.code).toBe('INTERNAL');
    expect(hidden.message).toBe('Internal error');
    expect(hidden.cause).toBeInstanceOf(Error);
    expect(toServiceError(new Error('detail'), true).message).toBe('Internal error: detail');
  });

  it('answers an exposed domain error with its own code and message, and nothing else', () => {
    class DomainError extends Error {
      readonly expose = true;
      constructor(
        readonly code: string,
        message: string,
      ) {
        super(message);
      }
    }
    const exposed = toServiceError(new DomainError('NOT_FOUND', 'No table named "x"'));
    expect([exposed.code, exposed.message]).toEqual(['NOT_FOUND', 'No table named "x"']);
    // Not exposed, an unknown code, a code inherited from the prototype, or not an Error: internal.
    const notExposed = Object.assign(new Error('secret path /etc'), { code: 'NOT_FOUND' });
    const unknownCode = new DomainError('ENOENT', 'secret path /etc');
    const inherited = new DomainError('toString', 'secret');
    const plainObject = { code: 'NOT_FOUND', expose: true, message: 'x' };
    for (const error of [notExposed, unknownCode, inherited, plainObject]) {
      expect(isExposedError(error)).toBe(false);
      expect(toServiceError(error).message).toBe('Internal error');
    }
  });
});
