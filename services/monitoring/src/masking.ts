/**
 * Masks values that look secret before they leave the service: environment variables, labels,
 * command lines and free text from `docker inspect` (and process command lines on the host).
 *
 * A value is masked whole when its key names a secret (PASSWORD, TOKEN, SECRET, API_KEY, …, in any
 * case and spelling: `db_password`, `PGPASSWORD`, `apiKey`, `x-api-key`, `SESSION_SECRET`), or
 * when the value itself is a known credential format (private key blocks, `Bearer …`, GitHub,
 * Slack, AWS, OpenAI-style and JWT tokens). Inside other values only the secret part is masked: the
 * password of a URL's userinfo (`postgres://app:***@db/app`), `password=`/`token=`-style pairs in
 * query strings and connection strings (`Server=db;Password=***`), and `--password=x` and `--token x`
 * command-line flags. What is left is what an operator needs to debug: names, hosts,
 * ports, paths.
 */

export const MASK = '***';

// Words that make a key secret wherever they appear in it (substring, any case).
const SECRET_SUBSTRINGS = [
  'PASSWORD',
  'PASSWD',
  'PASSPHRASE',
  'SECRET',
  'TOKEN',
  'CREDENTIAL',
  'APIKEY',
  'API_KEY',
  'PRIVATEKEY',
  'PRIVATE_KEY',
  'ACCESSKEY',
  'ACCESS_KEY',
  'AUTHORIZATION',
  'COOKIE',
  'SIGNING_KEY',
  'ENCRYPTION_KEY',
  'CLIENT_KEY',
];
// Words that make a key secret when they are a whole segment of it (split on _ - . and camelCase).
const SECRET_SEGMENTS = new Set([
  'PASS',
  'PWD',
  'PW',
  'KEY',
  'KEYS',
  'AUTH',
  'DSN',
  'SALT',
  'PIN',
  'CREDS',
  'SIG',
  'OTP',
  'PSK',
  'HMAC',
]);

/** `word` inside `text`, not running on into a longer word (TOKENIZER, SECRETARY); a plural S is allowed. */
function containsWord(text: string, word: string): boolean {
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
    const next = text[at + word.length];
    if (next === undefined || next === 'S' || !/[A-Z]/.test(next)) return true;
  }
  return false;
}

/** Whether a variable, label or flag name names a secret. */
export function isSecretKey(key: string): boolean {
  const upper = key.toUpperCase();
  const compact = upper.replace(/[^A-Z0-9]/g, '');
  for (const word of SECRET_SUBSTRINGS) {
    if (containsWord(upper, word) || containsWord(compact, word.replace(/_/g, ''))) return true;
  }
  const segments = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((segment) => segment !== '');
  return segments.some((segment) => SECRET_SEGMENTS.has(segment));
}

// Values that are credentials whatever their key.
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const AUTH_SCHEME = /\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const TOKEN_PATTERNS: RegExp[] = [
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bglpat-[A-Za-z0-9_-]{16,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];

// scheme://user:password@host → scheme://user:***@host (also scheme://:password@host and scheme://token@host
// for schemes where a lone user part is a token is left alone: only an explicit password is masked).
const URL_USERINFO = /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s/@:?#]*):([^\s/@?#]*)@/g;
// key=value pairs inside a value (query strings, ADO/JDBC/libpq connection strings, `a=1;b=2`, `k: v`).
const INLINE_PAIR = /([A-Za-z0-9_.-]+)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'"]+)/g;
// Command-line flags with a value: --password=x, --db-pass x (the next argument).
const FLAG_WITH_VALUE = /^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(.*)$/s;
const FLAG = /^--?[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Inside a shell string: --password=x or --password x.
const INLINE_FLAG = /(--?[A-Za-z0-9][A-Za-z0-9_.-]*)(=|\s+)("[^"]*"|'[^']*'|[^\s"']+)/g;

/** Masks the secret parts of a free-text value (a URL, connection string, shell command, log line). */
export function maskText(text: string): string {
  if (PRIVATE_KEY_BLOCK.test(text)) return MASK;
  let out = text.replace(AUTH_SCHEME, (_all, scheme: string) => `${scheme} ${MASK}`);
  out = out.replace(URL_USERINFO, (_all, scheme: string, user: string) => `${scheme}${user}:${MASK}@`);
  out = out.replace(INLINE_PAIR, (all, key: string, sep: string, value: string) =>
    isSecretKey(key) && !value.startsWith(MASK) ? `${key}${sep}${MASK}` : all,
  );
  out = out.replace(INLINE_FLAG, (all, flag: string, sep: string, value: string) =>
    isSecretFlag(flag) && !value.startsWith(MASK) ? `${flag}${sep}${MASK}` : all,
  );
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, MASK);
  return out;
}

/** A flag (`--db-password`, `--api-key`) whose value is a secret. */
function isSecretFlag(flag: string): boolean {
  return isSecretKey(flag.replace(/^-+/, ''));
}

/** Masks one `KEY=value` pair (an environment entry or a label). */
export function maskPair(key: string, value: string): string {
  if (value === '') return value;
  return isSecretKey(key) ? MASK : maskText(value);
}

/** Masks an environment list (`KEY=value` strings) as `docker inspect` shows it. */
export function maskEnv(env: readonly string[]): string[] {
  return env.map((entry) => {
    const eq = entry.indexOf('=');
    if (eq < 0) return entry;
    const key = entry.slice(0, eq);
    return `${key}=${maskPair(key, entry.slice(eq + 1))}`;
  });
}

/** Masks a labels map. */
export function maskLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([key, value]) => [key, maskPair(key, value)]));
}

/**
 * Masks an argument vector (Cmd, Entrypoint, Args, a health check, a process's cmdline): a secret
 * flag's value, whether joined (`--password=x`) or the next argument (`--password x`), and secrets
 * inside any argument (URLs with userinfo, shell strings, tokens).
 */
export function maskArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let maskNext = false;
  for (const arg of argv) {
    if (maskNext) {
      out.push(MASK);
      maskNext = false;
      continue;
    }
    const joined = FLAG_WITH_VALUE.exec(arg);
    if (joined) {
      const [, flag = '', value = ''] = joined;
      out.push(isSecretFlag(flag) ? `${flag}=${MASK}` : `${flag}=${maskText(value)}`);
      continue;
    }
    if (FLAG.test(arg) && isSecretFlag(arg)) {
      out.push(arg);
      maskNext = true;
      continue;
    }
    // A bare KEY=value argument (env assignments passed to `env`, `docker run -e`-style).
    const eq = arg.indexOf('=');
    if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(arg.slice(0, eq))) {
      out.push(`${arg.slice(0, eq)}=${maskPair(arg.slice(0, eq), arg.slice(eq + 1))}`);
      continue;
    }
    out.push(maskText(arg));
  }
  return out;
}
