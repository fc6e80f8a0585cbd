/**
 * Parsers for the /proc files the host tools read (proc(5)). Pure functions of the file text, so
 * they are tested on fixed samples as well as on the live files.
 */

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  total: CpuTimes;
  cores: { cpu: number; times: CpuTimes }[];
  bootTime: number;
  procsRunning: number;
  procsBlocked: number;
}

function cpuTimes(fields: string[]): CpuTimes {
  const n = (index: number) => Number(fields[index] ?? 0);
  return { user: n(0), nice: n(1), system: n(2), idle: n(3), iowait: n(4), irq: n(5), softirq: n(6), steal: n(7) };
}

/** /proc/stat: the aggregate and per-core CPU lines, boot time, running and blocked processes. */
export function parseProcStat(text: string): ProcStat {
  const stat: ProcStat = {
    total: cpuTimes([]),
    cores: [],
    bootTime: 0,
    procsRunning: 0,
    procsBlocked: 0,
  };
  for (const line of text.split('\n')) {
    const [key, ...fields] = line.trim().split(/\s+/);
    if (key === undefined) continue;
    if (key === 'cpu') stat.total = cpuTimes(fields);
    else if (/^cpu\d+$/.test(key)) stat.cores.push({ cpu: Number(key.slice(3)), times: cpuTimes(fields) });
    else if (key === 'btime') stat.bootTime = Number(fields[0]);
    else if (key === 'procs_running') stat.procsRunning = Number(fields[0]);
    else if (key === 'procs_blocked') stat.procsBlocked = Number(fields[0]);
  }
  return stat;
}

export const totalTicks = (t: CpuTimes) => t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;

/** Percentages of the time between two samples of the same CPU. */
export function cpuUsage(before: CpuTimes, after: CpuTimes) {
  const delta = totalTicks(after) - totalTicks(before);
  const pct = (value: number) => (delta > 0 ? Math.round((value / delta) * 10000) / 100 : 0);
  const idle = after.idle - before.idle;
  const iowait = after.iowait - before.iowait;
  return {
    busy_percent: pct(delta - idle - iowait),
    user_percent: pct(after.user + after.nice - before.user - before.nice),
    system_percent: pct(after.system + after.irq + after.softirq - before.system - before.irq - before.softirq),
    iowait_percent: pct(iowait),
    steal_percent: pct(after.steal - before.steal),
    idle_percent: pct(idle),
  };
}

/** /proc/meminfo as bytes (its kB are KiB). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match) out.set(match[1] as string, Number(match[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return out;
}

/** /proc/loadavg: "0.52 0.58 0.59 2/1234 5678". */
export function parseLoadavg(text: string): {
  one: number;
  five: number;
  fifteen: number;
  runnable: number;
  threads: number;
} {
  const [one, five, fifteen, counts] = text.trim().split(/\s+/);
  const [runnable, threads] = (counts ?? '0/0').split('/');
  return {
    one: Number(one),
    five: Number(five),
    fifteen: Number(fifteen),
    runnable: Number(runnable),
    threads: Number(threads),
  };
}

export interface NetCounters {
  interface: string;
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** /proc/net/dev: two header lines, then "iface: rx(8 fields) tx(8 fields)". */
export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    out.push({
      interface: name,
      rx_bytes: f[0] ?? 0,
      rx_packets: f[1] ?? 0,
      rx_errors: f[2] ?? 0,
      rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0,
      tx_packets: f[9] ?? 0,
      tx_errors: f[10] ?? 0,
      tx_dropped: f[11] ?? 0,
    });
  }
  return out;
}

export interface MountInfo {
  device: string;
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Octal escapes in mountinfo paths (\040 for a space). */
const unescape = (text: string) =>
  text.replace(/\\([0-7]{3})/g, (_all, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** /proc/<pid>/mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue". */
export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    if (left.length < 5 || right.length < 2) continue;
    out.push({
      device: left[2] as string,
      root: unescape(left[3] as string),
      mountPoint: unescape(left[4] as string),
      fsType: right[0] as string,
      source: unescape(right[1] as string),
    });
  }
  return out;
}

/** /proc/diskstats: bytes read and written per device "major:minor" (sectors are 512 bytes). */
export function parseDiskstats(text: string): Map<string, { read_bytes: number; write_bytes: number }> {
  const out = new Map<string, { read_bytes: number; write_bytes: number }>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    out.set(`${f[0]}:${f[1]}`, { read_bytes: Number(f[5]) * 512, write_bytes: Number(f[9]) * 512 });
  }
  return out;
}

export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  threads: number;
  startTicks: number;
}

/** /proc/<pid>/stat: the command name is in parentheses and may hold spaces or ")": split after the last ")". */
export function parsePidStat(text: string): PidStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const field = (n: number) => Number(rest[n - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    threads: field(20),
    startTicks: field(22),
  };
}
