import { readdirSync, readFileSync, statfsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { listProcesses, systemMetrics } from '../src/host/host-metrics.js';
import { parseMountinfo, parsePidStat } from '../src/host/proc-files.js';

/** Reads /proc the way the test's own code does, independently of the service's parsers. */
function meminfoBytes(key: string): number {
  const line = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}:`));
  return Number(line?.split(/\s+/)[1]) * 1024;
}

function loadavg(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

function procStatField(key: string): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key} `));
  return Number(line?.split(/\s+/)[1]);
}

const pidCount = () => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;

describe.each([
  ["this process's own /proc (HOST_PROC unset)", {}],
  ['HOST_PROC=/proc, HOST_SYS=/sys, HOST_ROOT=/', { hostProc: '/proc', hostSys: '/sys', hostRoot: '/' }],
])('get_system_metrics from %s', (_label, paths) => {
  it('matches /proc read by the test: totals, counts, boot time, load within its movement', async () => {
    const loadBefore = loadavg();
    const pidsBefore = pidCount();
    const netBefore = readFileSync('/proc/net/dev', 'utf8');
    const metrics = await systemMetrics(paths, 100);
    const loadAfter = loadavg();
    const pidsAfter = pidCount();

    expect(metrics.memory.total_bytes).toBe(meminfoBytes('MemTotal'));
    expect(metrics.swap.total_bytes).toBe(meminfoBytes('SwapTotal'));
    expect(metrics.memory.available_bytes).toBeGreaterThan(0);
    expect(metrics.memory.used_bytes).toBe(metrics.memory.total_bytes - metrics.memory.available_bytes);
    const cores = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((l) => /^cpu\d+ /.test(l)).length;
    expect(metrics.cpu.count).toBe(cores);
    expect(metrics.cpu.cores.map((c) => c.cpu)).toEqual([...Array(cores).keys()]);
    for (const core of [metrics.cpu.total, ...metrics.cpu.cores]) {
      const sum = core.busy_percent + core.iowait_percent + core.idle_percent;
      expect(sum).toBeGreaterThan(99.9);
      expect(sum).toBeLessThan(100.1);
    }
    expect(metrics.boot_time).toBe(new Date(procStatField('btime') * 1000).toISOString());
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(metrics.uptime_seconds).toBeGreaterThan(uptime - 60);
    expect(metrics.uptime_seconds).toBeLessThanOrEqual(uptime);
    // Each load figure lies between the values read before and after (a wrong field would not).
    const load = [metrics.load.one, metrics.load.five, metrics.load.fifteen];
    load.forEach((value, index) => {
      const low = Math.min(loadBefore[index] as number, loadAfter[index] as number);
      const high = Math.max(loadBefore[index] as number, loadAfter[index] as number);
      expect(value, `load ${index}`).toBeGreaterThanOrEqual(low - 0.01);
      expect(value, `load ${index}`).toBeLessThanOrEqual(high + 0.01);
    });
    expect(metrics.processes.total).toBeGreaterThanOrEqual(Math.min(pidsBefore, pidsAfter) - 20);
    expect(metrics.processes.total).toBeLessThanOrEqual(Math.max(pidsBefore, pidsAfter) + 20);
    // Network: the same interfaces, counters that only grow.
    const before = new Map(
      netBefore
        .split('\n')
        .slice(2)
        .filter((l) => l.includes(':'))
        .map((l) => [l.split(':')[0]?.trim() ?? '', Number(l.split(':')[1]?.trim().split(/\s+/)[0])] as const),
    );
    expect(metrics.network.map((n) => n.interface).sort()).toEqual([...before.keys()].sort());
    for (const counters of metrics.network)
      expect(counters.rx_bytes).toBeGreaterThanOrEqual(before.get(counters.interface) ?? 0);
    // Disks: the root file system, measured as statfs measures it.
    const root = metrics.disks.find((disk) => disk.mount_point === '/');
    expect(root, 'the root file system is listed').toBeDefined();
    const space = statfsSync('/');
    expect(root?.total_bytes).toBe(space.blocks * space.bsize);
    expect(root?.inodes_total).toBe(space.files);
    expect(metrics.disks.every((disk) => !['proc', 'sysfs', 'tmpfs', 'cgroup2', 'devpts'].includes(disk.fs_type))).toBe(
      true,
    );
  });
});

describe('view', () => {
  it("says whose figures these are: the host's with HOST_PROC, otherwise this process's own (and why, in a container)", async () => {
    const host = await systemMetrics({ hostProc: '/proc', hostSys: '/sys' }, 10);
    expect(host.view).toBe('host');
    expect('note' in host).toBe(false);
    const own = await systemMetrics({}, 10);
    const containerised =
      readFileSync('/proc/1/cgroup', 'utf8').match(/docker|kubepods|containerd|libpod|lxc/) !== null;
    if (own.view === 'container') {
      expect(own.note).toMatch(/^This process runs in a container and HOST_PROC is not set/);
    } else {
      expect(containerised).toBe(false);
    }
  });

  it('fails clearly when HOST_PROC points nowhere', async () => {
    await expect(systemMetrics({ hostProc: '/nonexistent/proc' }, 10)).rejects.toThrow(
      'Cannot read /nonexistent/proc/stat (ENOENT): is HOST_PROC/HOST_SYS right?',
    );
  });
});

describe('list_processes', () => {
  it('lists processes as /proc shows them, sorted by memory, with this test process among them', async () => {
    const result = await listProcesses({}, { sortBy: 'memory', limit: 500, sampleMs: 50 });
    expect(result.processes.length).toBeGreaterThan(0);
    const memories = result.processes.map((p) => p.memory_bytes);
    expect(memories).toEqual([...memories].sort((a, b) => b - a));
    const me = result.processes.find((p) => p.pid === process.pid);
    expect(me, 'this process is listed').toBeDefined();
    const stat = parsePidStat(readFileSync(`/proc/${process.pid}/stat`, 'utf8'));
    expect(me?.ppid).toBe(process.ppid);
    expect(me?.name).toBe(stat?.comm);
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${process.pid}/status`, 'utf8'))?.[1]) * 1024;
    expect(me?.memory_bytes).toBeGreaterThan(rss * 0.5);
    expect(me?.memory_bytes).toBeLessThan(rss * 2);
    expect(me?.command).toContain('node');
    expect(result.total).toBeGreaterThan(pidCount() - 20);
  });

  it('sorts by CPU over the sample, measures a busy child, and masks its secret argument', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', 'for(;;){}', '--', '--password=proc-Secret-1'], { stdio: 'ignore' });
    try {
      // The machine may be busy (2 cores shared): the child is found among all, not required to be first.
      const result = await listProcesses({}, { sortBy: 'cpu', limit: 500, sampleMs: 500 });
      const cpus = result.processes.map((p) => p.cpu_percent);
      expect(cpus).toEqual([...cpus].sort((a, b) => b - a));
      const busy = result.processes.find((p) => p.pid === child.pid);
      expect(busy, 'the spinning child is listed').toBeDefined();
      expect(busy?.cpu_percent).toBeGreaterThan(1);
      expect(busy?.state).toMatch(/^[RS]$/);
      expect(busy?.command).toContain('--password=***');
      expect(JSON.stringify(result)).not.toContain('proc-Secret-1');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('parseMountinfo', () => {
  it('reads fields and octal escapes', () => {
    const text = '36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n';
    expect(parseMountinfo(text)).toEqual([
      { device: '98:0', root: '/mnt1', mountPoint: '/mnt two', fsType: 'ext3', source: '/dev/root' },
    ]);
  });
});
