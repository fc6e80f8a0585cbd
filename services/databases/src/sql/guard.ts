import { DatabasesError } from '../errors.js';
import { type Dialect, type LexOptions, type Token, tokenize } from './lexer.js';

/**
 * The statement guard in front of each engine. It is not the read-only boundary: that is the
 * engine's own (PostgreSQL READ ONLY transactions, MySQL START TRANSACTION READ ONLY, a SQL Server
 * batch inside a transaction that is always rolled back) plus the login's privileges. The guard
 * refuses, with a message that names what and why, what those would let through or answer
 * confusingly: statements that end the transaction or commit implicitly (MySQL DDL), session state
 * that would outlive the call, files on the server, stalls, locks, other servers, dynamic SQL.
 *
 * Read-only servers get an allow-list (the statement must start with a reading verb) and a
 * deny-list of words anywhere in the code (outside strings, comments and quoted identifiers: a
 * column named like a keyword must be quoted). Read-write servers get only the deny-lists that hold
 * in every mode.
 */

export type Access = 'read_only' | 'read_write';
export type Purpose = 'execute' | 'explain';

export interface GuardOptions {
  dialect: Dialect;
  access: Access;
  purpose?: Purpose;
  lex?: LexOptions;
}

export interface CheckedSql {
  /** The leading keyword, lower-cased. */
  verb: string;
  tokens: Token[];
}

interface Rules {
  /** Verbs a read-only statement may start with. */
  readVerbs: ReadonlySet<string>;
  /** Verbs EXPLAIN accepts (explain tool). */
  explainVerbs: ReadonlySet<string>;
  /** Leading verbs refused in every mode, with the reason. */
  deniedVerbs: ReadonlyMap<string, string>;
  /** Words refused anywhere in every mode (functions, clauses), with the reason. */
  deniedWords: ReadonlyMap<string, string>;
  /** Words refused anywhere on read-only servers. */
  readOnlyDeniedWords: ReadonlyMap<string, string>;
  /** Word prefixes refused anywhere in every mode. */
  deniedPrefixes: readonly [prefix: string, reason: string][];
  /** Several statements split by `;` are refused (T-SQL batches are checked word by word instead). */
  singleStatement: boolean;
}

const TX = 'transaction control: each call already runs in a transaction of its own';
const SESSION = 'it changes session state that would outlive this call on a pooled connection';
const FILES = 'it reads or writes files on the database server';
const STALL = 'it stalls or locks the server';
const REMOTE = 'it reaches other servers or runs code the guard cannot see';
const WRITE = 'this server is read-only';
const SIGNAL = 'it signals or stops other sessions or the server';

const map = (entries: [string[], string][]) => {
  const out = new Map<string, string>();
  for (const [words, reason] of entries) for (const word of words) out.set(word, reason);
  return out;
};

