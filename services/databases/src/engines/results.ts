import type { Access } from '../sql/guard.js';

/** A bound parameter: JSON scalars (each engine binds them with its own protocol, never by splicing). */
export type SqlParam = string | number | boolean | null;

export interface ColumnInfo {
  name: string;
  /** The engine's own type name. */
  type: string;
}

export interface QueryResult {
  columns: ColumnInfo[];
  rows: Record<string, unknown>[];
  row_count: number;
  /** More rows existed than were read: `truncated_by` says whether the row or the byte limit stopped it. */
  truncated: boolean;
  truncated_by: 'rows' | 'bytes' | null;
  /** Rows changed by a write on a read-write server (null for reads and when unknown). */
  affected_rows: number | null;
}

export interface ExecuteRequest {
  database: string;
  sql: string;
  params: readonly SqlParam[];
  maxRows: number;
  /** The byte budget of the rows (their JSON), from MCP_MAX_RESULT_BYTES. */
  maxBytes: number;
  access: Access;
  signal?: AbortSignal | undefined;
}

export interface ExplainResult {
  /** The engine's own plan format: JSON for PostgreSQL and MySQL/MariaDB, showplan XML for SQL Server. */
  format: 'json' | 'xml';
  plan: unknown;
}

/** JSON cannot carry bigint, Buffer, Date, NaN: each becomes text the engine would print. */
export function jsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) out[key] = jsonValue(inner);
    return out;
  }
  return value;
}

/** Column keys without collisions: a, a_2, a_3. */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}_${count}`;
  });
}

/**
 * Takes rows one at a time and says when to stop: at `maxRows` rows, or before the rows' JSON
 * passes `maxBytes`. Rows are converted to JSON-safe values as they arrive, so a call never holds
 * more than the budget.
 */
export class RowCollector {
  readonly rows: Record<string, unknown>[] = [];
  truncatedBy: 'rows' | 'bytes' | null = null;
  private bytes = 2;

  constructor(
    private readonly keys: readonly string[],
    private readonly maxRows: number,
    private readonly maxBytes: number,
  ) {}

  /** Adds one row (values in column order); false once the collector wants no more. */
  add(values: readonly unknown[]): boolean {
    if (this.truncatedBy) return false;
    if (this.rows.length >= this.maxRows) {
      this.truncatedBy = 'rows';
      return false;
    }
    const row: Record<string, unknown> = {};
    this.keys.forEach((key, index) => {
      row[key] = jsonValue(values[index]);
    });
    const size = JSON.stringify(row).length + 1;
    if (this.bytes + size > this.maxBytes) {
      this.truncatedBy = 'bytes';
      return false;
    }
    this.bytes += size;
    this.rows.push(row);
    return true;
  }

  get full(): boolean {
    return this.truncatedBy !== null;
  }
}
