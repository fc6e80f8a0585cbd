import type * as LibpgQuery from 'libpg-query';

import { DatabaseError } from './errors.js';
import { SAFE_BUILTIN_FUNCTIONS } from './safe-functions.js';

/**
 * The statement guard. It decides on what PostgreSQL's own parser (libpg_query, the server's grammar
 * compiled to WebAssembly) makes of the text: statement kinds and every function name as the parser
 * decodes it (U&"..." escapes, quotes, case folding, schema qualification), wherever the call sits
 * (select list, FROM, WHERE, CTEs, subqueries, casts, defaults, function bodies). Comments, odd
 * whitespace, dollar quoting and string literals cannot hide a name from it.
 *
 * read_only mode is an allow-list: SELECT (also VALUES, TABLE, WITH ... SELECT), EXPLAIN of one and
 * SHOW, calling only built-ins known to have no side effect (safe-functions.ts) or the functions the
 * operator named in POSTGRES_ALLOWED_FUNCTIONS. read_write mode is a deny-list of what reaches past
 * the database: server files, other servers, other sessions, server-wide state, session state.
 * Behind it, the server still runs every call in its own READ ONLY transaction (read_only mode).
 */

export type AccessMode = 'read_only' | 'read_write';

/** What the statement is for: execute_sql runs it; explain_query plans it (and with analyze, runs it). */
export type StatementPurpose = 'execute' | 'explain' | 'explain_analyze';

export interface StatementAnalysis {
  /** The parse node of the statement: SelectStmt, InsertStmt, ExplainStmt, ... */
  kind: string;
  /** The statement's command as PostgreSQL names it (SELECT, INSERT, CREATE TABLE, ...). */
  verb: string;
  /**
   * Unqualified names of allow-listed built-ins the statement calls. PostgreSQL resolves them through
   * search_path, so the database is asked, in the same round trip, whether a same-named function
   * outside pg_catalog could be chosen instead (see shadowCheckSql).
   */
  shadowableFunctions: string[];
  /**
   * True when the parse tree proves the statement cannot leave session state behind (settings,
   * advisory locks, prepared statements, cursors, temporary objects, listeners): the connection then
   * goes back to the pool without a reset.
   */
  sessionClean: boolean;
}

/** Functions the operator vouches for (POSTGRES_ALLOWED_FUNCTIONS): `name` allows `name(...)`, `schema.name` allows `schema.name(...)`. */
export type AllowedFunctions = ReadonlySet<string>;

type Parser = typeof LibpgQuery;
let loading: Promise<void> | undefined;
let parser: Parser | undefined;

/**
 * Loads the parser (WebAssembly, about 20 ms) once; every check waits for it the first time. It is
 * imported then, not with the service: the module alone is about 13 MB resident, and /health never
 * parses a statement.
 */
export function loadSqlParser(): Promise<void> {
  loading ??= import('libpg-query').then(async (module) => {
    await module.loadModule();
    parser = module;
  });
  return loading;
}

/** The loaded parser (analyzeStatement runs only after loadSqlParser resolved). */
function loadedParser(): Parser {
  if (parser === undefined) throw new Error('analyzeStatement before loadSqlParser() resolved');
  return parser;
}

function refuse(message: string): never {
  throw new DatabaseError('FORBIDDEN', message);
}

function invalid(message: string, sqlstate?: string): never {
  throw new DatabaseError('INVALID_INPUT', message, sqlstate === undefined ? {} : { sqlstate });
}

// ── The parse tree ─────────────────────────────────────────────────────────────────────────────────

type Node = Record<string, unknown>;

interface Visited {
  type: string;
  node: Node;
}

const isObject = (value: unknown): value is Node =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Every node of the tree (libpg_query's JSON: `{"FuncCall": {...}}`), without recursion so that a
 * deeply nested statement cannot overflow the stack. Node types start with a capital letter; fields
 * with a lower-case one.
 */
function nodesOf(root: unknown): Visited[] {
  const out: Visited[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
      continue;
    }
    if (!isObject(value)) continue;
    for (const [key, child] of Object.entries(value)) {
      const code = key.charCodeAt(0);
      if (code >= 65 && code <= 90 && isObject(child)) out.push({ type: key, node: child });
      stack.push(child);
    }
  }
  return out;
}

/** The strings of a name list (`[{String: {sval}}]`), as the parser decoded them. */
function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => {
    const string = isObject(item) && isObject(item['String']) ? item['String']['sval'] : undefined;
    return typeof string === 'string' ? string : '';
  });
}

function defElems(list: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (isObject(item) && isObject(item['DefElem'])) {
      const element = item['DefElem'];
      if (typeof element['defname'] === 'string') out.set(element['defname'], element['arg']);
    }
  }
  return out;
}

