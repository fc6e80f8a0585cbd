/**
 * Classifies a raw SQL statement by its kind before it is prepared. Read-only enforcement is NOT
 * done here (the engine does it, on a read-only connection); this refuses the statement kinds that
 * are never allowed whatever the mode: ATTACH/DETACH (other files), transaction control (the
 * server owns transactions), VACUUM INTO (writes a new file) and PRAGMA other than a read-only
 * allowlist without assignment (connection state, journal mode, writable_schema…).
 */
import { DatabaseError } from './errors.js';

/** Read-only pragmas that may take an argument in parentheses: PRAGMA table_info(users). */
const PRAGMAS_WITH_ARGUMENT = new Set([
  'table_info',
  'table_xinfo',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
  'table_list',
  'integrity_check',
  'quick_check',
  'foreign_key_check',
]);

/** Read-only pragmas that only read a value; any argument would set it. */
const PRAGMAS_WITHOUT_ARGUMENT = new Set([
  'compile_options',
  'page_count',
  'page_size',
  'freelist_count',
  'user_version',
  'schema_version',
  'collation_list',
]);

export const ALLOWED_PRAGMAS: readonly string[] = [...PRAGMAS_WITH_ARGUMENT, ...PRAGMAS_WITHOUT_ARGUMENT].sort();

const TRANSACTION_CONTROL = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE']);

type Token =
  | { kind: 'word'; text: string; upper: string }
  | { kind: 'name'; text: string } // "quoted", [bracketed] or `backticked` identifier
  | { kind: 'other'; text: string }; // a number, a 'string' or one punctuation character

/**
 * A tokenizer just good enough for the head of a statement: skips whitespace and comments,
 * reads words, quoted names, string literals and single characters.
 */
function* tokens(sql: string): Generator<Token, undefined> {
  let i = 0;
  while (i < sql.length) {
    const ch = sql.charAt(i);
    if (/\s/.test(ch)) {
      i++;
    } else if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i));
      const text = match?.[0] ?? ch;
      yield { kind: 'word', text, upper: text.toUpperCase() };
      i += text.length;
    } else if (/[0-9]/.test(ch)) {
      const text = /^[0-9][0-9A-Za-z_.]*/.exec(sql.slice(i))?.[0] ?? ch;
      yield { kind: 'other', text };
      i += text.length;
    } else if (ch === '"' || ch === '`' || ch === '[' || ch === "'") {
      const close = ch === '[' ? ']' : ch;
      let j = i + 1;
      let value = '';
      while (j < sql.length) {
        const c = sql.charAt(j);
        if (c === close) {
          if (close !== ']' && sql.charAt(j + 1) === close) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += c;
        j++;
      }
      i = j + 1;
      yield ch === "'" ? { kind: 'other', text: `'${value}'` } : { kind: 'name', text: value };
    } else {
      yield { kind: 'other', text: ch };
      i++;
    }
  }
}

export interface StatementKind {
  /** The statement's leading keyword, upper-case (SELECT, INSERT, WITH, PRAGMA…). */
  keyword: string;
  /** Prefixed by EXPLAIN or EXPLAIN QUERY PLAN: compiled and described, never run. */
  explain: boolean;
  /** For PRAGMA: the pragma's name, lower-case. */
  pragma?: string;
}

function refuse(message: string): DatabaseError {
  return new DatabaseError('FORBIDDEN', message);
}

function wordOf(token: Token | undefined): string | undefined {
  if (token?.kind === 'word') return token.upper;
  return undefined;
}

function checkPragma(stream: Generator<Token, undefined>): string {
  let first = stream.next().value;
  let second = stream.next().value;
  // PRAGMA schema.name: skip the schema qualifier.
  if (second?.kind === 'other' && second.text === '.') {
    first = stream.next().value;
    second = stream.next().value;
  }
  if (first === undefined || first.kind === 'other') throw refuse('PRAGMA without a name is not allowed');
  const name = first.text.toLowerCase();
  const allowed = `allowed read-only pragmas: ${ALLOWED_PRAGMAS.join(', ')}`;
  if (!PRAGMAS_WITH_ARGUMENT.has(name) && !PRAGMAS_WITHOUT_ARGUMENT.has(name)) {
    throw refuse(`PRAGMA ${name} is not allowed (${allowed})`);
  }
  if (second === undefined || (second.kind === 'other' && second.text === ';')) return name;
  if (second.kind === 'other' && second.text === '=') {
    throw refuse(`PRAGMA ${name} = … sets a value and is not allowed; only reading pragmas is (${allowed})`);
  }
  if (second.kind === 'other' && second.text === '(') {
    if (!PRAGMAS_WITH_ARGUMENT.has(name)) {
      throw refuse(`PRAGMA ${name}(…) sets a value and is not allowed; read it with PRAGMA ${name}`);
    }
    // One argument, the closing parenthesis, then nothing but an optional semicolon.
    const argument = stream.next().value;
    const close = stream.next().value;
    if (argument === undefined || (argument.kind === 'other' && /^[^0-9']$/.test(argument.text))) {
      throw refuse(`PRAGMA ${name}(…) takes one name or number`);
    }
    if (close?.kind !== 'other' || close.text !== ')') throw refuse(`PRAGMA ${name}(…) takes one name or number`);
    const after = stream.next().value;
    if (after === undefined || (after.kind === 'other' && after.text === ';')) return name;
  }
  throw refuse(`PRAGMA ${name}: unexpected text after the pragma name`);
}

/**
 * Finds the statement's kind and throws FORBIDDEN (with a clear message) for kinds that are never
 * allowed. Whether the statement writes is left to the engine and to better-sqlite3's stmt.readonly.
 */
export function classifyStatement(sql: string): StatementKind {
  const stream = tokens(sql);
  let token = stream.next().value;
  let explain = false;
  if (wordOf(token) === 'EXPLAIN') {
    explain = true;
    token = stream.next().value;
    if (wordOf(token) === 'QUERY') {
      token = stream.next().value;
      if (wordOf(token) !== 'PLAN') throw new DatabaseError('INVALID_INPUT', 'EXPLAIN QUERY must be followed by PLAN');
      token = stream.next().value;
    }
  }
  const keyword = wordOf(token);
  if (keyword === undefined) {
    if (token === undefined) throw new DatabaseError('INVALID_INPUT', 'The query is empty (no SQL statement found)');
    return { keyword: token.text, explain };
  }
  if (keyword === 'ATTACH' || keyword === 'DETACH') {
    throw refuse(`${keyword} is not allowed: queries may only use this server's database`);
  }
  if (TRANSACTION_CONTROL.has(keyword)) {
    throw refuse(`${keyword} is not allowed: each call runs as its own statement and the server manages transactions`);
  }
  if (keyword === 'VACUUM') {
    for (
      let next = stream.next().value, count = 0;
      next !== undefined && count < 3;
      next = stream.next().value, count++
    ) {
      if (wordOf(next) === 'INTO')
        throw refuse('VACUUM INTO is not allowed: it writes a copy of the database to a file');
    }
  }
  if (keyword === 'PRAGMA') return { keyword, explain, pragma: checkPragma(stream) };
  return { keyword, explain };
}
