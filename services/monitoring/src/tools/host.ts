import { z } from 'zod';

import { listProcesses as list, systemMetrics } from '../host/host-metrics.js';
import { defineMonitoringTool } from './define.js';
import { readAnnotations } from './schemas.js';

const viewFields = {
  view: z.enum(['host', 'container']).describe("Whose figures these are: the host's, or this container's own"),
  note: z.string().optional(),
};

const cpuPercents = {
  busy_percent: z.number(),
  user_percent: z.number(),
  system_percent: z.number(),
  iowait_percent: z.number(),
  steal_percent: z.number(),
  idle_percent: z.number(),
};

export const getSystemMetrics = defineMonitoringTool({
  name: 'get_system_metrics',
  title: 'Host metrics',
  toolset: 'host',
  description:
    "The host's load averages, CPU use per core over a short sample (HOST_CPU_SAMPLE_MS), memory, swap, each " +
    'mounted disk (space, inodes, bytes read and written), network interface counters, process counts and ' +
    "uptime, from /proc and /sys. `view` says whether these are the host's figures or, in a container without " +
    "the host's /proc mounted, the container's own.",
  input: z.object({}),
  output: z.object({
    ...viewFields,
    sources: z.object({ proc: z.string(), sys: z.string(), root: z.string().nullable() }),
    hostname: z.string().nullable(),
    kernel: z.string().nullable(),
    uptime_seconds: z.number(),
    boot_time: z.string(),
    load: z.object({ one: z.number(), five: z.number(), fifteen: z.number() }),
    cpu: z.object({
      count: z.number(),
      sample_ms: z.number(),
      total: z.object(cpuPercents),
      cores: z.array(z.object({ cpu: z.number(), ...cpuPercents })),
    }),
    memory: z.object({
      total_bytes: z.number(),
      available_bytes: z.number(),
      used_bytes: z.number(),
      used_percent: z.number(),
      free_bytes: z.number(),
      buffers_bytes: z.number(),
      cached_bytes: z.number(),
    }),
    swap: z.object({
      total_bytes: z.number(),
      used_bytes: z.number(),
      free_bytes: z.number(),
      used_percent: z.number(),
    }),
    processes: z.object({ total: z.number(), threads: z.number(), running: z.number(), blocked: z.number() }),
    disks: z.array(
      z.object({
        mount_point: z.string(),
        device: z.string(),
        fs_type: z.string(),
        total_bytes: z.number(),
        used_bytes: z.number(),
        available_bytes: z.number(),
        used_percent: z.number(),
        inodes_total: z.number(),
        inodes_free: z.number(),
        read_bytes: z.number().nullable(),
        write_bytes: z.number().nullable(),
      }),
    ),
    network: z.array(
      z.object({
        interface: z.string(),
        rx_bytes: z.number(),
        rx_packets: z.number(),
        rx_errors: z.number(),
        rx_dropped: z.number(),
        tx_bytes: z.number(),
        tx_packets: z.number(),
        tx_errors: z.number(),
        tx_dropped: z.number(),
        operstate: z.string().nullable(),
        speed_mbps: z.number().nullable(),
      }),
    ),
  }),
  annotations: readAnnotations,
  handler: async (_input, ctx) => systemMetrics(ctx.deps.host, ctx.config.HOST_CPU_SAMPLE_MS, ctx.signal),
});

export const listProcesses = defineMonitoringTool({
  name: 'list_processes',
  title: 'Top processes',
  toolset: 'host',
  description:
    'The processes using the most CPU (over a short sample; 100 % is one core) or memory (resident), with user, ' +
    'start time and command line (secret-looking arguments masked).',
  input: z.object({
    sort_by: z.enum(['cpu', 'memory']).default('cpu'),
    limit: z.number().int().min(1).max(500).default(20),
  }),
  output: z.object({
    ...viewFields,
    sort_by: z.enum(['cpu', 'memory']),
    sample_ms: z.number(),
    total: z.number(),
    processes: z.array(
      z.object({
        pid: z.number(),
        ppid: z.number(),
        name: z.string(),
        state: z.string(),
        user: z.string().nullable(),
        cpu_percent: z.number(),
        memory_bytes: z.number(),
        memory_percent: z.number(),
        threads: z.number(),
        started_at: z.string(),
        command: z.string(),
      }),
    ),
  }),
  annotations: readAnnotations,
  handler: async ({ sort_by, limit }, ctx) =>
    list(ctx.deps.host, { sortBy: sort_by, limit, sampleMs: ctx.config.HOST_CPU_SAMPLE_MS, signal: ctx.signal }),
});
