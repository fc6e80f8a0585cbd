import { DatabaseError, showName } from './errors.js';

/** Names a caller may give to a new table or column. */
export const NEW_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Double-quotes an identifier for SQL, doubling embedded quotes. Used for every name we put into
 * SQL, even those already checked, so that a name can never end the identifier early.
 */
export function quoteIdentifier(name: string): string {
  if (name.includes('\0')) throw new DatabaseError('INVALID_INPUT', 'Identifiers cannot contain NUL characters');
  return `"${name.replaceAll('"', '""')}"`;
}

/** Checks a name for a new table or column; returns it unchanged. */
export function checkNewIdentifier(name: string, what: 'table' | 'column'): string {
  if (!NEW_IDENTIFIER_PATTERN.test(name)) {
    throw new DatabaseError(
      'INVALID_INPUT',
      `Invalid ${what} name ${showName(name)}: use 1-64 letters, digits and underscores, starting with a letter or underscore`,
    );
  }
  if (name.toLowerCase().startsWith('sqlite_')) {
    throw new DatabaseError(
      'INVALID_INPUT',
      `Invalid ${what} name ${showName(name)}: names starting with sqlite_ are reserved`,
    );
  }
  return name;
}

/** SQLite compares identifiers case-insensitively for ASCII letters only. */
function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * Finds `name` among the live names (exact match first, then SQLite's ASCII case-insensitive match)
 * and returns the name as the schema spells it, or undefined.
 */
export function findName(candidates: readonly string[], name: string): string | undefined {
  if (candidates.includes(name)) return name;
  const wanted = asciiLower(name);
  return candidates.find((candidate) => asciiLower(candidate) === wanted);
}

/** Names SQLite keeps for itself; never exposed as user tables. */
export function isInternalTable(name: string): boolean {
  return asciiLower(name).startsWith('sqlite_');
}

/**
 * Resolves names against one table's live columns: the only way a column name reaches SQL.
 * Built from pragma table_xinfo by the database module.
 */
export class ColumnResolver {
  /**
   * @param pseudo names accepted besides the real columns (`rowid` for filters and sorting on
   *   rowid tables); never listed in messages.
   */
  constructor(
    readonly table: string,
    readonly columns: readonly string[],
    readonly pseudo: readonly string[] = [],
  ) {}

  /** The column as the schema spells it; throws NOT_FOUND with the known columns otherwise. */
  resolve(name: string): string {
    const found = findName(this.columns, name) ?? findName(this.pseudo, name);
    if (found === undefined) {
      const known = this.columns.length > 0 ? this.columns.join(', ') : '(none)';
      throw new DatabaseError(
        'NOT_FOUND',
        `Table ${showName(this.table)} has no column ${showName(name)} (columns: ${known})`,
      );
    }
    return found;
  }

  /** The quoted column, ready for SQL. */
  quoted(name: string): string {
    return quoteIdentifier(this.resolve(name));
  }
}
