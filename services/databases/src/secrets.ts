import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { DatabasesError } from './errors.js';

/**
 * The secrets file (a Docker secret or a file outside the repository, `KEY=value` lines) and the
 * AES-256-GCM cipher that keeps server passwords encrypted at rest in the registry. Nothing here
 * ever puts a secret's value in a message.
 */

export const ENCRYPTION_KEY = 'DATABASES_ENCRYPTION_KEY';
export const PREVIOUS_KEYS = 'DATABASES_ENCRYPTION_KEY_PREVIOUS';

/** Parses `KEY=value` lines (blank lines and `#` comments skipped; one pair of surrounding quotes removed). */
export function parseSecrets(text: string, origin: string): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new DatabasesError('INVALID_INPUT', `${origin}: line ${index + 1} is not KEY=value`);
    }
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      value = value.slice(1, -1);
    }
    secrets.set(key, value);
  }
  return secrets;
}

export function readSecretsFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new DatabasesError('INVALID_INPUT', `DATABASES_SECRETS_FILE: cannot read ${path}: ${code}`);
  }
  return parseSecrets(text, `DATABASES_SECRETS_FILE ${path}`);
}

/** A 32-byte key written as base64 (`openssl rand -base64 32`) or 64 hex digits. */
export function decodeKey(text: string, name: string): Buffer {
  const value = text.trim();
  // 32 bytes are 64 hex digits, or 43 base64 characters and one "=".
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) return Buffer.from(value, 'base64');
  throw new DatabasesError(
    'INVALID_INPUT',
    `${name} must be 32 random bytes, as base64 (openssl rand -base64 32) or 64 hex digits`,
  );
}

/** A key's public name: the first 12 hex digits of its SHA-256, stored beside each ciphertext. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

const VERSION = 'v1';

export class PasswordCipher {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.currentKeyId = keyId(current);
    this.keys.set(this.currentKeyId, current);
    for (const key of previous) if (!this.keys.has(keyId(key))) this.keys.set(keyId(key), key);
  }

  /** From the secrets file: DATABASES_ENCRYPTION_KEY, and DATABASES_ENCRYPTION_KEY_PREVIOUS (comma-separated) while rotating. */
  static fromSecrets(secrets: ReadonlyMap<string, string>): PasswordCipher {
    const current = secrets.get(ENCRYPTION_KEY);
    if (current === undefined || current.trim() === '') {
      throw new DatabasesError(
        'INVALID_INPUT',
        `DATABASES_SECRETS_FILE has no ${ENCRYPTION_KEY}: add one (openssl rand -base64 32) to encrypt server passwords at rest`,
      );
    }
    const previous = (secrets.get(PREVIOUS_KEYS) ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part, index) => decodeKey(part, `${PREVIOUS_KEYS} (entry ${index + 1})`));
    return new PasswordCipher(decodeKey(current, ENCRYPTION_KEY), previous);
  }

  /** `v1:<key id>:<iv>:<tag>:<ciphertext>` (base64); `context` (the server name) is bound as associated data. */
  encrypt(plain: string, context: string): string {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.currentKeyId, iv.toString('base64'), tag.toString('base64'), body.toString('base64')].join(
      ':',
    );
  }

  /** The key id a stored value was encrypted with (undefined when it is not one of ours). */
  static keyIdOf(stored: string): string | undefined {
    const parts = stored.split(':');
    return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
  }

  canDecrypt(stored: string): boolean {
    const id = PasswordCipher.keyIdOf(stored);
    return id !== undefined && this.keys.has(id);
  }

  decrypt(stored: string, context: string): string {
    const parts = stored.split(':');
    const [version, id, iv, tag, body] = parts;
    if (parts.length !== 5 || version !== VERSION || !id || !iv || !tag || body === undefined) {
      throw new DatabasesError('INTERNAL', `The stored password of ${context} is not in the expected format`);
    }
    const key = this.keys.get(id);
    if (!key) {
      throw new DatabasesError(
        'UNAVAILABLE',
        `The stored password of ${context} was encrypted with key ${id}, which is neither ${ENCRYPTION_KEY} (${this.currentKeyId}) nor listed in ${PREVIOUS_KEYS}`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new DatabasesError(
        'UNAVAILABLE',
        `The stored password of ${context} failed authentication (tampered or bound to another server)`,
        {
          cause: error,
        },
      );
    }
  }
}
