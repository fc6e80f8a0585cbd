import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { hashPassword, isPasswordHash, parseUsers, verifyPassword } from '../src/oauth/passwords.js';
import { verifyPkce } from '../src/oauth/pkce.js';
import { redirectUriMatches, redirectUriProblem } from '../src/oauth/redirect-uris.js';
import { createProtectedResource } from '../src/oauth/resource.js';
import { formatScope, parseScope } from '../src/oauth/scopes.js';

describe('passwords', () => {
  it('hashes with scrypt and verifies in constant time; another password or a tampered hash fails', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\.32768\.8\.1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horse ', hash)).toBe(false);
    expect(await verifyPassword('Correct horse', hash)).toBe(false);
    const tampered = `${hash.slice(0, -2)}${hash.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await verifyPassword('correct horse', tampered)).toBe(false);
    // Unicode is normalised: the same password typed as composed or decomposed characters.
    expect(await verifyPassword('cafe\u0301', await hashPassword('caf\u00e9'))).toBe(true);
  });

  it('refuses hashes whose cost would stall a login, or that are not its own format', () => {
    const salt = 'A'.repeat(22);
    const key = 'A'.repeat(43);
    for (const bad of [
      `scrypt.1048577.8.1.${salt}.${key}`,
      `scrypt.4194304.8.1.${salt}.${key}`,
      `scrypt.512.8.1.${salt}.${key}`,
      `scrypt.32768.64.1.${salt}.${key}`,
      `scrypt.32768.8.9.${salt}.${key}`,
      `$2b$12$${salt}`,
      `scrypt.32768.8.1.${salt}`,
    ]) {
      expect(isPasswordHash(bad), bad).toBe(false);
    }
  });

  it('reads the user list, naming the first bad entry without echoing its hash', () => {
    const hash = `scrypt.32768.8.1.${'A'.repeat(22)}.${'B'.repeat(43)}`;
    expect([...parseUsers([`alice:${hash}`, `bob.b@x:${hash}`]).keys()]).toEqual(['alice', 'bob.b@x']);
    expect(() => parseUsers(['alice'])).toThrow('each entry is <user>:<hash>');
    expect(() => parseUsers([`a b:${hash}`])).toThrow('each entry is <user>:<hash>');
    expect(() => parseUsers(['carol:plaintext-password'])).toThrow(
      'MCP_OAUTH_USERS: the hash of "carol" is not one hash-password made (scrypt.N.r.p.salt.hash)',
    );
  });

  it('pnpm hash-password reads the password from stdin and prints user:hash', async () => {
    const script = fileURLToPath(new URL('../src/bin/hash-password.ts', import.meta.url));
    const run = (args: string[], input: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { input, encoding: 'utf8' });
    const ok = run(['alice'], 'a long enough password\n');
    expect(ok.status).toBe(0);
    const [user, hash] = ok.stdout.trim().split(':');
    expect(user).toBe('alice');
    expect(await verifyPassword('a long enough password', hash!)).toBe(true);
    expect(run(['alice'], 'short').stderr).toBe('hash-password: use a password of at least 8 characters\n');
    expect(run(['al ice'], 'a long enough password').status).toBe(1);
  });
});

describe('PKCE (S256 only)', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  it('accepts the verifier of the challenge, and nothing else', () => {
    expect(verifyPkce(verifier, challenge)).toBe(true);
    expect(verifyPkce(`${verifier}x`, challenge)).toBe(false);
    // "plain": the verifier as its own challenge.
    expect(verifyPkce(verifier, verifier)).toBe(false);
    // Too short, too long, characters outside the unreserved set.
    expect(verifyPkce('a'.repeat(42), createHash('sha256').update('a'.repeat(42)).digest('base64url'))).toBe(false);
    expect(verifyPkce('a'.repeat(129), createHash('sha256').update('a'.repeat(129)).digest('base64url'))).toBe(false);
    const spaced = `${'a'.repeat(42)} `;
    expect(verifyPkce(spaced, createHash('sha256').update(spaced).digest('base64url'))).toBe(false);
  });
});

describe('redirect URIs', () => {
  it.each([
    ['https://app.example/cb', undefined],
    ['http://127.0.0.1:8976/callback', undefined],
    ['http://[::1]:1/cb', undefined],
    ['http://localhost/cb', undefined],
    ['http://app.example/cb', 'must be https, or http on a loopback address (127.0.0.1, [::1], localhost)'],
    ['http://127.0.0.1.nip.io/cb', 'must be https, or http on a loopback address (127.0.0.1, [::1], localhost)'],
    ['https://app.example/cb#frag', 'must not have a fragment'],
    ['https://user:pw@app.example/cb', 'must not carry credentials'],
    ['javascript:alert(1)', 'must be https, or http on a loopback address (127.0.0.1, [::1], localhost)'],
    ['myapp://cb', 'must be https, or http on a loopback address (127.0.0.1, [::1], localhost)'],
    ['/relative', 'is not an absolute URL'],
  ])('%s: %s', (uri, problem) => {
    expect(redirectUriProblem(uri)).toBe(problem);
  });

  it('matches exactly, character for character', () => {
    const registered = ['https://app.example/cb'];
    expect(redirectUriMatches(registered, 'https://app.example/cb')).toBe(true);
    for (const other of [
      'https://app.example/cb/',
      'https://APP.example/cb',
      'https://app.example/cb?x',
      'https://app.example:443/cb',
    ]) {
      expect(redirectUriMatches(registered, other)).toBe(false);
    }
  });
});

describe('the protected resource (RFC 8707 audience)', () => {
  const resource = createProtectedResource('https://mcp.example.com/sqlite', undefined);
  it.each([
    ['https://mcp.example.com/sqlite', true],
    ['https://mcp.example.com/sqlite/mcp', true],
    ['https://mcp.example.com/sqlite/sse', true],
    ['https://mcp.example.com/sqlitex', false],
    ['https://mcp.example.com/fetch/mcp', false],
    ['https://mcp.example.com/', false],
    ['http://mcp.example.com/sqlite/mcp', false],
    ['https://mcp.example.com:8443/sqlite/mcp', false],
    ['https://evil.example/sqlite/mcp', false],
    ['not a url', false],
  ])('%s → %s', (candidate, accepted) => {
    expect(resource.accepts(candidate)).toBe(accepted);
  });

  it('serves its metadata at the RFC 9728 paths with the service path inserted, and without it', () => {
    expect([...resource.metadataRoutes]).toEqual([
      ['/.well-known/oauth-protected-resource/sqlite', ''],
      ['/.well-known/oauth-protected-resource', ''],
      ['/.well-known/oauth-protected-resource/sqlite/mcp', '/mcp'],
      ['/.well-known/oauth-protected-resource/mcp', '/mcp'],
      ['/.well-known/oauth-protected-resource/sqlite/sse', '/sse'],
      ['/.well-known/oauth-protected-resource/sse', '/sse'],
    ]);
    expect(resource.metadataUrl('/mcp')).toBe(
      'https://mcp.example.com/.well-known/oauth-protected-resource/sqlite/mcp',
    );
  });
});

describe('scopes', () => {
  it('keeps the known ones, in a stable order', () => {
    expect(parseScope('write read admin')).toEqual(new Set(['write', 'read']));
    expect(parseScope('admin')).toBeUndefined();
    expect(formatScope(new Set(['write', 'read'] as const))).toBe('read write');
  });
});
