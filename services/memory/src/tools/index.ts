import { deleteMemory, recallByTimeframe, retrieveMemory, searchByTag, storeMemory } from './legacy.js';
import { memoryGet, memoryList, memorySearch, memoryStats, memoryTags } from './read.js';
import { memoryDelete, memoryStore, memoryUpdate } from './write.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [
  memoryStore,
  memorySearch,
  memoryList,
  memoryGet,
  memoryUpdate,
  memoryDelete,
  memoryTags,
  memoryStats,
  storeMemory,
  retrieveMemory,
  searchByTag,
  recallByTimeframe,
  deleteMemory,
] as const;
