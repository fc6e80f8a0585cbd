/**
 * The head of a raw SQL statement, read exactly as SQLite's tokenizer reads it (tokenize.c), for the
 * one decision that cannot wait for the compiled program: whether the statement is a PRAGMA.
 *
 * Everything else about a statement is decided on what SQLite compiles (statement-guard.ts). PRAGMA
 * is the exception because SQLite applies most pragma assignments while *compiling* them
 * (`PRAGMA synchronous=OFF`, `foreign_keys`, `query_only`, `busy_timeout`, `soft_heap_limit`, …
 * take effect in sqlite3_prepare, before any step), so a PRAGMA must be recognised before it is
 * prepared, and only a read-only allowlist is ever prepared.
 *
 * To make the text check and the compiler agree by construction, the statement that is prepared is
 * `core`: the text from the first token on, with SQLite's leading trivia (whitespace, comments, empty
 * statements `;`) removed here. What follows the head is never interpreted here.
 */
import { DatabaseError } from './errors.js';

/** Read-only pragmas that take a table, index or count argument: PRAGMA table_info(users). */
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

/** Read-only pragmas that only read a value; with an argument, each of them would set it. */
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

export interface StatementHead {
  /** The statement from its first token on: what is prepared, so what was checked is what runs. */
  core: string;
  /** EXPLAIN or EXPLAIN QUERY PLAN: SQLite compiles and describes the statement, never runs it. */
  explain: boolean;
  /** The first keyword after any EXPLAIN, upper-case ASCII ('' when the statement starts with a non-word). */
  keyword: string;
  /** For PRAGMA: the pragma's name as SQLite looks it up (ASCII lower-case). */
  pragma?: string;
}

/**
 * SQLite's whitespace token (tokenize.c, CC_SPACE): it starts with space, \t, \n, \f or \r and
 * runs on over any isspace() byte, \v included. A \v is whitespace inside such a run, an illegal
 * token on its own.
 */
function isSpaceStart(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

function isSpaceRun(code: number): boolean {
  return isSpaceStart(code) || code === 0x0b;
}

/** U+FEFF is the UTF-8 byte-order mark EF BB BF, which SQLite reads as a whitespace token anywhere (CC_BOM). */
const BOM = 0xfeff;

/** SQLite's identifier characters (sqlite3IsIdChar): ASCII letters, digits, _ and $, and every byte >= 0x80. */
function isIdChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x5f ||
    code === 0x24 ||
    code >= 0x80
  );
}

/**
 * Skips whitespace, byte-order marks and comments (and, at the head of the input, empty statements)
 * from `from`, as SQLite's tokenizer does: `--` runs to a newline (only \n ends it), `/*` to the
 * next `*\/` or the end of the input (a `/*` that ends the input is a slash, not a comment).
 */
function skipTrivia(sql: string, from: number, semicolons: boolean): number {
  let i = from;
  while (i < sql.length) {
    const code = sql.charCodeAt(i);
    if (isSpaceStart(code)) {
      i++;
      while (i < sql.length && isSpaceRun(sql.charCodeAt(i))) i++;
    } else if (code === BOM || (semicolons && code === 0x3b)) {
      i++;
    } else if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i + 2);
      i = end === -1 ? sql.length : end;
    } else if (sql.startsWith('/*', i) && i + 2 < sql.length) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else {
      break;
    }
  }
  return i;
}

/** The run of identifier characters at `i` (a keyword or a bare name), or '' when none starts there. */
function wordAt(sql: string, i: number): string {
  const first = sql.charCodeAt(i);
  // A digit starts a number and $ a variable, not a word.
  if (Number.isNaN(first) || !isIdChar(first) || (first >= 0x30 && first <= 0x39) || first === 0x24) return '';
  let end = i + 1;
  while (end < sql.length && isIdChar(sql.charCodeAt(end))) end++;
  return sql.slice(i, end);
}