const POSTGRES: Rules = {
  readVerbs: new Set(['select', 'with', 'values', 'table', 'show']),
  explainVerbs: new Set(['select', 'with', 'values', 'table', 'insert', 'update', 'delete', 'merge']),
  deniedVerbs: map([
    [['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare'], TX],
    [
      [
        'set',
        'reset',
        'discard',
        'listen',
        'unlisten',
        'notify',
        'load',
        'execute',
        'deallocate',
        'declare',
        'fetch',
        'move',
        'close',
      ],
      SESSION,
    ],
    [['copy'], 'COPY reads or writes server files or programs, or needs a streaming client'],
    [['lock'], STALL],
    [['checkpoint', 'vacuum', 'cluster', 'reindex'], 'maintenance commands are not run through this tool'],
  ]),
  deniedWords: map([
    [
      [
        'pg_read_file',
        'pg_read_binary_file',
        'pg_stat_file',
        'pg_logdir_ls',
        'lo_import',
        'lo_export',
        'pg_file_write',
        'pg_file_rename',
        'pg_file_unlink',
        'pg_file_sync',
      ],
      FILES,
    ],
    [
      [
        'set_config',
        'pg_advisory_lock',
        'pg_advisory_lock_shared',
        'pg_try_advisory_lock',
        'pg_try_advisory_lock_shared',
        'pg_advisory_unlock',
        'pg_advisory_unlock_shared',
        'pg_advisory_unlock_all',
      ],
      SESSION,
    ],
    [
      [
        'pg_terminate_backend',
        'pg_cancel_backend',
        'pg_reload_conf',
        'pg_rotate_logfile',
        'pg_promote',
        'pg_switch_wal',
        'pg_log_backend_memory_contexts',
      ],
      SIGNAL,
    ],
  ]),
  readOnlyDeniedWords: map([
    [['insert', 'update', 'delete', 'merge', 'truncate', 'into'], WRITE],
    [['do', 'call'], 'procedural code is not run on a read-only server'],
    [
      [
        'nextval',
        'setval',
        'lo_create',
        'lo_creat',
        'lo_unlink',
        'lo_put',
        'lo_from_bytea',
        'lo_truncate',
        'lowrite',
        'lo_open',
        'txid_current',
        'pg_current_xact_id',
        'pg_notify',
        'pg_stat_reset',
        'pg_stat_statements_reset',
        'pg_create_restore_point',
        'pg_backup_start',
        'pg_backup_stop',
        'pg_start_backup',
        'pg_stop_backup',
      ],
      WRITE,
    ],
    [
      [
        'pg_sleep',
        'pg_sleep_for',
        'pg_sleep_until',
        'pg_advisory_xact_lock',
        'pg_advisory_xact_lock_shared',
        'pg_try_advisory_xact_lock',
        'pg_try_advisory_xact_lock_shared',
      ],
      STALL,
    ],
    [
      [
        'query_to_xml',
        'query_to_xmlschema',
        'query_to_xml_and_xmlschema',
        'cursor_to_xml',
        'cursor_to_xmlschema',
        'ts_stat',
        'ts_rewrite',
      ],
      'it runs SQL hidden in a string',
    ],
  ]),
  deniedPrefixes: [
    ['dblink', REMOTE],
    ['pg_ls_', FILES],
    ['pg_create_', 'it changes replication state'],
    ['pg_drop_', 'it changes replication state'],
    ['pg_replication_', 'it changes replication state'],
    ['pg_logical_', 'it changes replication state'],
    ['pg_wal_replay_', SIGNAL],
  ],
  singleStatement: true,
};

const MYSQL: Rules = {
  readVerbs: new Set(['select', 'with', 'values', 'table', 'show', 'describe', 'desc']),
  explainVerbs: new Set(['select', 'with', 'table', 'insert', 'update', 'delete', 'replace']),
  deniedVerbs: map([
    [['begin', 'start', 'commit', 'rollback', 'savepoint', 'release', 'xa'], TX],
    [['set', 'use', 'prepare', 'execute', 'deallocate', 'reset'], SESSION],
    [['lock', 'unlock'], STALL],
    [['handler'], 'HANDLER opens a cursor that outlives this call on a pooled connection'],
    [['load'], FILES],
    [['flush', 'kill', 'shutdown', 'restart', 'purge', 'change', 'stop'], SIGNAL],
    [['install', 'uninstall'], 'plugins are not installed through this tool'],
    [['grant', 'revoke'], 'privileges and users are not managed through this tool'],
    [['binlog', 'cache', 'signal', 'resignal', 'get'], 'not run through this tool'],
  ]),
  deniedWords: map([
    [['outfile', 'dumpfile', 'load_file', 'infile'], FILES],
    [['get_lock', 'release_lock', 'release_all_locks'], SESSION],
    [['temporary'], 'temporary tables would outlive this call on a pooled connection'],
    [['global', 'persist', 'persist_only'], 'server-wide settings are not changed through this tool'],
    [['sys_exec', 'sys_eval'], REMOTE],
  ]),
  readOnlyDeniedWords: map([
    [['insert', 'update', 'delete', 'replace', 'merge', 'truncate', 'into', 'create', 'drop', 'alter'], WRITE],
    [['call', 'do'], 'procedural code is not run on a read-only server'],
    [['nextval', 'setval', 'lastval'], WRITE],
    [
      [
        'sleep',
        'benchmark',
        'master_pos_wait',
        'source_pos_wait',
        'wait_for_executed_gtid_set',
        'wait_until_sql_thread_after_gtids',
        'share',
      ],
      STALL,
    ],
  ]),
  deniedPrefixes: [],
  singleStatement: true,
};

