import { executeSql } from './execute-sql.js';
import { explainQuery } from './explain-query.js';
import { getDbHealth } from './get-db-health.js';
import { listDatabases } from './list-databases.js';
import { listSchemas } from './list-schemas.js';
import { listTables } from './list-tables.js';
import { queryStats } from './query-stats.js';
import { tableInfo } from './table-info.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [
  listDatabases,
  listSchemas,
  listTables,
  tableInfo,
  executeSql,
  explainQuery,
  queryStats,
  getDbHealth,
] as const;
