import { DatabaseError } from './errors.js';

/**
 * A lexical guard in front of the database. It is NOT the read-only boundary: that is the READ ONLY
 * transaction, the statement timeout and the role's privileges, all enforced by PostgreSQL. The guard
 * refuses, with a clear message, what the server would either allow or answer confusingly: several
 * statements, transaction control, COPY, session state that would leak into pooled connections, and
 * functions that read server files, stall the server or have side effects a READ ONLY transaction
 * does not stop (dblink, advisory locks, sequences).
 */

export type AccessMode = 'read_only' | 'read_write';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'param' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Words are lower-cased; quoted identifiers keep their case (unescaped); strings hold their body. */
  value: string;
  /** Offset of the token's first character in the SQL text (0-based). */
  position: number;
}

const isIdentStart = (ch: string) => /[A-Za-z_\u0080-\uffff]/.test(ch);
const isIdentChar = (ch: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(ch);
const isDigit = (ch: string) => ch >= '0' && ch <= '9';

function refuseMalformed(message: string): never {
  throw new DatabaseError('INVALID_INPUT', message);
}

/** Decodes the default escapes of a U&"..." identifier (\XXXX, \+XXXXXX, \\) so that it cannot hide a name. */
function decodeUnicodeEscapes(body: string): string {
  return body.replace(/\\(\\|\+[0-9A-Fa-f]{6}|[0-9A-Fa-f]{4})/g, (_match, code: string) => {
    if (code === '\\') return '\\';
    const hex = code.startsWith('+') ? code.slice(1) : code;
    return String.fromCodePoint(Number.parseInt(hex, 16));
  });
}

/**
 * Splits SQL into tokens the way PostgreSQL's lexer does for everything that matters here: comments
 * (nested block comments too) and whitespace vanish; '...', E'...', U&'...', B'...', X'...', N'...'
 * and $tag$...$tag$ become strings; "..." and U&"..." become quoted identifiers. The service forces
 * standard_conforming_strings on for every call, so backslashes only escape inside E'...'.
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;

  const readQuoted = (start: number, quote: string, backslashEscapes: boolean): [string, number] => {
    let j = start + 1;
    let body = '';
    for (;;) {
      if (j >= n) {
        refuseMalformed(
          `Unterminated ${quote === '"' ? 'quoted identifier' : 'string literal'} starting at position ${start + 1}`,
        );
      }
      const ch = sql[j] as string;
      if (backslashEscapes && ch === '\\') {
        body += sql.slice(j, j + 2);
        j += 2;
        continue;
      }
      if (ch === quote) {
        if (sql[j + 1] === quote) {
          body += quote;
          j += 2;
          continue;
        }
        return [body, j + 1];
      }
      body += ch;
      j += 1;
    }
  };

  while (i < n) {
    const ch = sql[i] as string;
    const next = sql[i + 1] ?? '';

    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (ch === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (depth > 0) {
        if (j >= n) refuseMalformed(`Unterminated /* comment */ starting at position ${i + 1}`);
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
      const [body, end] = readQuoted(i, "'", false);
      tokens.push({ kind: 'string', value: body, position: i });
      i = end;
      continue;
    }
    if (ch === '"') {
      const [body, end] = readQuoted(i, '"', false);
      tokens.push({ kind: 'quoted', value: body, position: i });
      i = end;
      continue;
    }
    // Prefixed literals: E'..' (backslash escapes), B'..', X'..', N'..', U&'..' and U&"..".
    if (/[EeBbXxNn]/.test(ch) && next === "'") {
      const [body, end] = readQuoted(i + 1, "'", ch === 'E' || ch === 'e');
      tokens.push({ kind: 'string', value: body, position: i });
      i = end;
      continue;
    }
    if ((ch === 'U' || ch === 'u') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      const quote = sql[i + 2] as string;
      const [body, end] = readQuoted(i + 2, quote, false);
      tokens.push({ kind: quote === '"' ? 'quoted' : 'string', value: decodeUnicodeEscapes(body), position: i });
      i = end;
      continue;
    }
    if (ch === '$') {
      if (isDigit(next)) {
        let j = i + 1;
        while (j < n && isDigit(sql[j] as string)) j += 1;
        tokens.push({ kind: 'param', value: sql.slice(i, j), position: i });
        i = j;
        continue;
      }
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const delimiter = tag[0];
        const close = sql.indexOf(delimiter, i + delimiter.length);
        if (close === -1)
          refuseMalformed(`Unterminated dollar-quoted string ${delimiter} starting at position ${i + 1}`);
        tokens.push({ kind: 'string', value: sql.slice(i + delimiter.length, close), position: i });
        i = close + delimiter.length;
        continue;
      }
    }
    if (isIdentStart(ch)) {
      let j = i + 1;
      while (j < n && isIdentChar(sql[j] as string)) j += 1;
      tokens.push({ kind: 'word', value: sql.slice(i, j).toLowerCase(), position: i });
      i = j;
      continue;
    }
    if (isDigit(ch) || (ch === '.' && isDigit(next))) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(sql[j] as string)) {
        // 1e-5 / 1E+5: the sign belongs to the number.
        if (/[eE]/.test(sql[j] as string) && /[+-]/.test(sql[j + 1] ?? '')) j += 1;
        j += 1;
      }
      tokens.push({ kind: 'number', value: sql.slice(i, j), position: i });
      i = j;
      continue;
    }
    tokens.push({ kind: 'punct', value: ch, position: i });
    i += 1;
  }
  return tokens;
}

/** Statements that end, open or split transactions: every call already runs in its own transaction. */
const TRANSACTION_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release']);

/** Statements whose effect outlives the call's transaction and would leak into the next pooled call. */
const SESSION_STATE = new Set([
  'set',
  'reset',
  'discard',
  'listen',
  'unlisten',
  'load',
  'prepare',
  'execute',
  'deallocate',
  'declare',
  'fetch',
  'move',
  'close',
]);

/** Statements that run procedural code the guard cannot inspect: refused in read-only mode. */
const OPAQUE_CODE = new Set(['do', 'call']);

/** Refused in every mode: server files, connections to elsewhere, session-level locks and settings. */
const ALWAYS_DENIED_FUNCTIONS = new Set([
  'pg_read_file',
  'pg_read_binary_file',
  'pg_stat_file',
  'pg_logdir_ls',
  'lo_import',
  'lo_export',
  'set_config',
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_advisory_unlock',
  'pg_advisory_unlock_shared',
  'pg_advisory_unlock_all',
  // adminpack
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'pg_file_sync',
]);
const ALWAYS_DENIED_PREFIXES = ['pg_ls_', 'dblink'];

/** Refused in read-only mode: they write, stall, signal other backends, or run SQL hidden in a string. */
const READ_ONLY_DENIED_FUNCTIONS = new Set([
  'nextval',
  'setval',
  'txid_current',
  'pg_current_xact_id',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_promote',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_wal_replay_pause',
  'pg_wal_replay_resume',
  'pg_create_physical_replication_slot',
  'pg_create_logical_replication_slot',
  'pg_drop_replication_slot',
  'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot',
  'pg_replication_slot_advance',
  'pg_logical_slot_get_changes',
  'pg_logical_slot_get_binary_changes',
  'pg_logical_emit_message',
  'pg_notify',
  'pg_log_backend_memory_contexts',
  'pg_import_system_collations',
  'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  'lo_create',
  'lo_creat',
  'lo_unlink',
  'lo_put',
  'lo_from_bytea',
  'lo_truncate',
  'lowrite',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'ts_stat',
  'ts_rewrite',
]);
const READ_ONLY_DENIED_PREFIXES = ['pg_sleep', 'pg_stat_reset', 'pg_stat_statements_reset'];

/** What explain_query accepts: statements EXPLAIN can plan. */
const EXPLAINABLE = new Set(['select', 'with', 'values', 'table', 'insert', 'update', 'delete', 'merge']);

export type StatementPurpose = 'execute' | 'explain';

export interface CheckedStatement {
  /** The leading keyword, lower-cased (`select`, `with`, `insert`, ...). */
  verb: string;
  tokens: Token[];
}

function deniedFunction(name: string, mode: AccessMode): 'always' | 'read_only' | undefined {
  if (ALWAYS_DENIED_FUNCTIONS.has(name) || ALWAYS_DENIED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    return 'always';
  }
  if (
    mode === 'read_only' &&
    (READ_ONLY_DENIED_FUNCTIONS.has(name) || READ_ONLY_DENIED_PREFIXES.some((prefix) => name.startsWith(prefix)))
  ) {
    return 'read_only';
  }
  return undefined;
}

const TEMPORARY = new Set(['temp', 'temporary']);

/** CREATE [GLOBAL|LOCAL] TEMP[ORARY] ... and SELECT ... INTO TEMP[ORARY] ... */
function createsTemporaryObject(verb: string, tokens: Token[]): boolean {
  const words = tokens.filter((token) => token.kind === 'word').map((token) => token.value);
  if (verb === 'create') {
    const second = words[1] === 'global' || words[1] === 'local' ? words[2] : words[1];
    const third = words[1] === 'or' ? words[3] : undefined; // CREATE OR REPLACE TEMP VIEW
    return TEMPORARY.has(second ?? '') || TEMPORARY.has(third ?? '');
  }
  if (verb === 'select' || verb === 'with') {
    return words.some((word, index) => word === 'into' && TEMPORARY.has(words[index + 1] ?? ''));
  }
  return false;
}

function refuse(message: string): never {
  throw new DatabaseError('FORBIDDEN', message);
}

function checkCopy(tokens: Token[]): never {
  if (tokens.some((token) => token.kind === 'word' && token.value === 'program')) {
    refuse('COPY ... PROGRAM runs a shell command on the database server and is never allowed.');
  }
  const direction = tokens.findIndex(
    (token) => token.kind === 'word' && (token.value === 'to' || token.value === 'from'),
  );
  const target = direction === -1 ? undefined : tokens[direction + 1];
  if (target?.kind === 'string') {
    refuse('COPY to or from a file on the database server is never allowed.');
  }
  refuse(
    'COPY is not supported by this tool (it needs a streaming client). Use SELECT to read rows, or INSERT ... VALUES with parameters to write them.',
  );
}

/**
 * Checks one statement before it is sent. Throws DatabaseError (INVALID_INPUT for malformed input,
 * FORBIDDEN for a refused statement class) with a message that names what was refused and why.
 */
export function checkStatement(sql: string, mode: AccessMode, purpose: StatementPurpose = 'execute'): CheckedStatement {
  const tokens = tokenize(sql);
  if (tokens.length === 0) refuseMalformed('sql is empty (only whitespace or comments)');

  let end = tokens.length;
  while (end > 0 && tokens[end - 1]?.kind === 'punct' && tokens[end - 1]?.value === ';') end -= 1;
  const body = tokens.slice(0, end);
  const separator = body.find((token) => token.kind === 'punct' && token.value === ';');
  if (separator) {
    refuseMalformed(
      `Only one statement per call: found another statement after ';' at position ${separator.position + 1}. Send each statement in its own call.`,
    );
  }
  if (body.length === 0) refuseMalformed('sql is empty (only ";")');

  const first = body.find((token) => !(token.kind === 'punct' && token.value === '('));
  const verb = first?.kind === 'word' ? first.value : '';
  const verbText = verb.toUpperCase();

  if (TRANSACTION_CONTROL.has(verb) || (verb === 'prepare' && body[1]?.value === 'transaction')) {
    refuse(
      `Transaction control (${verbText}) is not allowed: each call already runs in its own transaction, committed when it succeeds${mode === 'read_only' ? ' (read-only)' : ''} and rolled back when it fails.`,
    );
  }
  if (verb === 'copy') checkCopy(body);
  if (SESSION_STATE.has(verb)) {
    refuse(
      `${verbText} is not allowed: it changes session state that would outlive this call on a pooled connection. Use a plain statement instead.`,
    );
  }
  if (createsTemporaryObject(verb, body)) {
    refuse(
      'Temporary tables, views and sequences are not allowed: they would outlive this call on a pooled connection and surface in unrelated later calls.',
    );
  }
  if (mode === 'read_only' && OPAQUE_CODE.has(verb)) {
    refuse(`${verbText} runs procedural code and is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only).`);
  }
  if (purpose === 'explain') {
    if (verb === 'explain') refuseMalformed('Pass the statement itself, without EXPLAIN: explain_query adds it.');
    if (!EXPLAINABLE.has(verb)) {
      refuseMalformed(
        `explain_query plans SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE and MERGE statements, not ${verbText || 'this statement'}.`,
      );
    }
  }

  for (const token of body) {
    if (token.kind !== 'word' && token.kind !== 'quoted') continue;
    const name = token.value.toLowerCase();
    const denied = deniedFunction(name, mode);
    if (denied === 'always') {
      refuse(
        `${name}() is not allowed: it reads or writes server files, reaches other servers, or changes session state shared by pooled connections.`,
      );
    }
    if (denied === 'read_only') {
      refuse(
        `${name}() is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): it writes, stalls the server, signals other sessions or runs SQL hidden in a string.`,
      );
    }
  }
  return { verb, tokens: body };
}