function stringArg(arg: unknown): string | undefined {
  if (isObject(arg) && isObject(arg['String']) && typeof arg['String']['sval'] === 'string') {
    return arg['String']['sval'];
  }
  return undefined;
}

/** EXPLAIN's ANALYZE option: `ANALYZE`, `(ANALYZE)`, `(ANALYZE true|on|1)`; `(ANALYZE false|off|0)` is off. */
function explainAnalyzes(node: Node): boolean {
  const options = defElems(node['options']);
  if (!options.has('analyze')) return false;
  const arg = options.get('analyze');
  if (arg === undefined) return true;
  const text = stringArg(arg);
  if (text !== undefined) return !['false', 'off', 'no', '0'].includes(text.toLowerCase());
  if (isObject(arg) && isObject(arg['Boolean'])) return arg['Boolean']['boolval'] === true;
  if (isObject(arg) && isObject(arg['Integer'])) return arg['Integer']['ival'] !== undefined;
  if (isObject(arg) && isObject(arg['A_Const'])) {
    const constant = arg['A_Const'];
    if (isObject(constant['boolval'])) return constant['boolval']['boolval'] === true;
    if (isObject(constant['ival'])) return constant['ival']['ival'] !== undefined;
    if (isObject(constant['sval'])) {
      return !['false', 'off', 'no', '0'].includes(String(constant['sval']['sval']).toLowerCase());
    }
  }
  return true;
}

// ── Statement kinds ────────────────────────────────────────────────────────────────────────────────

const VERBS: Record<string, string> = {
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  ExplainStmt: 'EXPLAIN',
  VariableShowStmt: 'SHOW',
  VariableSetStmt: 'SET',
  CreateStmt: 'CREATE TABLE',
  CreateTableAsStmt: 'CREATE TABLE AS',
  ViewStmt: 'CREATE VIEW',
  CreateSeqStmt: 'CREATE SEQUENCE',
  IndexStmt: 'CREATE INDEX',
  DropStmt: 'DROP',
  TruncateStmt: 'TRUNCATE',
  LockStmt: 'LOCK',
  ClusterStmt: 'CLUSTER',
  ReindexStmt: 'REINDEX',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  CheckPointStmt: 'CHECKPOINT',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  ListenStmt: 'LISTEN',
  UnlistenStmt: 'UNLISTEN',
  NotifyStmt: 'NOTIFY',
  LoadStmt: 'LOAD',
  DiscardStmt: 'DISCARD',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  DeallocateStmt: 'DEALLOCATE',
  DeclareCursorStmt: 'DECLARE',
  ClosePortalStmt: 'CLOSE',
  CopyStmt: 'COPY',
  CreateFunctionStmt: 'CREATE FUNCTION',
  CreateTrigStmt: 'CREATE TRIGGER',
  RuleStmt: 'CREATE RULE',
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  CreatePLangStmt: 'CREATE LANGUAGE',
  CreateFdwStmt: 'CREATE FOREIGN DATA WRAPPER',
  CreateForeignServerStmt: 'CREATE SERVER',
  CreateEventTrigStmt: 'CREATE EVENT TRIGGER',
  GrantRoleStmt: 'GRANT',
  GrantStmt: 'GRANT',
  CommentStmt: 'COMMENT',
  SecLabelStmt: 'SECURITY LABEL',
  AlterTableStmt: 'ALTER TABLE',
};

