import { DatabasesError } from '../errors.js';

/**
 * One lexer for the three SQL dialects the guards read. It only has to agree with each server on
 * where code ends and strings, quoted identifiers and comments begin: everything the guards check
 * is a word of code. Where a dialect executes text that looks like a comment (MySQL's `/*! ... *\/`
 * and `/*M! ... *\/`, optimizer hints `/*+ ... *\/`), the text is lexed as code.
 */

export type Dialect = 'postgres' | 'mysql' | 'tsql';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'param' | 'variable' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Words lower-cased; quoted identifiers and strings unescaped; variables with their sigils (`@x`, `@@x`). */
  value: string;
  /** Offset of the token's first character in the text (0-based). */
  position: number;
}

export interface LexOptions {
  /** MySQL: backslash escapes in strings (off with sql_mode NO_BACKSLASH_ESCAPES). */
  backslashEscapes?: boolean;
  /** MySQL: "..." is an identifier, not a string (sql_mode ANSI_QUOTES). */
  ansiQuotes?: boolean;
}

const isDigit = (ch: string) => ch >= '0' && ch <= '9';
const isIdentStart = (ch: string) => /[A-Za-z_\u0080-\uffff]/.test(ch);

function malformed(message: string): never {
  throw new DatabasesError('INVALID_INPUT', message);
}

