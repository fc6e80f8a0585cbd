import { createTable } from './create-table.js';
import { deleteRecord } from './delete-record.js';
import { describeTable } from './describe-table.js';
import { executeRawQuery } from './execute-raw-query.js';
import { insertRecord } from './insert-record.js';
import { listTables } from './list-tables.js';
import { queryRecords } from './query-records.js';
import { updateRecord } from './update-record.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [
  listTables,
  describeTable,
  queryRecords,
  createTable,
  insertRecord,
  updateRecord,
  deleteRecord,
  executeRawQuery,
] as const;