/** The command a node stands for: from the table above, else from its name (AlterSystemStmt: ALTER SYSTEM). */
function verbOf(type: string, node: Node): string {
  if (type === 'VacuumStmt') return node['is_vacuumcmd'] === true ? 'VACUUM' : 'ANALYZE';
  if (type === 'FetchStmt') return node['ismove'] === true ? 'MOVE' : 'FETCH';
  if (type === 'VariableSetStmt' && node['kind'] !== 'VAR_SET_VALUE' && node['kind'] !== 'VAR_SET_CURRENT') {
    return node['kind'] === 'VAR_SET_MULTI' ? 'SET' : 'RESET';
  }
  if (type === 'CreateFunctionStmt' && node['is_procedure'] === true) return 'CREATE PROCEDURE';
  if (type === 'CreateRoleStmt') return 'CREATE ROLE';
  if (type === 'ViewStmt' || type === 'CreateStmt' || type === 'CreateTableAsStmt') {
    const objtype = node['objtype'];
    if (objtype === 'OBJECT_MATVIEW') return 'CREATE MATERIALIZED VIEW';
  }
  const known = VERBS[type];
  if (known) return known;
  return type
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

/** The first word of the statement text (END, ABORT, START ...), for messages about transaction control. */
function firstWord(sql: string): string | undefined {
  const match = /^(?:\s|\(|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z_]+)/.exec(sql);
  return match?.[1]?.toUpperCase();
}

/** Statements whose effect outlives the call's transaction and would leak into the next pooled call. */
const SESSION_STATEMENTS = new Set([
  'VariableSetStmt',
  'DiscardStmt',
  'ListenStmt',
  'UnlistenStmt',
  'LoadStmt',
  'PrepareStmt',
  'ExecuteStmt',
  'DeallocateStmt',
  'DeclareCursorStmt',
  'FetchStmt',
  'ClosePortalStmt',
]);

/** Statements that change the server outside this database: refused in every mode. */
const SERVER_STATEMENTS: Record<string, string> = {
  AlterSystemStmt: 'changes the server configuration',
  CheckPointStmt: 'forces a server-wide checkpoint',
  CreateRoleStmt: 'changes roles, which are shared by every database of the server',
  AlterRoleStmt: 'changes roles, which are shared by every database of the server',
  AlterRoleSetStmt: 'changes roles, which are shared by every database of the server',
  DropRoleStmt: 'changes roles, which are shared by every database of the server',
  GrantRoleStmt: 'changes role membership, which is shared by every database of the server',
  CreatedbStmt: 'creates, changes or drops databases',
  AlterDatabaseStmt: 'creates, changes or drops databases',
  AlterDatabaseSetStmt: 'creates, changes or drops databases',
  AlterDatabaseRefreshCollStmt: 'creates, changes or drops databases',
  DropdbStmt: 'creates, changes or drops databases',
  CreateTableSpaceStmt: 'creates, changes or drops tablespaces (server directories)',
  DropTableSpaceStmt: 'creates, changes or drops tablespaces (server directories)',
  AlterTableSpaceOptionsStmt: 'creates, changes or drops tablespaces (server directories)',
  AlterTableMoveAllStmt: 'moves relations between tablespaces (server directories)',
  CreateSubscriptionStmt: 'connects to other servers (logical replication)',
  AlterSubscriptionStmt: 'connects to other servers (logical replication)',
  DropSubscriptionStmt: 'connects to other servers (logical replication)',
  CreateFdwStmt: 'reaches files or other servers through a foreign data wrapper',
  AlterFdwStmt: 'reaches files or other servers through a foreign data wrapper',
  CreateForeignServerStmt: 'reaches files or other servers through a foreign data wrapper',
  AlterForeignServerStmt: 'reaches files or other servers through a foreign data wrapper',
  CreateUserMappingStmt: 'reaches files or other servers through a foreign data wrapper',
  AlterUserMappingStmt: 'reaches files or other servers through a foreign data wrapper',
  DropUserMappingStmt: 'reaches files or other servers through a foreign data wrapper',
  ImportForeignSchemaStmt: 'reaches files or other servers through a foreign data wrapper',
  CreateForeignTableStmt: 'reaches files or other servers through a foreign data wrapper',
  CreateExtensionStmt: 'installs code into the server (extensions can read files or reach other servers)',
  AlterExtensionStmt: 'installs code into the server (extensions can read files or reach other servers)',
  AlterExtensionContentsStmt: 'installs code into the server (extensions can read files or reach other servers)',
  CreatePLangStmt: 'installs a procedural language into the server',
  CreateEventTrigStmt: "runs code on every other session's DDL",
  AlterEventTrigStmt: "runs code on every other session's DDL",
};

/** What read_only mode runs: reads, their plans and settings. Everything else is refused. */
const READ_ONLY_STATEMENTS = new Set(['SelectStmt', 'ExplainStmt', 'VariableShowStmt']);

/** What explain_query plans. */
const EXPLAINABLE = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** Procedural languages whose bodies the guard reads; others run code it cannot see. */
const CHECKED_LANGUAGES = new Set(['sql', 'plpgsql']);

// ── Functions ──────────────────────────────────────────────────────────────────────────────────────

type DenyReason = 'files' | 'servers' | 'session' | 'backends' | 'server' | 'hidden_sql';

const DENY_REASONS: Record<DenyReason, string> = {
  files: 'it reads or writes files on the database server',
  servers: 'it reaches other database servers',
  session: 'it changes session state shared by pooled connections',
  backends: 'it signals other sessions (server processes), including this service’s own',
  server: 'it changes the server outside this database (configuration, WAL, replication, statistics)',
  hidden_sql: 'it runs SQL given as a string, which cannot be checked',
};

/** Refused in every mode, whatever schema they are called through. */
const DENIED_FUNCTIONS = new Map<string, DenyReason>([
  ...[
    'pg_read_file',
    'pg_read_file_old',
    'pg_read_binary_file',
    'pg_stat_file',
    'pg_logdir_ls',
    'pg_current_logfile',
    'pg_hba_file_rules',
    'pg_ident_file_mappings',
    'pg_show_all_file_settings',
    'lo_import',
    'lo_export',
  ].map((name) => [name, 'files'] as const),
  ...[
    'set_config',
    'setseed',
    'pg_advisory_lock',
    'pg_advisory_lock_shared',
    'pg_try_advisory_lock',
    'pg_try_advisory_lock_shared',
    'pg_advisory_unlock',
    'pg_advisory_unlock_shared',
    'pg_advisory_unlock_all',
    'pg_replication_origin_session_setup',
    'pg_replication_origin_session_reset',
    'pg_replication_origin_xact_setup',
    'pg_replication_origin_xact_reset',
  ].map((name) => [name, 'session'] as const),
  ...['pg_terminate_backend', 'pg_cancel_backend', 'pg_log_backend_memory_contexts'].map(
    (name) => [name, 'backends'] as const,
  ),
  ...[
    'pg_reload_conf',
    'pg_rotate_logfile',
    'pg_rotate_logfile_old',
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
    'pg_logical_slot_peek_changes',
    'pg_logical_slot_peek_binary_changes',
    'pg_logical_emit_message',
    'pg_replication_origin_create',
    'pg_replication_origin_drop',
    'pg_replication_origin_advance',
    'pg_stat_statements_reset',
    'pg_stop_making_pinned_objects',
    'pg_nextoid',
  ].map((name) => [name, 'server'] as const),
  ...[
    'query_to_xml',
    'query_to_xmlschema',
    'query_to_xml_and_xmlschema',
    'cursor_to_xml',
    'cursor_to_xmlschema',
    'ts_stat',
    'ts_rewrite',
  ].map((name) => [name, 'hidden_sql'] as const),
]);

const DENIED_PREFIXES: [string, DenyReason][] = [
  ['pg_ls_', 'files'],
  ['pg_file_', 'files'], // adminpack
  ['dblink', 'servers'],
  ['pg_stat_reset', 'server'],
  ['binary_upgrade_', 'server'],
];

function deniedReason(name: string): DenyReason | undefined {
  const exact = DENIED_FUNCTIONS.get(name);
  if (exact) return exact;
  return DENIED_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
}

/** Why a name is not on the allow-list, for the well-known ones; the generic reason otherwise. */
function readOnlyReason(name: string): string {
  if (name.startsWith('pg_sleep')) return 'it stalls the call (and holds its connection) on purpose';
  if (name.startsWith('lo_') || name === 'lowrite' || name === 'loread') return 'it reads or writes large objects';
  if (['nextval', 'setval', 'currval', 'lastval'].includes(name)) return 'it writes or reads sequence state';
  if (name.includes('advisory')) return 'it takes advisory locks';
  if (name === 'pg_notify') return 'it signals other sessions';
  if (name === 'txid_current' || name === 'pg_current_xact_id') return 'it assigns a transaction ID';
  return 'only built-ins known to have no side effect run in read-only mode (and those named in POSTGRES_ALLOWED_FUNCTIONS)';
}

function display(parts: string[]): string {
  return parts.length === 2 && parts[0] === 'pg_catalog' ? (parts[1] ?? '') : parts.join('.');
}

// ── The check ──────────────────────────────────────────────────────────────────────────────────────

interface CheckContext {
  mode: AccessMode;
  allowed: AllowedFunctions;
  shadowable: Set<string>;
  /** Cleared when something is seen that could change session state (read_write mode). */
  sessionClean: boolean;
}

function parseOne(sql: string): Node {
  let result: { stmts?: { stmt?: unknown; stmt_location?: number; stmt_len?: number }[] };
  try {
    result = loadedParser().parseSync(sql);
  } catch (error) {
    if (sql.trim() === '') invalid('sql is empty (only whitespace, comments or ";")');
    if (loadedParser().hasSqlDetails(error) && error.sqlDetails) {
      const position = error.sqlDetails.cursorPosition;
      invalid(
        `${error.sqlDetails.message} (SQLSTATE 42601)${position >= 0 ? `. At character ${position + 1} of the statement.` : ''}`,
        '42601',
      );
    }
    if (error instanceof RangeError) invalid('The statement is nested too deeply to be checked.');
    invalid(`The statement could not be parsed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const statements = result.stmts ?? [];
  if (statements.length === 0) invalid('sql is empty (only whitespace, comments or ";")');
  if (statements.length > 1) {
    const first = statements[0];
    const semicolon = (first?.stmt_location ?? 0) + (first?.stmt_len ?? 0) + 1;
    invalid(
      `Only one statement per call: found another statement after ';' at position ${semicolon}. Send each statement in its own call.`,
    );
  }
  const stmt = statements[0]?.stmt;
  if (!isObject(stmt)) invalid('sql is empty (only whitespace, comments or ";")');
  return stmt;
}

function checkFunction(parts: string[], context: CheckContext): void {
  const name = parts[parts.length - 1] ?? '';
  const denied = deniedReason(name);
  if (denied) refuse(`${display(parts)}() is not allowed: ${DENY_REASONS[denied]}.`);
  if (context.mode === 'read_write') {
    // Anything beyond the pure built-ins (user functions, sequences, ...) may set session state.
    const builtin = parts.length === 1 || (parts.length === 2 && parts[0] === 'pg_catalog');
    if (!builtin || !SAFE_BUILTIN_FUNCTIONS.has(name)) context.sessionClean = false;
    return;
  }
  // A function the operator allowed is theirs to vouch for, not its session state: it may change
  // settings (statement_timeout, search_path, the transaction mode's default), so the connection is
  // reset (DISCARD ALL) after the call.
  if (parts.length === 1) {
    if (context.allowed.has(name)) {
      context.sessionClean = false;
      return;
    }
    if (SAFE_BUILTIN_FUNCTIONS.has(name)) {
      context.shadowable.add(name);
      return;
    }
  } else if (parts.length === 2) {
    if (parts[0] === 'pg_catalog' && SAFE_BUILTIN_FUNCTIONS.has(name)) return;
    if (context.allowed.has(parts.join('.'))) {
      context.sessionClean = false;
      return;
    }
  }
  refuse(
    `${display(parts)}() is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): ${readOnlyReason(name)}.`,
  );
}

function checkOperator(parts: string[], context: CheckContext): void {
  // OPERATOR(schema.op) names a function the allow-list cannot see; unqualified operators resolve
  // among the database's own operators, like its types, casts and views (see the README).
  if (context.mode === 'read_only' && parts.length > 1 && parts[0] !== 'pg_catalog') {
    refuse(
      `OPERATOR(${parts.join('.')}) is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): only pg_catalog operators may be named explicitly.`,
    );
  }
}

function checkCopy(node: Node): never {
  if (node['is_program'] === true) {
    refuse('COPY ... PROGRAM runs a shell command on the database server and is never allowed.');
  }
  if (typeof node['filename'] === 'string') refuse('COPY to or from a file on the database server is never allowed.');
  refuse(
    'COPY is not supported by this tool (it needs a streaming client). Use SELECT to read rows, or INSERT ... VALUES with parameters to write them.',
  );
}

function temporary(node: Node): boolean {
  const relation = isObject(node['relation']) ? node['relation'] : undefined;
  const view = isObject(node['view']) ? node['view'] : isObject(node['sequence']) ? node['sequence'] : undefined;
  const into = isObject(node['into']) ? node['into'] : isObject(node['intoClause']) ? node['intoClause'] : undefined;
  const intoRel = into && isObject(into['IntoClause']) ? into['IntoClause']['rel'] : into?.['rel'];
  for (const candidate of [relation, view, intoRel]) {
    const rangeVar = isObject(candidate) && isObject(candidate['RangeVar']) ? candidate['RangeVar'] : candidate;
    if (!isObject(rangeVar)) continue;
    if (rangeVar['relpersistence'] === 't') return true;
    if (typeof rangeVar['schemaname'] === 'string' && rangeVar['schemaname'].startsWith('pg_temp')) return true;
  }
  return false;
}

/** Checks a PL/pgSQL body: every embedded SQL statement and expression, and no dynamic SQL. */
function checkPlpgsql(createFunctionSql: string, context: CheckContext, depth: number): void {
  let tree: unknown;
  try {
    tree = loadedParser().parsePlPgSQLSync(createFunctionSql);
  } catch (error) {
    refuse(
      `The PL/pgSQL body could not be checked (${error instanceof Error ? error.message : String(error)}), so it is not run.`,
    );
  }
  for (const { type, node } of nodesOf(tree)) {
    if (
      type === 'PLpgSQL_stmt_dynexecute' ||
      type === 'PLpgSQL_stmt_dynfors' ||
      (type === 'PLpgSQL_stmt_open' && node['dynquery'] !== undefined) ||
      (type === 'PLpgSQL_stmt_return_query' && node['dynquery'] !== undefined)
    ) {
      refuse('Dynamic SQL (EXECUTE) in a PL/pgSQL body is not allowed: what it runs cannot be checked.');
    }
    if (type === 'PLpgSQL_expr' && typeof node['query'] === 'string') {
      const query = node['query'];
      const mode = node['parseMode'];
      // parseMode 0 is a whole statement; the others are expressions or assignments (`x := expr`).
      const text =
        mode === 0 || mode === undefined
          ? query
          : `SELECT ${query.replace(/^\s*[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*:?=/, '')}`;
      checkNested(text, context, depth + 1);
    }
  }
}

function checkRoutine(
  sql: string,
  options: Map<string, unknown>,
  context: CheckContext,
  depth: number,
  isDo: boolean,
): void {
  const language = (stringArg(options.get('language')) ?? (isDo ? 'plpgsql' : 'sql')).toLowerCase();
  if (!CHECKED_LANGUAGES.has(language)) {
    refuse(
      `Code in language ${language} is not allowed: it runs on the server in a way the guard cannot check (only sql and plpgsql bodies are checked and allowed).`,
    );
  }
  const as = options.get('as');
  const body = stringArg(as) ?? (isObject(as) && isObject(as['List']) ? names(as['List']['items'])[0] : undefined);
  if (language === 'sql') {
    // BEGIN ATOMIC / RETURN bodies are already in the tree; a string body is parsed here.
    if (body !== undefined) {
      let statements: { stmt?: unknown }[];
      try {
        statements = (loadedParser().parseSync(body) as { stmts?: { stmt?: unknown }[] }).stmts ?? [];
      } catch (error) {
        refuse(
          `The SQL function body could not be checked (${error instanceof Error ? error.message : String(error)}).`,
        );
      }
      for (const statement of statements) checkTree(statement.stmt, sql, context, depth + 1);
    }
    return;
  }
  if (isDo) {
    const source = body ?? '';
    let tag = '$mcp$';
    for (let i = 0; source.includes(tag); i += 1) tag = `$mcp${i}$`;
    checkPlpgsql(`CREATE FUNCTION mcp_do() RETURNS void LANGUAGE plpgsql AS ${tag}${source}${tag}`, context, depth);
  } else {
    checkPlpgsql(sql, context, depth);
  }
}

/** Statements inside function bodies: the same rules, at any depth. */
function checkNested(sql: string, context: CheckContext, depth: number): void {
  if (depth > 8) refuse('Function bodies are nested too deeply to be checked.');
  let statements: { stmt?: unknown }[];
  try {
    statements = (loadedParser().parseSync(sql) as { stmts?: { stmt?: unknown }[] }).stmts ?? [];
  } catch (error) {
    refuse(
      `A statement in the function body could not be checked (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  for (const statement of statements) checkTree(statement.stmt, sql, context, depth);
}

/**
 * Syntax that this parser (PostgreSQL 18's grammar) reads as special forms, but that an older server
 * reads as plain calls of a function by that name, resolved through search_path (JSON_VALUE(...),
 * JSON(...), MERGE_ACTION() before PostgreSQL 16/17). Their names go through the shadow check too.
 */
const SPECIAL_FORM_NAMES: Record<string, string | ((node: Node) => string)> = {
  JsonScalarExpr: 'json_scalar',
  JsonSerializeExpr: 'json_serialize',
  JsonParseExpr: 'json',
  JsonObjectConstructor: 'json_object',
  JsonArrayConstructor: 'json_array',
  JsonArrayQueryConstructor: 'json_array',
  JsonObjectAgg: 'json_objectagg',
  JsonArrayAgg: 'json_arrayagg',
  JsonTable: 'json_table',
  MergeSupportFunc: 'merge_action',
  JsonFuncExpr: (node) =>
    ({ JSON_VALUE_OP: 'json_value', JSON_QUERY_OP: 'json_query', JSON_EXISTS_OP: 'json_exists' })[String(node['op'])] ??
    'json_table',
};

/** VariableSetStmt nodes that are a routine's own SET clause (CREATE/ALTER FUNCTION ... SET x = y): local to it. */
function routineSetClauses(all: Visited[]): Set<Node> {
  const exempt = new Set<Node>();
  for (const { type, node } of all) {
    if (type !== 'CreateFunctionStmt' && type !== 'AlterFunctionStmt') continue;
    for (const inner of nodesOf(type === 'CreateFunctionStmt' ? node['options'] : node['actions'])) {
      if (inner.type === 'VariableSetStmt') exempt.add(inner.node);
    }
  }
  return exempt;
}

/** An identifier that names a denied function, wherever it appears (CREATE OPERATOR/CAST/AGGREGATE ... = f). */
function deniedIdentifier(name: string): DenyReason | undefined {
  return DENIED_FUNCTIONS.get(name) ?? (/^pg_(ls|file)_/.test(name) ? 'files' : undefined);
}

/** The rules every mode shares, for one statement; `bodyDepth` > 0 inside function bodies. */
function checkTree(root: unknown, sql: string, context: CheckContext, bodyDepth: number): void {
  const all = nodesOf(root);
  const exempt = routineSetClauses(all);
  for (const { type, node } of all) {
    if (type === 'String' && typeof node['sval'] === 'string') {
      const denied = deniedIdentifier(node['sval']);
      if (denied) refuse(`${node['sval']}() is not allowed: ${DENY_REASONS[denied]}.`);
      continue;
    }
    if (type === 'RangeVar' && typeof node['relname'] === 'string') {
      // Views that read server files (pg_hba_file_rules, pg_file_settings, ...).
      const denied = deniedIdentifier(node['relname']);
      if (denied) refuse(`${node['relname']} is not allowed: ${DENY_REASONS[denied]}.`);
    }
    if (type === 'TransactionStmt') {
      if (bodyDepth > 0) continue; // COMMIT inside a procedure is the procedure's business
      const word = firstWord(sql) ?? 'BEGIN';
      refuse(
        `Transaction control (${word}) is not allowed: each call already runs in its own transaction, committed when it succeeds${context.mode === 'read_only' ? ' (read-only)' : ''} and rolled back when it fails.`,
      );
    }
    if (type === 'CopyStmt') checkCopy(node);
    if (SESSION_STATEMENTS.has(type) && !exempt.has(node)) {
      refuse(
        `${verbOf(type, node)} is not allowed: it changes session state that would outlive this call on a pooled connection. Use a plain statement instead.`,
      );
    }
    const server = SERVER_STATEMENTS[type];
    if (server) refuse(`${verbOf(type, node)} is never allowed: it ${server}.`);
    if (
      (type === 'CreateStmt' ||
        type === 'ViewStmt' ||
        type === 'CreateSeqStmt' ||
        type === 'CreateTableAsStmt' ||
        type === 'SelectStmt') &&
      temporary(node)
    ) {
      refuse(
        'Temporary tables, views and sequences are not allowed: they would outlive this call on a pooled connection and surface in unrelated later calls.',
      );
    }
    if (type === 'FuncCall') {
      const parts = names(node['funcname']);
      checkFunction(parts, context);
      // SUBSTRING(x FROM y), SYSTEM_USER, ...: written as syntax, called by name (see SPECIAL_FORM_NAMES).
      if (context.mode === 'read_only' && node['funcformat'] === 'COERCE_SQL_SYNTAX') {
        context.shadowable.add(parts[parts.length - 1] ?? '');
      }
    }
    const special = SPECIAL_FORM_NAMES[type];
    if (special && context.mode === 'read_only') {
      context.shadowable.add(typeof special === 'string' ? special : special(node));
    }
    if (type === 'RangeTableSample') checkFunction(names(node['method']), context);
    if (type === 'A_Expr' && Array.isArray(node['name'])) {
      const kind = node['kind'];
      if (kind !== 'AEXPR_BETWEEN' && kind !== 'AEXPR_NOT_BETWEEN' && kind !== 'AEXPR_BETWEEN_SYM') {
        checkOperator(names(node['name']), context);
      }
    }
    if (type === 'SortBy') checkOperator(names(node['useOp']), context);
    if (type === 'SubLink') checkOperator(names(node['operName']), context);
    if (type === 'CallStmt' && isObject(node['funccall'])) {
      checkFunction(names(node['funccall']['funcname']), context);
      context.sessionClean = false;
    }
    if (type === 'CreateFunctionStmt') {
      checkRoutine(sql, defElems(node['options']), context, bodyDepth, false);
      context.sessionClean = false;
    }
    if (type === 'DoStmt') {
      checkRoutine(sql, defElems(node['args']), context, bodyDepth, true);
      context.sessionClean = false;
    }
    if (type === 'CreateTrigStmt' || type === 'RuleStmt') context.sessionClean = false;
  }
}

/**
 * read_only mode's allow-list of statement kinds. `runs`: the statement is executed (execute_sql, or
 * EXPLAIN ANALYZE); a plain EXPLAIN only plans, so it may plan a write the READ ONLY transaction
 * would refuse to run.
 */
function checkReadOnlyKinds(stmt: Node, purpose: StatementPurpose): void {
  const [type, node] = Object.entries(stmt)[0] as [string, Node];
  let runs = purpose !== 'explain';
  let target: Node = stmt;
  if (type === 'ExplainStmt' && purpose === 'execute' && isObject(node['query'])) {
    runs = explainAnalyzes(node);
    target = node['query'];
  }
  const [targetType, targetNode] = Object.entries(target)[0] as [string, Node];
  const only = 'only SELECT (and VALUES, TABLE, WITH ... SELECT), EXPLAIN and SHOW run here.';
  const refuseKind = (what: string, why: string): never =>
    refuse(
      `${runs && target !== stmt ? `EXPLAIN ANALYZE runs the statement, and ${what}` : what} is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): ${why}`,
    );
  const topAllowed = runs
    ? targetType === 'SelectStmt' || (targetType === 'VariableShowStmt' && target === stmt)
    : EXPLAINABLE.has(targetType);
  if (!topAllowed) refuseKind(verbOf(targetType, targetNode), only);
  for (const { type: inner, node: innerNode } of nodesOf(target)) {
    if (inner === 'SelectStmt' && runs) {
      if (Array.isArray(innerNode['lockingClause']) && innerNode['lockingClause'].length > 0) {
        refuseKind('SELECT ... FOR UPDATE/SHARE', 'it takes row locks beyond reading.');
      }
      if (innerNode['intoClause'] !== undefined) refuseKind('SELECT ... INTO', 'it creates a table.');
    }
    if (!inner.endsWith('Stmt') || innerNode === targetNode || inner === 'SelectStmt') continue;
    // A data-modifying CTE: planned by EXPLAIN, never run here.
    if (!runs && EXPLAINABLE.has(inner)) continue;
    refuseKind(verbOf(inner, innerNode), only);
  }
}

/**
 * Checks one statement before it is sent. Throws DatabaseError (INVALID_INPUT for malformed input,
 * FORBIDDEN for a refused statement, with a message naming what and why); otherwise says what the
 * statement is and what the database must still confirm (shadowed built-ins).
 */
export function analyzeStatement(
  sql: string,
  mode: AccessMode,
  purpose: StatementPurpose = 'execute',
  allowed: AllowedFunctions = new Set(),
): StatementAnalysis {
  loadedParser(); // throws until loadSqlParser() has resolved
  const stmt = parseOne(sql);
  const [kind, node] = Object.entries(stmt)[0] as [string, Node];
  if (purpose !== 'execute') {
    if (kind === 'ExplainStmt') invalid('Pass the statement itself, without EXPLAIN: explain_query adds it.');
    if (!EXPLAINABLE.has(kind)) {
      invalid(
        `explain_query plans SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE and MERGE statements, not ${verbOf(kind, node)}.`,
      );
    }
  }
  const context: CheckContext = { mode, allowed, shadowable: new Set(), sessionClean: true };
  checkTree(stmt, sql, context, 0);
  if (mode === 'read_only') {
    if (kind === 'DoStmt' || kind === 'CallStmt') {
      refuse(
        `${verbOf(kind, node)} runs procedural code and is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only).`,
      );
    }
    checkReadOnlyKinds(stmt, purpose);
  } else {
    // Writes fire triggers and DDL runs code (defaults, checks, index expressions) whose functions
    // may set session state: only plain reads are proven clean.
    for (const { type, node: inner } of nodesOf(stmt)) {
      if (type.endsWith('Stmt') && !READ_ONLY_STATEMENTS.has(type)) context.sessionClean = false;
      if (type === 'SelectStmt' && inner['intoClause'] !== undefined) context.sessionClean = false;
    }
  }
  return {
    kind,
    verb: verbOf(kind, node),
    shadowableFunctions: [...context.shadowable].sort(),
    sessionClean: context.sessionClean,
  };
}

/**
 * The statement the database runs, in the call's transaction and before the caller's, when the
 * caller names allow-listed built-ins without a schema: it fails (SQLSTATE 22P02, naming the
 * functions) when a function of the same name in another schema on search_path could be chosen
 * instead, unless the operator allowed that function. $1: the names; $2: POSTGRES_ALLOWED_FUNCTIONS.
 */
export const SHADOW_CHECK_SQL =
  "SELECT pg_catalog.int4('mcp-shadowed: ' || s.found) FROM (SELECT pg_catalog.string_agg(DISTINCT n.nspname || '.' || p.proname, ', ') AS found " +
  'FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace ' +
  "WHERE p.proname = ANY ($1::text[]) AND n.nspname <> 'pg_catalog' " +
  'AND n.nspname = ANY (pg_catalog.current_schemas(true)) ' +
  "AND NOT (n.nspname || '.' || p.proname = ANY ($2::text[]))) s WHERE s.found IS NOT NULL";

/** The refusal for a failed shadow check, from the server's message (`... "mcp-shadowed: public.lower"`). */
export function shadowRefusal(serverMessage: string): DatabaseError | undefined {
  const match = /mcp-shadowed: ([^"]*)/.exec(serverMessage);
  if (!match) return undefined;
  const found = match[1] ?? '';
  return new DatabaseError(
    'FORBIDDEN',
    `Refused in read-only mode: ${found} shadows a built-in of the same name on search_path, so PostgreSQL could call it instead. ` +
      'Qualify the built-in (pg_catalog.<name>(...)) or ask the operator to list the function in POSTGRES_ALLOWED_FUNCTIONS.',
  );
}
