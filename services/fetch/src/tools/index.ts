import { fetchTool } from './fetch.js';
import { fetchMany } from './fetch-many.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [fetchTool, fetchMany] as const;
