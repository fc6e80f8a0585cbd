import type { IncomingMessage, ServerResponse } from 'node:http';

import { type Session, trackRequest } from '../sessions/session.js';
import { SSE_HEADERS } from './sse-writer.js';

/**
 * Hands one POST (or DELETE) of a session to its transport: the one entry of a message the local
 * routes take and the owner of a session takes for a request another replica forwarded
 * (http/forwarding.ts). The SDK transport writes the answer: 202 for the legacy transport (the
 * answer rides the stream), JSON or the POST's own SSE answer for Streamable HTTP.
 */
export function deliver(session: Session, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  if (session.kind === 'sse') {
    session.lastSeen = Date.now();
    return session.transport.handlePostMessage(req, res, body);
  }
  trackRequest(session, res, false);
  // What the SDK transport does not set on its SSE answers (its writeHead merges it in).
  res.setHeader('x-accel-buffering', SSE_HEADERS['x-accel-buffering']);
  return session.transport.handleRequest(req, res, body);
}
