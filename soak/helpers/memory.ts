/** A resident-memory sample of a process: when (ms since start of the series) and how much (bytes). */
export interface Sample {
  atMs: number;
  bytes: number;
}

/** The least-squares slope of bytes over time, in bytes per minute. */
export function slopePerMinute(samples: readonly Sample[]): number {
  const n = samples.length;
  if (n < 2) throw new Error('a slope needs at least two samples');
  const meanT = samples.reduce((sum, s) => sum + s.atMs, 0) / n;
  const meanB = samples.reduce((sum, s) => sum + s.bytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.atMs - meanT) * (s.bytes - meanB);
    den += (s.atMs - meanT) ** 2;
  }
  if (den === 0) throw new Error('the samples span no time');
  return (num / den) * 60_000;
}

export const MiB = 1024 * 1024;

/** 12.3 MiB, -0.4 MiB: for reports. */
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
