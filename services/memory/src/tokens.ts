/**
 * Short-lived signed tokens for GET /events: a browser's EventSource cannot send an Authorization
 * header, so the dashboard asks an authenticated endpoint for a token and puts it in the query
 * string. A token is `<payload>.<signature>`, both base64url: the payload names the identity and
 * the expiry, the signature is HMAC-SHA256 over the payload. Plain domain code.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

const payloadSchema = z.object({ sub: z.string().min(1).max(200), exp: z.number().int() });

export class TokenSigner {
  private readonly key: Buffer;

  /** `secret` undefined: a random key for this process (tokens end with a restart). */
  constructor(
    secret: string | undefined,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
  }

  issue(identity: string): { token: string; expires_at: string } {
    const exp = Math.floor(this.now() / 1000) + this.ttlSeconds;
    const payload = Buffer.from(JSON.stringify({ sub: identity, exp })).toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, expires_at: new Date(exp * 1000).toISOString() };
  }

  /** The identity a valid, unexpired token names; undefined otherwise (forged, altered, expired, malformed). */
  verify(token: string): string | undefined {
    if (token.length > 1024) return undefined;
    const [payload, signature, extra] = token.split('.');
    if (payload === undefined || signature === undefined || extra !== undefined) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let parsed: z.infer<typeof payloadSchema>;
    try {
      parsed = payloadSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    } catch {
      return undefined;
    }
    return parsed.exp * 1000 > this.now() ? parsed.sub : undefined;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
