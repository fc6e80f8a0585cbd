import { toolDefiner, type Toolsets } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { Engine } from '../engine.js';
import type { HostPaths } from '../host/host-metrics.js';
import type { LokiClient } from '../loki.js';

export interface Deps {
  engine: Engine;
  /** Set when LOKI_URL is. */
  loki: LokiClient | undefined;
  host: HostPaths;
}

export const toolsets = {
  docker: {
    description: 'Containers and images: list, inspect (secrets masked), stats, events (read-only)',
    default: true,
  },
  logs: {
    description: "Container logs and log search (Loki's LogQL when LOKI_URL is set, else the engine's logs)",
    default: true,
  },
  host: {
    description: 'Host load, CPU, memory, swap, disks, network and processes, from /proc and /sys',
    default: true,
  },
  loki: { description: 'Loki label discovery (on when LOKI_URL is set)', default: false },
  control: { description: 'Restart a container (needs MONITORING_ALLOW_RESTART=true)', default: false },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const defineMonitoringTool = toolDefiner<Config, Deps, Toolset>();
