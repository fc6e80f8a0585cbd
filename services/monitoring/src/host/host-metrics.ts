/**
 * The host's figures, read from /proc and /sys (no commands run). In a container, HOST_PROC and
 * HOST_SYS point at the host's /proc and /sys mounted read-only (e.g. /host/proc, /host/sys) and
 * HOST_ROOT at the host's / (for disk space); without them the figures are this process's own view,
 * and the result says so when it runs in a container.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { MonitoringError } from '../errors.js';
import { maskArgv } from '../masking.js';
import {
  cpuUsage,
  type MountInfo,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseNetDev,
  parsePidStat,
  parseProcStat,
  type PidStat,
  totalTicks,
} from './proc-files.js';

export interface HostPaths {
  /** HOST_PROC, when set. */
  hostProc?: string | undefined;
  hostSys?: string | undefined;
  hostRoot?: string | undefined;
}

/** USER_HZ: the unit of /proc's tick counts, 100 on every Linux architecture user space sees. */
const USER_HZ = 100;

// File systems that hold no data of their own (df's -x list and then some).
const PSEUDO_FS = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'tmpfs',
  'cgroup',
  'cgroup2',
  'securityfs',
  'pstore',
  'bpf',
  'debugfs',
  'tracefs',
  'mqueue',
  'hugetlbfs',
  'fusectl',
  'configfs',
  'autofs',
  'binfmt_misc',
  'rpc_pipefs',
  'nsfs',
  'efivarfs',
  'ramfs',
  'squashfs',
  'selinuxfs',
  'nfsd',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'shm',
]);

export type View = 'host' | 'container';

export interface Scope {
  view: View;
  proc: string;
  sys: string;
  note?: string;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new MonitoringError(
      'UNAVAILABLE',
      `Cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}): is HOST_PROC/HOST_SYS right?`,
      { cause: error },
    );
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether this process runs in a container (Docker, Podman, Kubernetes, containerd, LXC). */
export function inContainer(proc = '/proc'): boolean {
  if (existsSync('/.dockerenv') || existsSync('/run/.containerenv')) return true;
  const cgroup = readOptional(`${proc}/1/cgroup`) ?? '';
  if (/docker|kubepods|containerd|libpod|lxc/.test(cgroup)) return true;
  const environ = readOptional(`${proc}/1/environ`) ?? '';
  return /(^|\0)container=/.test(environ);
}

export function resolveScope(paths: HostPaths): Scope {
  const proc = paths.hostProc ?? '/proc';
  const sys = paths.hostSys ?? '/sys';
  if (paths.hostProc !== undefined) return { view: 'host', proc, sys };
  if (inContainer(proc)) {
    return {
      view: 'container',
      proc,
      sys,
      note:
        "This process runs in a container and HOST_PROC is not set: processes, network counters and disks are the container's own, " +
        "and load, CPU, memory and uptime are the kernel's as the container sees them. Mount the host's /proc and /sys read-only " +
        'and set HOST_PROC and HOST_SYS (and HOST_ROOT for disks) for the host view.',
    };
  }
  return { view: 'host', proc, sys };
}

async function sampleCpu(proc: string, sampleMs: number, signal?: AbortSignal) {
  const before = parseProcStat(read(`${proc}/stat`));
  await sleep(sampleMs, undefined, { signal });
  const after = parseProcStat(read(`${proc}/stat`));
  return { before, after };
}

export async function systemMetrics(paths: HostPaths, sampleMs: number, signal?: AbortSignal) {
  const scope = resolveScope(paths);
  const { proc, sys } = scope;
  const { before, after } = await sampleCpu(proc, sampleMs, signal);
  const cores = after.cores.map((core) => {
    const previous = before.cores.find((c) => c.cpu === core.cpu);
    return { cpu: core.cpu, ...cpuUsage(previous?.times ?? core.times, core.times) };
  });
  const memory = parseMeminfo(read(`${proc}/meminfo`));
  const mem = (key: string) => memory.get(key) ?? 0;
  const memTotal = mem('MemTotal');
  const memAvailable = memory.get('MemAvailable') ?? mem('MemFree') + mem('Buffers') + mem('Cached');
  const swapTotal = mem('SwapTotal');
  const swapUsed = swapTotal - mem('SwapFree');
  const load = parseLoadavg(read(`${proc}/loadavg`));
  const uptime = Number(read(`${proc}/uptime`).trim().split(/\s+/)[0]);
  const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10000) / 100 : 0);
  return {
    view: scope.view,
    ...(scope.note !== undefined && { note: scope.note }),
    sources: { proc, sys, root: paths.hostRoot ?? null },
    hostname: readOptional(`${proc}/sys/kernel/hostname`)?.trim() ?? null,
    kernel: readOptional(`${proc}/sys/kernel/osrelease`)?.trim() ?? null,
    uptime_seconds: uptime,
    boot_time: new Date(after.bootTime * 1000).toISOString(),
    load: { one: load.one, five: load.five, fifteen: load.fifteen },
    cpu: {
      count: after.cores.length,
      sample_ms: sampleMs,
      total: cpuUsage(before.total, after.total),
      cores,
    },
    memory: {
      total_bytes: memTotal,
      available_bytes: memAvailable,
      used_bytes: memTotal - memAvailable,
      used_percent: pct(memTotal - memAvailable, memTotal),
      free_bytes: mem('MemFree'),
      buffers_bytes: mem('Buffers'),
      cached_bytes: mem('Cached') + mem('SReclaimable'),
    },
    swap: {
      total_bytes: swapTotal,
      used_bytes: swapUsed,
      free_bytes: mem('SwapFree'),
      used_percent: pct(swapUsed, swapTotal),
    },
    processes: {
      total: countPids(proc),
      threads: load.threads,
      running: after.procsRunning,
      blocked: after.procsBlocked,
    },
    disks: await disks(paths, proc),
    network: network(paths, proc, sys),
  };
}

