import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { isJsonRpcMessage, isNotRequest } from '../src/mcp/tool-call-message.js';

/**
 * isJsonRpcMessage recognises plain requests and notifications without the SDK's schema: it must
 * agree with JSONRPCMessageSchema on every value, the shapes it takes itself and the ones it leaves.
 */
const schemaAccepts = (value: unknown) => JSONRPCMessageSchema.safeParse(value).success;

const ids = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constantFrom(0, -0, 1.5, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 1e21, Number.NaN, null, true, '', [], {}),
);
const metas = fc.oneof(
  fc.constant({}),
  fc.record({ progressToken: ids }, { requiredKeys: [] }),
  fc.constantFrom(null, [], 'm', { 'io.modelcontextprotocol/related-task': { taskId: 't' } }),
);
const params = fc.oneof(
  fc.dictionary(fc.constantFrom('a', 'name', 'arguments', 'cursor', 'constructor'), fc.jsonValue(), { maxKeys: 3 }),
  fc.record({ _meta: metas, name: fc.string() }, { requiredKeys: ['_meta'] }),
  fc.constantFrom(null, [], [1], 'p', 3, true),
);
const goodId = fc.oneof(fc.string(), fc.integer());
/** A valid message of each kind, then (mostly) one change: a member dropped, added or replaced. */
const base = fc.oneof(
  fc.record(
    { jsonrpc: fc.constant('2.0'), id: goodId, method: fc.string(), params },
    { requiredKeys: ['jsonrpc', 'id', 'method'] },
  ),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.string(), params }, { requiredKeys: ['jsonrpc', 'method'] }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: goodId, result: fc.oneof(fc.constant({}), fc.jsonValue()) }),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id: goodId,
    error: fc.record({ code: fc.integer(), message: fc.string() }),
  }),
);
const KEYS = ['jsonrpc', 'id', 'method', 'params', 'result', 'error', 'extra'] as const;
const change = fc.oneof(
  fc.constant(undefined),
  fc.record({ drop: fc.constantFrom(...KEYS) }),
  fc.record({
    set: fc.constantFrom(...KEYS),
    value: fc.oneof(ids, params, fc.jsonValue(), fc.constantFrom('2.0', '1.0')),
  }),
);
const message = fc.tuple(base, change).map(([value, edit]): unknown => {
  const out: Record<string, unknown> = { ...value };
  if (edit && 'drop' in edit) delete out[edit.drop];
  else if (edit) out[edit.set] = edit.value;
  return out;
});

describe('isJsonRpcMessage', () => {
  it('agrees with the SDK schema on generated messages, valid and not', () => {
    let valid = 0;
    fc.assert(
      fc.property(message, (value) => {
        const accepted = schemaAccepts(value);
        if (accepted) valid += 1;
        expect(isJsonRpcMessage(value)).toBe(accepted);
      }),
      { numRuns: 5_000 },
    );
    // The generator must reach valid messages often enough for the agreement to mean something.
    expect(valid).toBeGreaterThan(1_500);
  });

  it('agrees on the messages a session opens and runs with, and on their near misses', () => {
    const cases: unknown[] = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'x', _meta: { progressToken: 1 } } },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'x', _meta: { progressToken: 1.5 } } },
      { jsonrpc: '2.0', id: 1.5, method: 'ping' },
      { jsonrpc: '2.0', id: 2 ** 53, method: 'ping' },
      { jsonrpc: '2.0', id: null, method: 'ping' },
      { jsonrpc: '2.0', method: 'ping', params: [] },
      { jsonrpc: '2.0', method: 'ping', params: null },
      { jsonrpc: '2.0', method: 'ping', extra: 1 },
      { jsonrpc: '1.0', method: 'ping' },
      { jsonrpc: '2.0', id: 5, result: {} },
      { jsonrpc: '2.0', id: 5, error: { code: -1, message: 'no' } },
      [{ jsonrpc: '2.0', method: 'ping' }],
      'ping',
      null,
    ];
    expect(cases.map(isJsonRpcMessage)).toEqual(cases.map(schemaAccepts));
    expect(cases.filter(isJsonRpcMessage)).toHaveLength(7);
  });
});

describe('isNotRequest', () => {
  it('is true exactly for an object without both a method and an id, whatever the schema says of it', () => {
    const cases: Array<[unknown, boolean]> = [
      [{ jsonrpc: '2.0', method: 'notifications/initialized' }, true],
      [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, true],
      [{ jsonrpc: '2.0', id: 1, result: {} }, true],
      [{ jsonrpc: '2.0', id: 'x', error: { code: -1, message: 'no' } }, true],
      [{ jsonrpc: '2.0', id: 1, method: 'ping' }, false],
      // an id of any value still makes a request: the schema, not this, judges it
      [{ jsonrpc: '2.0', id: null, method: 'ping' }, false],
      [{ jsonrpc: '2.0', id: undefined, method: 'ping' }, false],
      [[{ jsonrpc: '2.0', method: 'notifications/initialized' }], false],
      [null, false],
      ['{"jsonrpc":"2.0"}', false],
      [7, false],
    ];
    expect(cases.map(([value]) => isNotRequest(value))).toEqual(cases.map(([, expected]) => expected));
  });
});
