/** Latency samples in milliseconds; percentiles by sorting once at the end (a few 100k samples at most). */
export class Samples {
  private readonly values: number[] = [];
  private sortedCache: Float64Array | undefined;

  add(ms: number): void {
    this.values.push(ms);
  }

  get count(): number {
    return this.values.length;
  }

  percentile(p: number): number {
    if (this.values.length === 0) return Number.NaN;
    if (this.sortedCache?.length !== this.values.length) this.sortedCache = Float64Array.from(this.values).sort();
    const sorted = this.sortedCache;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank] ?? Number.NaN;
  }
}

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