const TSQL: Rules = {
  readVerbs: new Set(['select', 'with']),
  explainVerbs: new Set(['select', 'with', 'insert', 'update', 'delete', 'merge']),
  deniedVerbs: map([]),
  deniedWords: map([
    [['go'], 'GO separates batches in client tools; send one batch per call without GO'],
    [['exec', 'execute'], 'EXEC runs procedures or dynamic SQL the guard cannot see'],
    [['begin', 'commit', 'rollback', 'save'], TX],
    [['return', 'goto'], 'it would jump past the end of the transaction the batch runs in'],
    [['use', 'set', 'setuser'], SESSION],
    [['waitfor'], STALL],
    [['openrowset', 'opendatasource', 'openquery'], REMOTE],
    [['bulk'], FILES],
    [['dbcc', 'shutdown', 'reconfigure', 'kill', 'checkpoint', 'backup', 'restore'], SIGNAL],
    [['grant', 'revoke', 'deny'], 'privileges are not managed through this tool'],
    [['xp_cmdshell', 'sp_executesql', 'sp_configure', 'openxml'], REMOTE],
    [['readtext', 'writetext', 'updatetext'], 'text pointers are not used through this tool'],
    [['send', 'receive'], 'Service Broker is not used through this tool'],
  ]),
  readOnlyDeniedWords: map([
    [['insert', 'update', 'delete', 'merge', 'truncate', 'into', 'create', 'drop', 'alter', 'declare'], WRITE],
    [['next'], 'NEXT VALUE FOR advances a sequence, which no rollback undoes'],
    [['tablockx', 'xlock', 'updlock', 'holdlock', 'tablock', 'paglock', 'rowlock', 'serializable'], STALL],
  ]),
  deniedPrefixes: [
    ['xp_', 'extended stored procedures run code outside the database engine'],
    ['sp_', 'system stored procedures change server or session state'],
  ],
  singleStatement: false,
};

const RULES: Record<Dialect, Rules> = { postgres: POSTGRES, mysql: MYSQL, tsql: TSQL };

function refuse(message: string): never {
  throw new DatabasesError('FORBIDDEN', message);
}

function invalid(message: string): never {
  throw new DatabasesError('INVALID_INPUT', message);
}

/** The name a token refers to when it is code: words, and quoted identifiers (which may name a function). */
function nameOf(token: Token): string | undefined {
  if (token.kind === 'word') return token.value;
  if (token.kind === 'quoted') return token.value.toLowerCase();
  return undefined;
}

/** The last part of a dotted name: `[master]..[xp_cmdshell]`, `sys.sp_configure`, `pg_catalog.pg_sleep`. */
function deniedPrefix(rules: Rules, name: string): string | undefined {
  for (const [prefix, reason] of rules.deniedPrefixes) if (name.startsWith(prefix)) return reason;
  return undefined;
}

/**
 * Checks one statement (PostgreSQL, MySQL) or one batch (SQL Server) before it is sent. Throws
 * DatabasesError: INVALID_INPUT for malformed input, FORBIDDEN for a refused class, with a message
 * that names the word and the reason.
 */
