/**
 * search_logs' two back ends. With Loki, the query is LogQL run through query_range (newest first,
 * Loki's default direction), and a result with exactly `limit` lines is reported as truncated (Loki
 * stopped there). Without Loki, the query is a regular expression run over the logs of the chosen
 * containers (default: every running one) in the window, through the engine: each container's
 * share of the read budget is read, the newest `limit` matches are kept, newest first.
 */
import { answerBudget, mapConcurrent, takeWithinBudget } from './budget.js';
import { containerName } from './container-ref.js';
import { inspectRaw, listContainerSummaries, resolveContainer } from './docker.js';
import type { Engine } from './engine.js';
import type { ContainerSummary } from './engine-schemas.js';
import { MonitoringError } from './errors.js';
import { compilePattern, LineMatcher } from './line-matcher.js';
import type { StreamName } from './log-stream.js';
import { readContainerLogs } from './logs.js';
import type { LokiClient } from './loki.js';
import {
  compareInstants,
  describeWindow,
  formatInstant,
  fromUnixNanos,
  type Instant,
  type TimeWindow,
} from './time-window.js';

export interface SearchSettings {
  maxResultBytes: number;
  scanBytes: number;
  maxLineBytes: number;
  regexBudgetMs: number;
  concurrency: number;
  maxContainers: number;
}

export interface EngineMatch {
  container: string;
  stream: StreamName;
  time: string | null;
  line: string;
}

/** The engine-backed search: a regex over the containers' own logs. */
export async function searchEngineLogs(
  engine: Engine,
  input: { query: string; window: TimeWindow; limit: number; containers?: string[] | undefined },
  settings: SearchSettings,
  signal?: AbortSignal,
) {
  const pattern = compilePattern(input.query, 'query');
  let targets: ContainerSummary[];
  if (input.containers !== undefined && input.containers.length > 0) {
    targets = [];
    for (const ref of input.containers) {
      const container = await resolveContainer(engine, ref, signal);
      if (!targets.some((t) => t.Id === container.Id)) targets.push(container);
    }
  } else {
    targets = await listContainerSummaries(engine, { all: false, signal });
  }
  const skipped = targets.length > settings.maxContainers ? targets.length - settings.maxContainers : 0;
  targets = targets.slice(0, settings.maxContainers);
  const share = Math.max(64 * 1024, Math.floor(settings.scanBytes / Math.max(1, targets.length)));
  const searchOne = async (container: ContainerSummary) => {
    const tty = (await inspectRaw(engine, container.Id, signal)).Config?.Tty ?? false;
    // Each container's log gets the matching-time budget.
    const matcher = new LineMatcher(pattern, settings.regexBudgetMs, 'query');
    try {
      const result = await readContainerLogs(
        engine,
        { id: container.Id, tty },
        {
          stream: 'both',
          window: input.window,
          timestamps: true,
          matcher,
          readLimitBytes: share,
          outputLimitBytes: Number.MAX_SAFE_INTEGER,
          maxLineBytes: settings.maxLineBytes,
          keepNewest: input.limit,
          signal,
        },
      );
      return { container, result };
    } finally {
      await matcher.close();
    }
  };
  const unreadable: { container: string; error: string }[] = [];
  const results = await mapConcurrent(
    targets,
    settings.concurrency,
    async (container) => {
      try {
        return await searchOne(container);
      } catch (error) {
        // A container whose logs cannot be read (a logging driver without reading, removed meanwhile)
        // is reported, not a failure of the whole search; a failure of the engine itself is.
        if (error instanceof MonitoringError && (error.code === 'NOT_FOUND' || error.kind === 'unsupported')) {
          unreadable.push({ container: containerName(container), error: error.message });
          return undefined;
        }
        throw error;
      }
    },
    signal,
  );
  const perContainer = results.filter((result): result is NonNullable<typeof result> => result !== undefined);
  const all: { match: EngineMatch; instant: Instant | undefined }[] = [];
  let matched = 0;
  const incomplete: { container: string; read_until: string | null }[] = [];
  for (const { container, result } of perContainer) {
    matched += result.matched;
    if (result.truncated)
      incomplete.push({ container: containerName(container), read_until: result.next_since ?? null });
    result.entries.forEach((entry, index) => {
      all.push({
        match: {
          container: containerName(container),
          stream: entry.stream,
          time: entry.time ?? null,
          line: entry.line,
        },
        instant: result.instants[index],
      });
    });
  }
  all.sort((a, b) => (a.instant && b.instant ? compareInstants(b.instant, a.instant) : 0));
  const newest = all.slice(0, input.limit).map((item) => item.match);
  const fitted = takeWithinBudget(newest, answerBudget(settings.maxResultBytes));
  const truncated = matched > fitted.items.length || incomplete.length > 0 || skipped > 0;
  return {
    backend: 'engine' as const,
    query: input.query,
    window: describeWindow(input.window),
    containers_searched: targets.map(containerName),
    ...(skipped > 0 && { containers_skipped: skipped }),
    matches: fitted.items,
    match_count: matched,
    truncated,
    ...(truncated && {
      truncated_reason:
        incomplete.length > 0
          ? 'read_limit: some containers had more log in the window than their share of MONITORING_LOG_SCAN_BYTES (see incomplete); narrow the window or the containers'
          : skipped > 0
            ? `more running containers than MONITORING_MAX_CONTAINERS; name them in containers`
            : fitted.truncated
              ? 'max_bytes: the matches did not fit the answer budget'
              : `limit: more than ${input.limit} lines matched; the newest are shown`,
    }),
    ...(incomplete.length > 0 && { incomplete }),
    ...(unreadable.length > 0 && { unreadable }),
  };
}

