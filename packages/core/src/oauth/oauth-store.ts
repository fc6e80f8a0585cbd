import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import type BetterSqlite3 from 'better-sqlite3';

import type { Scope } from './scopes.js';

/** A secret's stored form: only its SHA-256 is kept, so a copy of the database grants nothing. */
export const digestOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new random secret with a readable prefix (`mcpat_` access, `mcprt_` refresh, ...). */
export const newSecret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

export interface StoredClient {
  clientId: string;
  /** SHA-256 of the client secret; undefined for public clients (PKCE only). */
  secretDigest: string | undefined;
  redirectUris: string[];
  clientName: string | undefined;
  /** The registration as the client sent it (RFC 7591), for the registration answer. */
  metadata: Record<string, unknown>;
  createdAt: number;
}

export interface StoredCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: Scope[];
  resource: string;
  subject: string;
  expiresAt: number;
  usedAt: number | undefined;
}

export interface StoredToken {
  kind: 'access' | 'refresh';
  clientId: string;
  subject: string;
  scope: Scope[];
  resource: string;
  /** Every token descended from one authorization code shares a family: reuse revokes all of it. */
  family: string;
  expiresAt: number;
  revokedAt: number | undefined;
  /** A refresh token that was exchanged (rotated); presenting it again is reuse. */
  usedAt: number | undefined;
}

export interface PendingAuthorization {
  clientId: string;
  clientName: string | undefined;
  redirectUri: string;
  challenge: string;
  scope: Scope[];
  resource: string;
  state: string | undefined;
  /** Set once the user logged in. */
  subject?: string;
  /** The consent form's CSRF token (compared with the one in the form). */
  csrf: string;
}

type Row = Record<string, unknown>;

/**
 * Clients, codes, tokens and pending authorizations of the built-in authorization server, in one
 * SQLite file per service (MCP_OAUTH_DB): a restart logs nobody out. Secrets (client secrets, codes,
 * tokens, login sessions) are stored as SHA-256 digests.
 */
export class OAuthStore {
  private constructor(private readonly db: BetterSqlite3.Database) {}