export function checkSql(sql: string, options: GuardOptions): CheckedSql {
  const { dialect, access } = options;
  const purpose = options.purpose ?? 'execute';
  const rules = RULES[dialect];
  const tokens = tokenize(sql, dialect, options.lex);
  if (tokens.length === 0) invalid('sql is empty (only whitespace or comments)');

  let end = tokens.length;
  while (end > 0 && tokens[end - 1]?.kind === 'punct' && tokens[end - 1]?.value === ';') end -= 1;
  const body = tokens.slice(0, end);
  if (body.length === 0) invalid('sql is empty (only ";")');
  if (rules.singleStatement) {
    const separator = body.find((token) => token.kind === 'punct' && token.value === ';');
    if (separator) {
      invalid(
        `Only one statement per call: found another statement after ';' at position ${separator.position + 1}. Send each statement in its own call.`,
      );
    }
  }

  const first = body.find((token) => !(token.kind === 'punct' && token.value === '('));
  const verb = first?.kind === 'word' ? first.value : '';
  const shown = verb.toUpperCase() || 'this statement';

  const verbReason = rules.deniedVerbs.get(verb);
  if (verbReason) refuse(`${shown} is not allowed: ${verbReason}.`);

  if (purpose === 'explain') {
    if (verb === 'explain') invalid('Pass the statement itself, without EXPLAIN: the explain tool adds it.');
    if (!rules.explainVerbs.has(verb)) {
      invalid(
        `explain plans ${[...rules.explainVerbs].map((v) => v.toUpperCase()).join(', ')} statements, not ${shown}.`,
      );
    }
  } else if (access === 'read_only' && !rules.readVerbs.has(verb)) {
    refuse(
      `${shown} is not allowed on a read-only server: statements must start with ${[...rules.readVerbs]
        .map((v) => v.toUpperCase())
        .join(', ')}.`,
    );
  }

  const words = body.map((token) => (token.kind === 'word' ? token.value : ''));
  for (const [index, token] of body.entries()) {
    if (token.kind === 'punct' && token.value === ':=' && dialect === 'mysql') {
      refuse(`Assigning user variables (:=) is not allowed: ${SESSION}.`);
    }
    if (token.kind === 'variable' && dialect === 'mysql' && token.value.startsWith('@@')) {
      const after = body[index + 1];
      if (after?.kind === 'punct' && after.value === '=') refuse(`Setting ${token.value} is not allowed: ${SESSION}.`);
    }
    const name = nameOf(token);
    if (name === undefined) continue;
    const shownName = token.kind === 'word' ? name.toUpperCase() : name;
    const always = rules.deniedWords.get(name);
    const prefix = deniedPrefix(rules, name);
    if (token.kind !== 'word') {
      // A quoted identifier is a name, not a keyword: it matters where it names a function or,
      // in T-SQL, a procedure (`[master]..[xp_cmdshell] 'dir'` runs without EXEC).
      const called = isCalled(body, index);
      if ((always && called) || (prefix && (called || dialect === 'tsql'))) {
        refuse(`${shownName} is not allowed: ${always ?? prefix}.`);
      }
      const reason = rules.readOnlyDeniedWords.get(name);
      if (reason && reason !== WRITE && access === 'read_only' && called) {
        refuse(`${shownName} is not allowed on a read-only server: ${reason}.`);
      }
      continue;
    }
    if (
      dialect === 'tsql' &&
      name === 'set' &&
      (access === 'read_write' || purpose === 'explain') &&
      words.slice(0, index).includes('update')
    ) {
      // UPDATE ... SET on a read-write server; a SET statement is refused below.
      continue;
    }
    if (always ?? prefix) refuse(`${shownName} is not allowed: ${always ?? prefix}.`);
    if (dialect === 'postgres' && (name === 'temp' || name === 'temporary')) {
      const before = words[index - 1] ?? '';
      if (['create', 'global', 'local', 'replace', 'into', 'unlogged'].includes(before)) {
        refuse(
          'Temporary tables, views and sequences are not allowed: they would outlive this call on a pooled connection.',
        );
      }
    }
    if (access === 'read_only') {
      const reason = rules.readOnlyDeniedWords.get(name);
      // EXPLAIN plans a write without running it: only words that act at plan time stay refused.
      if (reason && !(purpose === 'explain' && reason === WRITE)) {
        refuse(`${shownName} is not allowed on a read-only server: ${reason}.`);
      }
    }
  }
  return { verb, tokens: body };
}

/** Whether the token at `index` is followed by `(`: a call, for names that only matter as functions. */
function isCalled(tokens: Token[], index: number): boolean {
  const next = tokens[index + 1];
  return next?.kind === 'punct' && next.value === '(';
}
