import { containerStats } from './container-stats.js';
import { dockerEvents } from './docker-events.js';
import { getContainerLogs } from './get-container-logs.js';
import { getSystemMetrics, listProcesses } from './host.js';
import { inspectContainer } from './inspect-container.js';
import { listContainers } from './list-containers.js';
import { listImages } from './list-images.js';
import { lokiLabels, lokiLabelValues } from './loki-labels.js';
import { restartContainer } from './restart-container.js';
import { searchLogs } from './search-logs.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [
  listContainers,
  inspectContainer,
  containerStats,
  dockerEvents,
  listImages,
  getContainerLogs,
  searchLogs,
  lokiLabels,
  lokiLabelValues,
  getSystemMetrics,
  listProcesses,
  restartContainer,
] as const;