  static async open(path: string): Promise<OAuthStore> {
    // Loaded when OAuth is on, so that a service without it does not pay for the native module.
    const { default: Database } = await import('better-sqlite3');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS clients (
        client_id TEXT PRIMARY KEY, secret_digest TEXT, redirect_uris TEXT NOT NULL, client_name TEXT,
        metadata TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS codes (
        code_digest TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, challenge TEXT NOT NULL,
        scope TEXT NOT NULL, resource TEXT NOT NULL, subject TEXT NOT NULL, family TEXT NOT NULL,
        expires_at INTEGER NOT NULL, used_at INTEGER);
      CREATE TABLE IF NOT EXISTS tokens (
        token_digest TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, subject TEXT NOT NULL,
        scope TEXT NOT NULL, resource TEXT NOT NULL, family TEXT NOT NULL, expires_at INTEGER NOT NULL,
        revoked_at INTEGER, used_at INTEGER);
      CREATE INDEX IF NOT EXISTS tokens_family ON tokens (family);
      CREATE TABLE IF NOT EXISTS pending (
        id_digest TEXT PRIMARY KEY, request TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS logins (
        session_digest TEXT PRIMARY KEY, subject TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS upstream_states (
        state_digest TEXT PRIMARY KEY, pending_id TEXT NOT NULL, nonce TEXT NOT NULL, verifier TEXT NOT NULL,
        expires_at INTEGER NOT NULL);
    `);
    return new OAuthStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Drops what has expired (codes, tokens, pending requests, logins); run now and then. */
  sweep(now: number): void {
    for (const table of ['codes', 'tokens', 'pending', 'logins', 'upstream_states']) {
      this.db.prepare(`DELETE FROM ${table} WHERE expires_at < ?`).run(now);
    }
  }

  // Clients

  saveClient(client: StoredClient): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO clients (client_id, secret_digest, redirect_uris, client_name, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        client.clientId,
        client.secretDigest ?? null,
        JSON.stringify(client.redirectUris),
        client.clientName ?? null,
        JSON.stringify(client.metadata),
        client.createdAt,
      );
  }

  getClient(clientId: string): StoredClient | undefined {
    const row = this.db.prepare('SELECT * FROM clients WHERE client_id = ?').get(clientId) as Row | undefined;
    if (!row) return undefined;
    return {
      clientId: row['client_id'] as string,
      secretDigest: (row['secret_digest'] as string | null) ?? undefined,
      redirectUris: JSON.parse(row['redirect_uris'] as string) as string[],
      clientName: (row['client_name'] as string | null) ?? undefined,
      metadata: JSON.parse(row['metadata'] as string) as Record<string, unknown>,
      createdAt: row['created_at'] as number,
    };
  }

  // Authorization codes

  saveCode(code: string, value: Omit<StoredCode, 'usedAt'>, family: string): void {
    this.db
      .prepare(
        'INSERT INTO codes (code_digest, client_id, redirect_uri, challenge, scope, resource, subject, family, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        digestOf(code),
        value.clientId,
        value.redirectUri,
        value.challenge,
        value.scope.join(' '),
        value.resource,
        value.subject,
        family,
        value.expiresAt,
      );
  }

  /**
   * Marks a code used and returns it with its family, in one transaction: a code works once. A code
   * presented again returns `reused` (its family is then revoked by the caller, OAuth 2.1 4.1.3).
   */
  consumeCode(code: string, now: number): { code: StoredCode; family: string; reused: boolean } | undefined {
    return this.db.transaction(() => {
      const digest = digestOf(code);
      const row = this.db.prepare('SELECT * FROM codes WHERE code_digest = ?').get(digest) as Row | undefined;
      if (!row) return undefined;
      const usedAt = (row['used_at'] as number | null) ?? undefined;
      if (usedAt === undefined) this.db.prepare('UPDATE codes SET used_at = ? WHERE code_digest = ?').run(now, digest);
      return {
        family: row['family'] as string,
        reused: usedAt !== undefined,
        code: {
          clientId: row['client_id'] as string,
          redirectUri: row['redirect_uri'] as string,
          challenge: row['challenge'] as string,
          scope: (row['scope'] as string).split(' ').filter(Boolean) as Scope[],
          resource: row['resource'] as string,
          subject: row['subject'] as string,
          expiresAt: row['expires_at'] as number,
          usedAt,
        },
      };
    })();
  }

  // Tokens

  saveToken(token: string, value: Omit<StoredToken, 'revokedAt' | 'usedAt'>): void {
    this.db
      .prepare(
        'INSERT INTO tokens (token_digest, kind, client_id, subject, scope, resource, family, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        digestOf(token),
        value.kind,
        value.clientId,
        value.subject,
        value.scope.join(' '),
        value.resource,
        value.family,
        value.expiresAt,
      );
  }

  getToken(token: string): StoredToken | undefined {
    const row = this.db.prepare('SELECT * FROM tokens WHERE token_digest = ?').get(digestOf(token)) as Row | undefined;
    if (!row) return undefined;
    return {
      kind: row['kind'] as 'access' | 'refresh',
      clientId: row['client_id'] as string,
      subject: row['subject'] as string,
      scope: (row['scope'] as string).split(' ').filter(Boolean) as Scope[],
      resource: row['resource'] as string,
      family: row['family'] as string,
      expiresAt: row['expires_at'] as number,
      revokedAt: (row['revoked_at'] as number | null) ?? undefined,
      usedAt: (row['used_at'] as number | null) ?? undefined,
    };
  }

  /** Marks a refresh token rotated; false when it already was (a concurrent or replayed use). */
  markRefreshUsed(token: string, now: number): boolean {
    return (
      this.db
        .prepare("UPDATE tokens SET used_at = ? WHERE token_digest = ? AND kind = 'refresh' AND used_at IS NULL")
        .run(now, digestOf(token)).changes === 1
    );
  }

  revokeToken(token: string, now: number): void {
    this.db
      .prepare('UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE token_digest = ?')
      .run(now, digestOf(token));
  }

  revokeFamily(family: string, now: number): void {
    this.db.prepare('UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE family = ?').run(now, family);
  }

  // Pending authorizations and login sessions (the browser part of the flow)

  savePending(id: string, request: PendingAuthorization, expiresAt: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO pending (id_digest, request, expires_at) VALUES (?, ?, ?)')
      .run(digestOf(id), JSON.stringify(request), expiresAt);
  }

  getPending(id: string, now: number): PendingAuthorization | undefined {
    const row = this.db
      .prepare('SELECT request FROM pending WHERE id_digest = ? AND expires_at >= ?')
      .get(digestOf(id), now) as Row | undefined;
    return row ? (JSON.parse(row['request'] as string) as PendingAuthorization) : undefined;
  }

  deletePending(id: string): void {
    this.db.prepare('DELETE FROM pending WHERE id_digest = ?').run(digestOf(id));
  }

  saveLogin(session: string, subject: string, expiresAt: number): void {
    this.db
      .prepare('INSERT INTO logins (session_digest, subject, expires_at) VALUES (?, ?, ?)')
      .run(digestOf(session), subject, expiresAt);
  }

  getLogin(session: string, now: number): string | undefined {
    const row = this.db
      .prepare('SELECT subject FROM logins WHERE session_digest = ? AND expires_at >= ?')
      .get(digestOf(session), now) as Row | undefined;
    return row ? (row['subject'] as string) : undefined;
  }

  saveUpstreamState(state: string, value: { pendingId: string; nonce: string; verifier: string }, expiresAt: number) {
    this.db
      .prepare(
        'INSERT INTO upstream_states (state_digest, pending_id, nonce, verifier, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(digestOf(state), value.pendingId, value.nonce, value.verifier, expiresAt);
  }

  /** Takes an upstream login state once (a replayed callback finds nothing). */
  takeUpstreamState(state: string, now: number): { pendingId: string; nonce: string; verifier: string } | undefined {
    return this.db.transaction(() => {
      const digest = digestOf(state);
      const row = this.db
        .prepare('SELECT * FROM upstream_states WHERE state_digest = ? AND expires_at >= ?')
        .get(digest, now) as Row | undefined;
      this.db.prepare('DELETE FROM upstream_states WHERE state_digest = ?').run(digest);
      return row
        ? {
            pendingId: row['pending_id'] as string,
            nonce: row['nonce'] as string,
            verifier: row['verifier'] as string,
          }
        : undefined;
    })();
  }
}
