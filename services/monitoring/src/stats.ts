/**
 * A container's resource figures from one stats sample (GET /containers/{id}/stats?stream=false),
 * computed exactly as `docker stats` computes them (docker/cli, cli/command/container/stats_helpers.go):
 *
 * - CPU %: (Δ container CPU time / Δ system CPU time) × online CPUs × 100, the deltas taken between
 *   the sample's `precpu_stats` and `cpu_stats` (the engine samples twice, about a second apart);
 *   0 when either delta is not positive. 100 % is one full core.
 * - Memory: usage minus the page cache that can be reclaimed (`total_inactive_file` on cgroup v1,
 *   `inactive_file` on v2, when smaller than usage), and that over the limit.
 * - Network: received and sent bytes summed over the container's interfaces.
 * - Block I/O: bytes read and written, summed over `io_service_bytes_recursive` by the op's first letter.
 */
import type { ContainerStats } from './engine-schemas.js';

export interface StatsFigures {
  cpu_percent: number;
  online_cpus: number;
  memory: { used_bytes: number; limit_bytes: number; percent: number; cache_bytes: number };
  network: { rx_bytes: number; tx_bytes: number; rx_packets: number; tx_packets: number; interfaces: string[] };
  block_io: { read_bytes: number; write_bytes: number };
  pids: number | null;
  /** When the engine took the sample (RFC 3339). */
  read_at: string | null;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export function cpuPercent(stats: ContainerStats): { percent: number; onlineCpus: number } {
  const cpu = stats.cpu_stats;
  const pre = stats.precpu_stats;
  const cpuDelta = (cpu?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  let onlineCpus = cpu?.online_cpus ?? 0;
  if (onlineCpus === 0) onlineCpus = cpu?.cpu_usage?.percpu_usage?.length ?? 0;
  const percent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0;
  return { percent, onlineCpus };
}

export function memoryUsage(stats: ContainerStats): { used: number; cache: number; limit: number; percent: number } {
  const memory = stats.memory_stats;
  const usage = memory?.usage ?? 0;
  const limit = memory?.limit ?? 0;
  const inner = memory?.stats ?? {};
  let cache = 0;
  const v1 = inner['total_inactive_file'];
  const v2 = inner['inactive_file'];
  // The CLI's order: v1's figure when present and below usage, else v2's (a missing key reads as 0 in Go).
  if (v1 !== undefined && v1 < usage) cache = v1;
  else if ((v2 ?? 0) < usage) cache = v2 ?? 0;
  const used = usage - cache;
  return { used, cache, limit, percent: limit !== 0 ? (used / limit) * 100 : 0 };
}

export function statsFigures(stats: ContainerStats): StatsFigures {
  const cpu = cpuPercent(stats);
  const memory = memoryUsage(stats);
  const network = { rx_bytes: 0, tx_bytes: 0, rx_packets: 0, tx_packets: 0, interfaces: [] as string[] };
  for (const [name, counters] of Object.entries(stats.networks ?? {})) {
    network.interfaces.push(name);
    network.rx_bytes += counters.rx_bytes ?? 0;
    network.tx_bytes += counters.tx_bytes ?? 0;
    network.rx_packets += counters.rx_packets ?? 0;
    network.tx_packets += counters.tx_packets ?? 0;
  }
  network.interfaces.sort();
  let read = 0;
  let write = 0;
  for (const entry of stats.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = entry.op?.[0];
    if (op === 'r' || op === 'R') read += entry.value ?? 0;
    else if (op === 'w' || op === 'W') write += entry.value ?? 0;
  }
  return {
    cpu_percent: round(cpu.percent),
    online_cpus: cpu.onlineCpus,
    memory: {
      used_bytes: memory.used,
      limit_bytes: memory.limit,
      percent: round(memory.percent),
      cache_bytes: memory.cache,
    },
    network,
    block_io: { read_bytes: read, write_bytes: write },
    pids: stats.pids_stats?.current ?? null,
    read_at: stats.read ?? null,
  };
}