function countPids(proc: string): number {
  return readdirSync(proc).filter((name) => /^\d+$/.test(name)).length;
}

/**
 * Mounted file systems with data, one per device (bind mounts of the same device are listed once,
 * under the mount of its root). With HOST_ROOT the host's mount table (PID 1's) is read and each
 * mount point is measured under HOST_ROOT; otherwise this process's own mounts are.
 */
async function disks(paths: HostPaths, proc: string) {
  const hostMounts = paths.hostRoot !== undefined;
  const table = readOptional(hostMounts ? `${proc}/1/mountinfo` : `${proc}/self/mountinfo`) ?? '';
  const io = parseDiskstats(readOptional(`${proc}/diskstats`) ?? '');
  const seen = new Map<string, MountInfo>();
  for (const mount of parseMountinfo(table)) {
    if (PSEUDO_FS.has(mount.fsType)) continue;
    const existing = seen.get(mount.device);
    // Prefer the mount of the file system's root, then the shortest mount point.
    if (
      !existing ||
      (existing.root !== '/' && mount.root === '/') ||
      (existing.root === mount.root && mount.mountPoint.length < existing.mountPoint.length)
    ) {
      seen.set(mount.device, mount);
    }
  }
  const out = [];
  for (const mount of [...seen.values()].sort((a, b) => a.mountPoint.localeCompare(b.mountPoint))) {
    const at = hostMounts ? `${paths.hostRoot?.replace(/\/$/, '')}${mount.mountPoint}` : mount.mountPoint;
    let space;
    try {
      space = await statfs(at);
    } catch {
      continue; // Not reachable from here (a mount namespace we do not share): skip it.
    }
    const total = space.blocks * space.bsize;
    const free = space.bfree * space.bsize;
    const available = space.bavail * space.bsize;
    const used = total - free;
    const counters = io.get(mount.device);
    out.push({
      mount_point: mount.mountPoint,
      device: mount.source,
      fs_type: mount.fsType,
      total_bytes: total,
      used_bytes: used,
      available_bytes: available,
      // As df computes Use%: used over what users can have (used + available).
      used_percent: used + available > 0 ? Math.round((used / (used + available)) * 10000) / 100 : 0,
      inodes_total: space.files,
      inodes_free: space.ffree,
      read_bytes: counters?.read_bytes ?? null,
      write_bytes: counters?.write_bytes ?? null,
    });
  }
  return out;
}

/** Interface counters of the host's network namespace (PID 1's with HOST_PROC), with link state from /sys. */
function network(paths: HostPaths, proc: string, sys: string) {
  const text =
    (paths.hostProc !== undefined ? readOptional(`${proc}/1/net/dev`) : undefined) ?? read(`${proc}/net/dev`);
  return parseNetDev(text).map((counters) => {
    const state = readOptional(`${sys}/class/net/${counters.interface}/operstate`)?.trim() ?? null;
    const speed = Number(readOptional(`${sys}/class/net/${counters.interface}/speed`)?.trim());
    return { ...counters, operstate: state, speed_mbps: Number.isFinite(speed) && speed > 0 ? speed : null };
  });
}

