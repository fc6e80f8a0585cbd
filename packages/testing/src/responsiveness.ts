export interface ResponsivenessReport {
  /** Requests that completed while the probe ran. */
  polls: number;
  /** The slowest of them, in milliseconds. */
  maxMs: number;
  /** Requests that failed or answered other than 200. */
  failures: number;
}

export interface ResponsivenessProbe {
  /** Stops polling (after the request in flight) and reports. */
  stop(): Promise<ResponsivenessReport>;
}

/**
 * Polls `GET <path>` (default /health) one request after another while something else runs, and
 * records how long each took: a service whose event loop is blocked answers late, whatever it is
 * doing. Use it against a service in its own process (startServiceProcess), so that the test's own
 * event loop is not the one being measured. Assert on generous bounds only (a second, not ten ms).
 */
export function probeResponsiveness(
  baseUrl: string,
  options: { path?: string; intervalMs?: number } = {},
): ResponsivenessProbe {
  const url = new URL(options.path ?? '/health', baseUrl);
  const report: ResponsivenessReport = { polls: 0, maxMs: 0, failures: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
        await response.arrayBuffer();
        if (response.status !== 200) report.failures += 1;
      } catch {
        report.failures += 1;
      }
      report.maxMs = Math.max(report.maxMs, performance.now() - started);
      report.polls += 1;
      // The pace of the polling, not a wait for something to happen.
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ...report };
    },
  };
}
