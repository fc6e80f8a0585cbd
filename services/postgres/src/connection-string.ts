import { readFileSync } from 'node:fs';

/** Where the connection string comes from; never echoed, whatever goes wrong. */
export interface ConnectionSource {
  DATABASE_URL?: string | undefined;
  DATABASE_URL_FILE?: string | undefined;
}

/**
 * Resolves the connection string from DATABASE_URL or the secret file named by DATABASE_URL_FILE
 * (trailing newline removed). Errors name the variable and the problem, never the value.
 */
export function resolveConnectionString(source: ConnectionSource): string {
  let value: string;
  let origin: string;
  if (source.DATABASE_URL_FILE !== undefined) {
    origin = 'DATABASE_URL_FILE';
    try {
      value = readFileSync(source.DATABASE_URL_FILE, 'utf8').trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new Error(`DATABASE_URL_FILE: cannot read ${source.DATABASE_URL_FILE}: ${code}`);
    }
    if (value.length === 0) throw new Error(`DATABASE_URL_FILE: ${source.DATABASE_URL_FILE} is empty`);
  } else if (source.DATABASE_URL !== undefined) {
    origin = 'DATABASE_URL';
    value = source.DATABASE_URL.trim();
  } else {
    throw new Error('DATABASE_URL: set DATABASE_URL or DATABASE_URL_FILE');
  }
  if (!/^postgres(ql)?:\/\//i.test(value)) {
    throw new Error(`${origin}: the connection string must start with postgres:// or postgresql://`);
  }
  try {
    new URL(value);
  } catch {
    throw new Error(
      `${origin}: the connection string is not a valid URL (percent-encode special characters in the password)`,
    );
  }
  return value;
}
