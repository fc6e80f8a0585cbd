/**
 * Decides on what SQLite compiled, not on the text: a raw statement is prepared, then its program is
 * listed with EXPLAIN (trigger sub-programs included) and refused when it holds an instruction that
 * reaches beyond one call on this server's database. Statement kinds and their spellings do not
 * matter here: `ATTACH (SELECT 'x') AS y`, `/* *\/ ;attach …`, `VaCuUm main INTO …` all compile to
 * the same instructions.
 *
 * Plain domain code: no MCP, server or IPC imports.
 */
import type Database from 'better-sqlite3';

import { DatabaseError } from './errors.js';

/** One row of EXPLAIN's listing. */
export interface ProgramStep {
  opcode: string;
  p1: number;
  p2: number;
  p3: number;
  p4: string | null;
}

/** Why each refused instruction is refused, in the words the caller reads. */
export const REFUSALS = {
  attach: "ATTACH is not allowed: a query may only use this server's database",
  detach: "DETACH is not allowed: a query may only use this server's database",
  transaction:
    'BEGIN, COMMIT, END and ROLLBACK are not allowed: each call runs as its own transaction, which the server manages',
  savepoint:
    'SAVEPOINT, RELEASE and ROLLBACK TO are not allowed: each call runs as its own transaction, which the server manages',
  vacuumInto: 'VACUUM INTO is not allowed: it writes a copy of the database to a file',
  vacuum: 'VACUUM is not allowed: it rewrites the whole database file (a maintenance task for the operator)',
  temp: "TEMP tables, views and triggers are not allowed: they would outlive the call on the server's connection",
  otherDatabase: "Only this server's main database may be used",
  settings:
    'This statement changes connection or file settings (journal mode, checkpoints, page limits), which is not allowed',
  loadExtension: 'load_extension() is not authorized on this server',
} as const;

/** Instructions only PRAGMA assignments compile to; pragmas are also gated before compiling (statement-head.ts). */
const SETTING_OPCODES = new Set(['JournalMode', 'Checkpoint', 'MaxPgcnt', 'IncrVacuum']);

/** The function an OP_Function/OP_PureFunc calls, from its P4 (`name(nArg)`). */
function functionName(step: ProgramStep): string | undefined {
  if (step.opcode !== 'Function' && step.opcode !== 'PureFunc') return undefined;
  return step.p4?.slice(0, step.p4.indexOf('(')).toLowerCase();
}

type Refusal = keyof typeof REFUSALS;

/** When a program holds several refused instructions, the refusal that names what the caller wrote. */
const PRIORITY: readonly Refusal[] = [
  'attach',
  'detach',
  'transaction',
  'savepoint',
  'vacuumInto',
  'vacuum',
  'loadExtension',
  'settings',
  'otherDatabase',
  'temp',
];

/** What one instruction is refused for, if anything. */
function refusalOf(step: ProgramStep): Refusal | undefined {
  const fn = functionName(step);
  if (fn === 'sqlite_attach') return 'attach';
  if (fn === 'sqlite_detach') return 'detach';
  if (fn === 'load_extension') return 'loadExtension';
  switch (step.opcode) {
    case 'AutoCommit':
      return 'transaction';
    case 'Savepoint':
      return 'savepoint';
    case 'Vacuum':
      // P2 is the register holding the INTO file name; 0 for a plain VACUUM.
      return step.p2 === 0 ? 'vacuum' : 'vacuumInto';
    case 'Transaction':
      // P1 is the schema (0 main, 1 temp, 2+ attached), P2 non-zero starts a write transaction.
      if (step.p1 >= 2) return 'otherDatabase';
      return step.p1 === 1 && step.p2 !== 0 ? 'temp' : undefined;
    case 'OpenWrite':
      // P3 is the schema the cursor writes to.
      if (step.p3 === 0) return undefined;
      return step.p3 === 1 ? 'temp' : 'otherDatabase';
    default:
      return SETTING_OPCODES.has(step.opcode) ? 'settings' : undefined;
  }
}

/** Throws FORBIDDEN when any instruction of a program (trigger sub-programs included) is refused. */
export function checkProgram(steps: Iterable<ProgramStep>): void {
  const found = new Set<Refusal>();
  for (const step of steps) {
    const refusal = refusalOf(step);
    if (refusal) found.add(refusal);
  }
  const first = PRIORITY.find((refusal) => found.has(refusal));
  if (first) throw new DatabaseError('FORBIDDEN', REFUSALS[first]);
}

/**
 * Lists the program of `core` (a statement text starting at its first token, not itself an EXPLAIN)
 * and checks it. Binding the caller's parameters lets EXPLAIN compile exactly the statement that
 * runs; EXPLAIN never runs the program.
 */
export function inspectStatement(connection: Database.Database, core: string, bound: readonly unknown[]): void {
  const listing = connection.prepare<unknown[], ProgramStep>(`EXPLAIN ${core}`);
  checkProgram(listing.iterate(...bound));
}
