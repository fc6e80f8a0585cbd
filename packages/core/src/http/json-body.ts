import type { IncomingMessage } from 'node:http';

import { parse as parseContentType } from 'content-type';
import sjson from 'secure-json-parse';

export const PARSE_ERROR_MESSAGE = 'Parse error: the body is not valid JSON';

/** True when a Content-Type header names JSON (`application/json`, any parameters). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  return parseContentType(header, { parameters: false }).type === 'application/json';
}

/**
 * JSON with prototype-poisoning protection: the parser and settings of fastify's own JSON body
 * parser, so that both HTTP paths refuse the same bodies.
 */
export function parseJson(text: string): unknown {
  return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }) as unknown;
}

/**
 * Reads a body whose length is known (and within the limit), then parses it as JSON. The body
 * timeout is the HTTP server's (MCP_BODY_TIMEOUT_MS, app.ts): a body that trickles in is cut there.
 */
export function readJsonBody(req: IncomingMessage, done: (body: unknown, error?: unknown) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => {
    let body: unknown;
    try {
      body = parseJson(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      done(undefined, error);
      return;
    }
    done(body);
  });
}
