import { describeTable } from './describe-table.js';
import { executeSql } from './execute-sql.js';
import { explain } from './explain.js';
import { findObjects } from './find-objects.js';
import { getTableSample } from './get-table-sample.js';
import { listDatabases } from './list-databases.js';
import { listSchemas } from './list-schemas.js';
import { listServers } from './list-servers.js';
import { listTables } from './list-tables.js';
import { syncMetadata } from './sync-metadata.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [
  listServers,
  listDatabases,
  listSchemas,
  listTables,
  describeTable,
  findObjects,
  getTableSample,
  executeSql,
  explain,
  syncMetadata,
] as const;
