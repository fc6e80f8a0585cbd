import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** Cost of new hashes: scrypt N=2^15, r=8, p=1 (OWASP's recommended minimum), 32 bytes. */
const COST = { N: 32_768, r: 8, p: 1 };
const KEY_LENGTH = 32;
const maxmem = (N: number, r: number) => 256 * N * r;

/**
 * A password hash for MCP_OAUTH_USERS: `scrypt.<N>.<r>.<p>.<salt>.<hash>` (base64url). The format
 * has no `$`, `:` or `,`, so it survives env files, compose interpolation and the user list syntax.
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...COST, maxmem: maxmem(COST.N, COST.r) });
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), hash.toString('base64url')].join('.');
}

const FORMAT = /^scrypt\.(\d+)\.(\d+)\.(\d+)\.([A-Za-z0-9_-]{16,})\.([A-Za-z0-9_-]{32,})$/;

/** True when the encoded hash is well formed (what loading the user list checks). */
export const isPasswordHash = (encoded: string): boolean => {
  const match = FORMAT.exec(encoded);
  if (!match) return false;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // A power of two within sane bounds: a hostile or mistyped cost must not stall the login.
  return N >= 1024 && N <= 1_048_576 && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 4;
};

/** Checks a password against an encoded hash in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (!isPasswordHash(encoded)) return false;
  const [, n, r, p, salt, hash] = FORMAT.exec(encoded)!;
  const expected = Buffer.from(hash!, 'base64url');
  const N = Number(n);
  const actual = await scrypt(password.normalize('NFC'), Buffer.from(salt!, 'base64url'), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: maxmem(N, Number(r)),
  });
  return timingSafeEqual(actual, expected);
}

/** `user:hash` entries (MCP_OAUTH_USERS, or lines of MCP_OAUTH_USERS_FILE) as a map; throws on a bad one. */
export function parseUsers(entries: readonly string[]): Map<string, string> {
  const users = new Map<string, string>();
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const name = colon === -1 ? '' : entry.slice(0, colon).trim();
    const hash = colon === -1 ? '' : entry.slice(colon + 1).trim();
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
      throw new Error('MCP_OAUTH_USERS: each entry is <user>:<hash>, the user 1-64 of A-Z a-z 0-9 . _ @ -');
    }
    if (!isPasswordHash(hash)) {
      throw new Error(`MCP_OAUTH_USERS: the hash of "${name}" is not one hash-password made (scrypt.N.r.p.salt.hash)`);
    }
    users.set(name, hash);
  }
  return users;
}