/** The Loki-backed search: LogQL through query_range. */
export async function searchLoki(
  loki: LokiClient,
  input: { query: string; window: TimeWindow; limit: number; containers?: string[] | undefined },
  maxResultBytes: number,
  signal?: AbortSignal,
) {
  if (input.containers !== undefined && input.containers.length > 0) {
    throw new MonitoringError(
      'INVALID_INPUT',
      'containers applies to the engine search only; with Loki, select streams in the LogQL query, e.g. {container="web"} |= "error"',
    );
  }
  if (input.window.since === undefined) throw new MonitoringError('INVALID_INPUT', 'since is required');
  const data = await loki.queryRange(
    input.query,
    { since: input.window.since, until: input.window.until },
    input.limit,
    signal,
  );
  const budget = answerBudget(maxResultBytes);
  const base = {
    backend: 'loki' as const,
    query: input.query,
    window: describeWindow(input.window),
    result_type: data.resultType,
  };
  if (data.resultType === 'streams') {
    let entryCount = 0;
    const streams = data.result.map((stream) => {
      entryCount += stream.values.length;
      return {
        labels: stream.stream,
        entries: stream.values.map(([ns, line]) => {
          const instant = fromUnixNanos(ns);
          return { time: instant ? formatInstant(instant) : ns, line };
        }),
      };
    });
    // Fit entries into the budget stream by stream.
    let used = 0;
    let cut = false;
    const fitted = [];
    for (const stream of streams) {
      const head = JSON.stringify({ labels: stream.labels, entries: [] }).length + 1;
      if (used + head > budget) {
        cut = true;
        break;
      }
      used += head;
      const taken = takeWithinBudget(stream.entries, budget - used);
      used += JSON.stringify(taken.items).length;
      fitted.push({ labels: stream.labels, entries: taken.items });
      if (taken.truncated) {
        cut = true;
        break;
      }
    }
    const limitHit = entryCount >= input.limit;
    return {
      ...base,
      streams: fitted,
      entry_count: entryCount,
      truncated: limitHit || cut,
      ...((limitHit || cut) && {
        truncated_reason: cut
          ? 'max_bytes: the entries did not fit the answer budget'
          : `limit: Loki returned ${input.limit} lines (the limit), newest first; older lines in the window were not returned`,
      }),
    };
  }
  const series =
    data.resultType === 'matrix'
      ? data.result.map((serie) => ({
          metric: serie.metric,
          values: serie.values.map(([seconds, value]) => ({ time: new Date(seconds * 1000).toISOString(), value })),
        }))
      : data.result.map((serie) => ({
          metric: serie.metric,
          values: [{ time: new Date(serie.value[0] * 1000).toISOString(), value: serie.value[1] }],
        }));
  const fitted = takeWithinBudget(series, budget);
  return {
    ...base,
    series: fitted.items,
    series_count: series.length,
    truncated: fitted.truncated,
    ...(fitted.truncated && { truncated_reason: 'max_bytes: the series did not fit the answer budget' }),
  };
}
