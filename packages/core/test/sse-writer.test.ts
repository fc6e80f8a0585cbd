import { describe, expect, it } from 'vitest';

import { SSE_HEADERS, sseHeaders, sseMessageEvent } from '../src/http/sse-writer.js';

describe('sse-writer', () => {
  it('sseHeaders is SSE_HEADERS plus the session id (one literal, kept equal to the shared headers)', () => {
    expect(sseHeaders('s-1')).toStrictEqual({ ...SSE_HEADERS, 'mcp-session-id': 's-1' });
    expect(Object.keys(sseHeaders('s-1'))).toEqual([...Object.keys(SSE_HEADERS), 'mcp-session-id']);
  });

  it('frames one message as the SDK transports do', () => {
    expect(sseMessageEvent({ jsonrpc: '2.0', id: 7, result: {} })).toBe(
      'event: message\ndata: {"jsonrpc":"2.0","id":7,"result":{}}\n\n',
    );
  });
});
