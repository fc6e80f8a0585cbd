import { describe, expect, it } from 'vitest';

import type { ContainerStats } from '../src/engine-schemas.js';
import { statsFigures } from '../src/stats.js';

/** A sample in the engine's shape (cgroup v2), with figures worked out by hand below. */
const v2: ContainerStats = {
  read: '2026-11-29T03:00:01.000000000Z',
  pids_stats: { current: 7 },
  cpu_stats: { cpu_usage: { total_usage: 2_600_000_000 }, system_cpu_usage: 120_000_000_000, online_cpus: 4 },
  precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 116_000_000_000, online_cpus: 4 },
  memory_stats: {
    usage: 300 * 1024 * 1024,
    limit: 1024 * 1024 * 1024,
    stats: { inactive_file: 44 * 1024 * 1024, file: 60 * 1024 * 1024 },
  },
  networks: {
    eth1: { rx_bytes: 1000, tx_bytes: 10, rx_packets: 5, tx_packets: 1 },
    eth0: { rx_bytes: 2000, tx_bytes: 20, rx_packets: 7, tx_packets: 2 },
  },
  blkio_stats: {
    io_service_bytes_recursive: [
      { op: 'read', value: 4096 },
      { op: 'write', value: 8192 },
      { op: 'Read', value: 4096 },
      { op: 'Total', value: 16384 },
      { op: '', value: 99 },
    ],
  },
};

describe('statsFigures (as docker stats computes them)', () => {
  it('CPU %: Δcontainer / Δsystem × online CPUs × 100; memory without inactive_file; sums of network and block I/O', () => {
    // (0.6e9 / 4e9) × 4 × 100 = 60 %; memory (300 − 44) MiB of 1 GiB = 25 %.
    expect(statsFigures(v2)).toEqual({
      cpu_percent: 60,
      online_cpus: 4,
      memory: {
        used_bytes: 256 * 1024 * 1024,
        limit_bytes: 1024 * 1024 * 1024,
        percent: 25,
        cache_bytes: 44 * 1024 * 1024,
      },
      network: { rx_bytes: 3000, tx_bytes: 30, rx_packets: 12, tx_packets: 3, interfaces: ['eth0', 'eth1'] },
      block_io: { read_bytes: 8192, write_bytes: 8192 },
      pids: 7,
      read_at: '2026-11-29T03:00:01.000000000Z',
    });
  });

  it('cgroup v1: total_inactive_file first; per-CPU list when online_cpus is missing', () => {
    const v1: ContainerStats = {
      cpu_stats: { cpu_usage: { total_usage: 300, percpu_usage: [1, 2] }, system_cpu_usage: 1000 },
      precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 800 },
      memory_stats: { usage: 1000, limit: 4000, stats: { total_inactive_file: 200, inactive_file: 900 } },
    };
    const figures = statsFigures(v1);
    expect(figures.cpu_percent).toBe(200); // (200/200) × 2 × 100: two full cores
    expect(figures.online_cpus).toBe(2);
    expect(figures.memory).toEqual({ used_bytes: 800, limit_bytes: 4000, percent: 20, cache_bytes: 200 });
  });

  it('is 0 % when a delta is not positive (first sample, counter reset) and has no division by a zero limit', () => {
    const first: ContainerStats = {
      cpu_stats: { cpu_usage: { total_usage: 500 }, system_cpu_usage: 1000, online_cpus: 2 },
      precpu_stats: {},
      memory_stats: { usage: 100, limit: 0, stats: { inactive_file: 500 } },
    };
    expect(statsFigures(first).cpu_percent).toBe(100 * (500 / 1000) * 2);
    const reset: ContainerStats = {
      cpu_stats: { cpu_usage: { total_usage: 10 }, system_cpu_usage: 1000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 20 }, system_cpu_usage: 900 },
    };
    expect(statsFigures(reset).cpu_percent).toBe(0);
    expect(statsFigures(first).memory).toEqual({ used_bytes: 100, limit_bytes: 0, percent: 0, cache_bytes: 0 });
  });
});
