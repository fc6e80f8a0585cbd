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
