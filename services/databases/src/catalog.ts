/** What a sync reads from one database of a server, whatever the engine. */

export type TableKind = 'table' | 'view' | 'materialized_view' | 'foreign_table' | 'partitioned_table';

export interface CatalogTable {
  schema: string;
  name: string;
  kind: TableKind;
  /** The engine's own estimate (statistics), null when it has none. */
  rowEstimate: number | null;
  comment: string | null;
}

export interface CatalogColumn {
  schema: string;
  table: string;
  name: string;
  ordinal: number;
  type: string;
  nullable: boolean;
  default: string | null;
}

export type ConstraintKind = 'primary_key' | 'foreign_key' | 'unique';

export interface CatalogConstraint {
  schema: string;
  table: string;
  name: string;
  kind: ConstraintKind;
  columns: string[];
  refSchema: string | null;
  refTable: string | null;
  refColumns: string[];
}

export interface CatalogIndex {
  schema: string;
  table: string;
  name: string;
  unique: boolean;
  primary: boolean;
  columns: string[];
}

export interface CatalogSnapshot {
  schemas: string[];
  tables: CatalogTable[];
  columns: CatalogColumn[];
  constraints: CatalogConstraint[];
  indexes: CatalogIndex[];
}

/** Gives the event loop a turn: long catalog work runs in slices. */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One column of a key, as catalog queries return them: one row per column, in key order. */
export interface KeyColumnRow {
  schema: string;
  table: string;
  name: string;
  kind: ConstraintKind;
  column: string;
  refSchema: string | null;
  refTable: string | null;
  refColumn: string | null;
}

/** One column of an index, one row per column, in index order. */
export interface IndexColumnRow {
  schema: string;
  table: string;
  name: string;
  unique: boolean;
  primary: boolean;
  column: string;
}

const keyOf = (row: { schema: string; table: string; name: string }) =>
  `${row.schema}\u0000${row.table}\u0000${row.name}`;

/** Folds key rows (one per column) into constraints with their column lists. */
export function groupConstraints(rows: Iterable<KeyColumnRow>): CatalogConstraint[] {
  const out = new Map<string, CatalogConstraint>();
  for (const row of rows) {
    let entry = out.get(keyOf(row));
    if (!entry) {
      entry = {
        schema: row.schema,
        table: row.table,
        name: row.name,
        kind: row.kind,
        columns: [],
        refSchema: row.refSchema,
        refTable: row.refTable,
        refColumns: [],
      };
      out.set(keyOf(row), entry);
    }
    entry.columns.push(row.column);
    if (row.refColumn !== null) entry.refColumns.push(row.refColumn);
  }
  return [...out.values()];
}

/** Folds index rows (one per column) into indexes with their column lists. */
export function groupIndexes(rows: Iterable<IndexColumnRow>): CatalogIndex[] {
  const out = new Map<string, CatalogIndex>();
  for (const row of rows) {
    let entry = out.get(keyOf(row));
    if (!entry) {
      entry = {
        schema: row.schema,
        table: row.table,
        name: row.name,
        unique: row.unique,
        primary: row.primary,
        columns: [],
      };
      out.set(keyOf(row), entry);
    }
    entry.columns.push(row.column);
  }
  return [...out.values()];
}