/** Characters that continue an identifier, per dialect ($ in all three, # and @ in T-SQL). */
function identChar(dialect: Dialect): (ch: string) => boolean {
  if (dialect === 'tsql') return (ch) => /[A-Za-z0-9_$#@\u0080-\uffff]/.test(ch);
  return (ch) => /[A-Za-z0-9_$\u0080-\uffff]/.test(ch);
}

/** Decodes U&"..." escapes (\XXXX, \+XXXXXX, \\) so that a PostgreSQL name cannot hide behind them. */
function decodeUnicodeEscapes(body: string): string {
  return body.replace(/\\(\\|\+[0-9A-Fa-f]{6}|[0-9A-Fa-f]{4})/g, (_match, code: string) => {
    if (code === '\\') return '\\';
    const hex = code.startsWith('+') ? code.slice(1) : code;
    const point = Number.parseInt(hex, 16);
    return point <= 0x10ffff ? String.fromCodePoint(point) : '\ufffd';
  });
}

export function tokenize(sql: string, dialect: Dialect, options: LexOptions = {}): Token[] {
  const tokens: Token[] = [];
  lexInto(tokens, sql, 0, sql.length, dialect, options);
  return tokens;
}

function lexInto(tokens: Token[], sql: string, from: number, to: number, dialect: Dialect, options: LexOptions): void {
  const backslash = dialect === 'mysql' && options.backslashEscapes !== false;
  const isIdentChar = identChar(dialect);
  let i = from;

  /** Reads a quoted run that ends at `close` (doubled `close` escapes it); returns [body, end]. */
  const readQuoted = (start: number, close: string, escapes: boolean, what: string): [string, number] => {
    let j = start + 1;
    let body = '';
    for (;;) {
      if (j >= to) malformed(`Unterminated ${what} starting at position ${start + 1}`);
      const ch = sql[j] as string;
      if (escapes && ch === '\\') {
        body += sql.slice(j, j + 2);
        j += 2;
        continue;
      }
      if (ch === close) {
        if (sql[j + 1] === close && j + 1 < to) {
          body += close;
          j += 2;
          continue;
        }
        return [body, j + 1];
      }
      body += ch;
      j += 1;
    }
  };

  while (i < to) {
    const ch = sql[i] as string;
    const next = i + 1 < to ? (sql[i + 1] as string) : '';

    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    // Line comments: `--` (MySQL needs whitespace or a control character after it), MySQL `#`.
    if (
      (ch === '-' &&
        next === '-' &&
        (dialect !== 'mysql' || i + 2 >= to || sql.charCodeAt(i + 2) <= 32 || /\s/.test(sql[i + 2] ?? ''))) ||
      (ch === '#' && dialect === 'mysql')
    ) {
      const end = sql.indexOf('\n', i);
      i = end === -1 || end > to ? to : end + 1;
      continue;
    }
    if (ch === '/' && next === '*') {
      if (dialect === 'mysql') {
        // /*! code */, /*!50001 code */, /*M! code */, /*M!100100 code */, /*+ hints */: the server runs these.
        const executable = /^\/\*(?:M?!\d*|\+)/.exec(sql.slice(i, Math.min(to, i + 16)));
        const close = sql.indexOf('*/', i + 2);
        if (close === -1 || close + 2 > to) malformed(`Unterminated /* comment */ starting at position ${i + 1}`);
        if (executable) lexInto(tokens, sql, i + executable[0].length, close, dialect, options);
        i = close + 2;
        continue;
      }
      // PostgreSQL and T-SQL nest block comments.
      let depth = 1;
      let j = i + 2;
      while (depth > 0) {
        if (j >= to) malformed(`Unterminated /* comment */ starting at position ${i + 1}`);
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1;
          j += 2;
        } else {
          j += 1;
        }
      }
      i = j;
      continue;
    }
    if (ch === "'") {
      const [body, end] = readQuoted(i, "'", backslash, 'string literal');
      tokens.push({ kind: 'string', value: body, position: i });
      i = end;
      continue;
    }
    if (ch === '"') {
      const isString = dialect === 'mysql' && options.ansiQuotes !== true;
      const [body, end] = readQuoted(i, '"', isString && backslash, isString ? 'string literal' : 'quoted identifier');
      tokens.push({ kind: isString ? 'string' : 'quoted', value: body, position: i });
      i = end;
      continue;
    }
    if (ch === '`' && dialect === 'mysql') {
      const [body, end] = readQuoted(i, '`', false, 'quoted identifier');
      tokens.push({ kind: 'quoted', value: body, position: i });
      i = end;
      continue;
    }
    if (ch === '[' && dialect === 'tsql') {
      const [body, end] = readQuoted(i, ']', false, 'bracketed identifier');
      tokens.push({ kind: 'quoted', value: body, position: i });
      i = end;
      continue;
    }
    // Prefixed literals: E'..' (PostgreSQL, backslash escapes), B'..', X'..', N'..'.
    if (/[BbXxNn]/.test(ch) && next === "'") {
      const [body, end] = readQuoted(i + 1, "'", backslash && /[Nn]/.test(ch), 'string literal');
      tokens.push({ kind: 'string', value: body, position: i });
      i = end;
      continue;
    }
    if (dialect === 'postgres' && (ch === 'E' || ch === 'e') && next === "'") {
      const [body, end] = readQuoted(i + 1, "'", true, 'string literal');
      tokens.push({ kind: 'string', value: body, position: i });
      i = end;
      continue;
    }
    if (dialect === 'postgres' && (ch === 'U' || ch === 'u') && next === '&' && /['"]/.test(sql[i + 2] ?? '')) {
      const quote = sql[i + 2] as string;
      const [body, end] = readQuoted(i + 2, quote, false, quote === '"' ? 'quoted identifier' : 'string literal');
      tokens.push({ kind: quote === '"' ? 'quoted' : 'string', value: decodeUnicodeEscapes(body), position: i });
      i = end;
      continue;
    }
    // MySQL character set introducers: _utf8mb4'...', _binary'...'.
    if (dialect === 'mysql' && ch === '_') {
      const introducer = /^_[A-Za-z0-9]+(?=['"])/.exec(sql.slice(i, Math.min(to, i + 40)));
      if (introducer) {
        i += introducer[0].length;
        continue;
      }
    }
    if (ch === '$' && dialect === 'postgres') {
      if (isDigit(next)) {
        let j = i + 1;
        while (j < to && isDigit(sql[j] as string)) j += 1;
        tokens.push({ kind: 'param', value: sql.slice(i, j), position: i });
        i = j;
        continue;
      }
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, to));
      if (tag) {
        const delimiter = tag[0];
        const close = sql.indexOf(delimiter, i + delimiter.length);
        if (close === -1 || close + delimiter.length > to) {
          malformed(`Unterminated dollar-quoted string ${delimiter} starting at position ${i + 1}`);
        }
        tokens.push({ kind: 'string', value: sql.slice(i + delimiter.length, close), position: i });
        i = close + delimiter.length;
        continue;
      }
    }
    if (ch === '?' && dialect === 'mysql') {
      tokens.push({ kind: 'param', value: '?', position: i });
      i += 1;
      continue;
    }
    // Variables: @x, @@x (MySQL, T-SQL); MySQL also @'x', @`x`, @"x".
    if (ch === '@' && dialect !== 'postgres') {
      let j = i + 1;
      if (sql[j] === '@') j += 1;
      if (dialect === 'mysql' && /['"`]/.test(sql[j] ?? '')) {
        const [body, end] = readQuoted(j, sql[j] as string, false, 'variable name');
        tokens.push({ kind: 'variable', value: `${sql.slice(i, j)}${body}`.toLowerCase(), position: i });
        i = end;
        continue;
      }
      while (j < to && (isIdentChar(sql[j] as string) || sql[j] === '.')) j += 1;
      tokens.push({ kind: 'variable', value: sql.slice(i, j).toLowerCase(), position: i });
      i = j;
      continue;
    }
    if (isIdentStart(ch) || (dialect === 'tsql' && ch === '#')) {
      let j = i + 1;
      while (j < to && isIdentChar(sql[j] as string)) j += 1;
      tokens.push({ kind: 'word', value: sql.slice(i, j).toLowerCase(), position: i });
      i = j;
      continue;
    }
    if (isDigit(ch) || (ch === '.' && isDigit(next))) {
      let j = i + 1;
      while (j < to && /[0-9A-Za-z_.]/.test(sql[j] as string)) {
        if (/[eE]/.test(sql[j] as string) && /[+-]/.test(sql[j + 1] ?? '')) j += 1;
        j += 1;
      }
      tokens.push({ kind: 'number', value: sql.slice(i, j), position: i });
      i = j;
      continue;
    }
    // Two-character operators the guards look at.
    if ((ch === ':' && next === '=') || (ch === ':' && next === ':')) {
      tokens.push({ kind: 'punct', value: ch + next, position: i });
      i += 2;
      continue;
    }
    tokens.push({ kind: 'punct', value: ch, position: i });
    i += 1;
  }
}