/** The word as SQLite compares keywords and pragma names: ASCII letters folded, nothing else. */
function asciiLower(word: string): string {
  return word.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function refuse(message: string): DatabaseError {
  return new DatabaseError('FORBIDDEN', message);
}

/**
 * A name as SQLite's `nm` rule reads it: a bare word, "quoted" (doubled quotes escape),
 * [bracketed], `backticked` or a 'string'. Returns the name and the index after it.
 */
function nameAt(sql: string, i: number): { name: string; end: number } | undefined {
  const open = sql.charAt(i);
  if (open === '"' || open === '`' || open === "'" || open === '[') {
    const close = open === '[' ? ']' : open;
    let name = '';
    let j = i + 1;
    while (j < sql.length) {
      const c = sql.charAt(j);
      if (c === close) {
        if (close !== ']' && sql.charAt(j + 1) === close) {
          name += c;
          j += 2;
          continue;
        }
        return { name, end: j + 1 };
      }
      name += c;
      j++;
    }
    return undefined; // unterminated: SQLite refuses it as an unrecognized token
  }
  const word = wordAt(sql, i);
  return word === '' ? undefined : { name: word, end: i + word.length };
}

/**
 * Checks a PRAGMA statement (the text after the PRAGMA keyword, from `from`) against the read-only
 * allowlist and returns the pragma's name. Only `PRAGMA [schema.]name` and, for the pragmas that
 * take an argument, `PRAGMA [schema.]name(arg)` or `= arg` pass; the argument is left to SQLite.
 */
function checkPragma(sql: string, from: number): string {
  const allowed = `allowed read-only pragmas: ${ALLOWED_PRAGMAS.join(', ')}`;
  let i = skipTrivia(sql, from, false);
  let part = nameAt(sql, i);
  if (!part) throw refuse(`PRAGMA without a name is not allowed (${allowed})`);
  i = skipTrivia(sql, part.end, false);
  if (sql.charAt(i) === '.') {
    part = nameAt(sql, skipTrivia(sql, i + 1, false));
    if (!part) throw refuse(`PRAGMA schema. without a pragma name is not allowed (${allowed})`);
    i = skipTrivia(sql, part.end, false);
  }
  const name = asciiLower(part.name);
  const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
  if (!PRAGMAS_WITH_ARGUMENT.has(name) && !PRAGMAS_WITHOUT_ARGUMENT.has(name)) {
    throw refuse(
      `PRAGMA ${shown} is not allowed: pragmas change or reveal connection settings (${allowed}; in a SELECT, ` +
        `the same reads are available as table-valued functions, e.g. SELECT * FROM pragma_table_info('t'))`,
    );
  }
  const next = sql.charAt(i);
  if (next === '' || next === ';') return name;
  if ((next === '(' || next === '=') && PRAGMAS_WITH_ARGUMENT.has(name)) return name;
  if (next === '(' || next === '=') {
    throw refuse(`PRAGMA ${shown} with a value sets it and is not allowed; read it with PRAGMA ${name}`);
  }
  throw refuse(`PRAGMA ${shown}: unexpected text after the pragma name`);
}

/**
 * Reads the head of a raw statement: its core text, EXPLAIN prefix, first keyword, and for PRAGMA
 * the (allowed) pragma name. Throws INVALID_INPUT for an empty statement or a NUL character and
 * FORBIDDEN for a pragma outside the read-only allowlist.
 */
export function readStatementHead(sql: string): StatementHead {
  // SQLite stops reading at a NUL, so text after one would be silently ignored (and never checked).
  if (sql.includes('\0')) throw new DatabaseError('INVALID_INPUT', 'The query contains a NUL character');
  const start = skipTrivia(sql, 0, true);
  if (start >= sql.length) throw new DatabaseError('INVALID_INPUT', 'The query is empty (no SQL statement found)');
  const core = sql.slice(start);
  let i = 0;
  let word = asciiLower(wordAt(core, i));
  let explain = false;
  if (word === 'explain') {
    explain = true;
    i = skipTrivia(core, i + word.length, false);
    word = asciiLower(wordAt(core, i));
    if (word === 'query') {
      const plan = skipTrivia(core, i + word.length, false);
      if (asciiLower(wordAt(core, plan)) === 'plan') {
        i = skipTrivia(core, plan + 4, false);
        word = asciiLower(wordAt(core, i));
      }
    }
  }
  const keyword = word.replace(/[a-z]/g, (c) => c.toUpperCase());
  if (word === 'pragma') return { core, explain, keyword, pragma: checkPragma(core, i + word.length) };
  return { core, explain, keyword };
}
