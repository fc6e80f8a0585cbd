import { DatabaseError } from './errors.js';

/** What better-sqlite3 binds. */
export type SqlValue = string | number | bigint | Buffer | null;

/** A JSON value as rows come back to the caller. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Converts a caller's JSON value into a bound parameter. Booleans become 1/0 (SQLite has no
 * boolean type); objects and arrays are stored as JSON text; anything else is refused.
 * `where` names the value in the error message (`column "age"`, `params[2]`).
 */
export function toSqlValue(value: unknown, where: string): SqlValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value))
        throw new DatabaseError('INVALID_INPUT', `${where}: ${String(value)} cannot be stored`);
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'bigint':
      return value;
    case 'object':
      return JSON.stringify(value);
    default:
      throw new DatabaseError(
        'INVALID_INPUT',
        `${where}: unsupported value of type ${typeof value} (use a string, number, boolean, null, object or array)`,
      );
  }
}

/**
 * Converts a value read with safeIntegers into JSON: integers stay numbers while they are exact
 * and become decimal strings beyond 2^53; blobs become `{ blob_base64 }`.
 */
export function fromSqlValue(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return { blob_base64: value.toString('base64') };
  // SQLite yields only the types above; anything else is a driver change we must notice.
  throw new DatabaseError('INTERNAL', `Unexpected value type from SQLite: ${typeof value}`);
}

/** An integer as JSON: a number while exact, a decimal string beyond 2^53, null when absent. */
export function fromSqlInteger(value: unknown): number | string | null {
  if (typeof value === 'bigint' || typeof value === 'number') return fromSqlValue(value) as number | string;
  return null;
}

export type Row = Record<string, JsonValue>;

/**
 * Builds a row object from column names and raw values; repeated names get a suffix (`a`, `a_2`).
 * Object.fromEntries defines own properties, so a column named `__proto__` stays a plain key.
 */
export function toRow(columns: readonly string[], values: readonly unknown[]): Row {
  const used = new Set<string>();
  const entries = columns.map((column, index): [string, JsonValue] => {
    let key = column;
    for (let n = 2; used.has(key); n++) key = `${column}_${n}`;
    used.add(key);
    return [key, fromSqlValue(values[index])];
  });
  return Object.fromEntries<JsonValue>(entries);
}
