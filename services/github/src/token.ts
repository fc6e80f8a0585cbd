import { readFileSync } from 'node:fs';

/** Where the token comes from; never echoed, whatever goes wrong. */
export interface TokenSource {
  GITHUB_TOKEN?: string | undefined;
  GITHUB_TOKEN_FILE?: string | undefined;
}

/** What a token may hold: visible ASCII, no spaces (a header value, never a second header). */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,1024}$/;

/**
 * Resolves the token from GITHUB_TOKEN or the secret file named by GITHUB_TOKEN_FILE (surrounding
 * whitespace and the trailing newline removed). Errors name the variable and the problem, never
 * the value.
 */
export function resolveToken(source: TokenSource): string {
  let value: string;
  let origin: string;
  if (source.GITHUB_TOKEN_FILE !== undefined) {
    origin = 'GITHUB_TOKEN_FILE';
    try {
      value = readFileSync(source.GITHUB_TOKEN_FILE, 'utf8').trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new Error(`GITHUB_TOKEN_FILE: cannot read ${source.GITHUB_TOKEN_FILE}: ${code}`);
    }
    if (value.length === 0) throw new Error(`GITHUB_TOKEN_FILE: ${source.GITHUB_TOKEN_FILE} is empty`);
  } else if (source.GITHUB_TOKEN !== undefined) {
    origin = 'GITHUB_TOKEN';
    value = source.GITHUB_TOKEN.trim();
  } else {
    throw new Error('GITHUB_TOKEN: set GITHUB_TOKEN or GITHUB_TOKEN_FILE');
  }
  if (!TOKEN_SHAPE.test(value)) {
    throw new Error(
      `${origin}: the token must be one line of visible ASCII characters without spaces, at most 1024 long`,
    );
  }
  return value;
}