export type ProcessSort = 'cpu' | 'memory';

interface ProcessSample {
  stat: PidStat;
  rss: number;
  uid: number | null;
}

const MAX_PROCESSES = 100_000;

function sampleProcesses(proc: string): Map<number, ProcessSample> {
  const out = new Map<number, ProcessSample>();
  for (const name of readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    if (out.size >= MAX_PROCESSES) break;
    const statText = readOptional(`${proc}/${name}/stat`);
    if (statText === undefined) continue; // It ended while we looked.
    const stat = parsePidStat(statText);
    if (stat === undefined) continue;
    const status = readOptional(`${proc}/${name}/status`) ?? '';
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const uid = /^Uid:\s+(\d+)/m.exec(status);
    out.set(stat.pid, { stat, rss: rss ? Number(rss[1]) * 1024 : 0, uid: uid ? Number(uid[1]) : null });
  }
  return out;
}

function userNames(root: string | undefined): Map<number, string> {
  const names = new Map<number, string>();
  const text = readOptional(`${root?.replace(/\/$/, '') ?? ''}/etc/passwd`) ?? '';
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid)) names.set(Number(uid), name);
  }
  return names;
}

/**
 * Processes by CPU use over a short sample (100 % = one core, as top shows it) or by resident
 * memory. Command lines are masked like inspect's (a `--password=x` never leaves the service).
 */
export async function listProcesses(
  paths: HostPaths,
  options: { sortBy: ProcessSort; limit: number; sampleMs: number; signal?: AbortSignal | undefined },
) {
  const scope = resolveScope(paths);
  const { proc } = scope;
  const statBefore = parseProcStat(read(`${proc}/stat`));
  const before = sampleProcesses(proc);
  await sleep(options.sampleMs, undefined, { signal: options.signal });
  const statAfter = parseProcStat(read(`${proc}/stat`));
  const after = sampleProcesses(proc);
  const cpus = Math.max(1, statAfter.cores.length);
  // Elapsed time in ticks of one CPU: the all-CPU tick delta over the CPU count (independent of HZ).
  const elapsedTicks = (totalTicks(statAfter.total) - totalTicks(statBefore.total)) / cpus;
  const memTotal = parseMeminfo(read(`${proc}/meminfo`)).get('MemTotal') ?? 0;
  const names = userNames(paths.hostRoot);
  const rows = [...after.values()].map((sample) => {
    const previous = before.get(sample.stat.pid);
    const used =
      previous && previous.stat.startTicks === sample.stat.startTicks
        ? sample.stat.utime + sample.stat.stime - previous.stat.utime - previous.stat.stime
        : 0;
    const cpu = elapsedTicks > 0 ? Math.round((used / elapsedTicks) * 10000) / 100 : 0;
    return { sample, cpu };
  });
  rows.sort((a, b) =>
    options.sortBy === 'cpu'
      ? b.cpu - a.cpu || b.sample.rss - a.sample.rss
      : b.sample.rss - a.sample.rss || b.cpu - a.cpu,
  );
  const processes = rows.slice(0, options.limit).map(({ sample, cpu }) => {
    const cmdline = readOptional(`${proc}/${sample.stat.pid}/cmdline`) ?? '';
    const argv = cmdline.split('\0').filter((part, index, all) => part !== '' || index < all.length - 1);
    let command = maskArgv(argv).join(' ');
    if (command.length > 512) command = `${command.slice(0, 512)}…`;
    return {
      pid: sample.stat.pid,
      ppid: sample.stat.ppid,
      name: sample.stat.comm,
      state: sample.stat.state,
      user: sample.uid === null ? null : (names.get(sample.uid) ?? String(sample.uid)),
      cpu_percent: cpu,
      memory_bytes: sample.rss,
      memory_percent: memTotal > 0 ? Math.round((sample.rss / memTotal) * 10000) / 100 : 0,
      threads: sample.stat.threads,
      started_at: new Date((statAfter.bootTime + sample.stat.startTicks / USER_HZ) * 1000).toISOString(),
      // Kernel threads have no command line: their name is shown in brackets, as ps does.
      command: command === '' ? `[${sample.stat.comm}]` : command,
    };
  });
  return {
    view: scope.view,
    ...(scope.note !== undefined && { note: scope.note }),
    sort_by: options.sortBy,
    sample_ms: options.sampleMs,
    total: after.size,
    processes,
  };
}
