import { isDeepStrictEqual } from 'node:util';

import { type ClientTransportKind, connectClient } from '../connect-client.js';
import { isAlive } from '../is-alive.js';
import type { ServiceProcess } from '../service-process.js';
import type { FuzzSettings } from './fuzz-settings.js';
import type { ArgumentHints } from './schema-arbitrary.js';
import { errorsWithCause, type HttpExchange, recordingFetch } from './service-logs.js';
import { describeSlowest, fuzzTools, type ListedTool, type ToolFuzzReport } from './tool-fuzz.js';

export interface ServiceFuzzOptions {
  /** The service under test, a real process (its output is where the causes of 5xx must be). */
  service: ServiceProcess;
  settings: FuzzSettings;
  /** The test file, for the replay hint. */
  file: string;
  /** Each call's bound (default 15 s, above the MCP_TOOL_TIMEOUT_MS the suites give the service). */
  callTimeoutMs?: number;
  transport?: ClientTransportKind;
  hints?: ArgumentHints | ((tool: ListedTool) => ArgumentHints);
  runsFor?: (tool: ListedTool, runs: number) => number;
  /** Which tools to fuzz (default: every listed tool). */
  select?: (tool: ListedTool) => boolean;
  /**
   * Everything outside the service that the calls must leave as it was (tables, a directory tree
   * with hashes): taken before and after, and compared exactly.
   */
  dump?: () => Promise<unknown>;
}

export interface ServiceFuzzResult {
  report: ToolFuzzReport;
  exchanges: HttpExchange[];
  /** Tools, calls by outcome and the slowest calls, for the suite to print. */
  summary: string;
}

/**
 * Fuzzes every tool of a running service process through a real MCP client, then checks what must
 * hold after any input: the process is alive, /health answers 200, every HTTP 5xx (and every
 * "Internal error" answer) left an error log line with a cause, and `dump` is unchanged.
 */
export async function fuzzService(options: ServiceFuzzOptions): Promise<ServiceFuzzResult> {
  const { service } = options;
  const exchanges: HttpExchange[] = [];
  const client = await connectClient(service.url, options.transport ?? 'streamable-http', {
    fetch: recordingFetch(exchanges),
    name: 'fuzz',
  });
  try {
    const tools = (await client.listTools()).tools.filter(options.select ?? (() => true));
    if (tools.length === 0) throw new Error('the service lists no tools to fuzz');
    const before = options.dump === undefined ? undefined : await options.dump();
    const report = await fuzzTools({
      client,
      tools,
      settings: options.settings,
      file: options.file,
      callTimeoutMs: options.callTimeoutMs ?? 15_000,
      hints: options.hints,
      runsFor: options.runsFor,
      afterCall: (call) => {
        if (!isAlive(service.pid)) throw new Error(`the service died after ${call.tool}(${JSON.stringify(call.args)})`);
      },
    });

    const health = await fetch(new URL('/health', service.url), { signal: AbortSignal.timeout(10_000) });
    if (health.status !== 200)
      throw new Error(`/health answered ${health.status} after the fuzz: ${await health.text()}`);

    const failures = exchanges.filter((exchange) => exchange.status >= 500);
    const causes = errorsWithCause(service.output());
    if (failures.length + report.internal.length > causes.length) {
      throw new Error(
        `${failures.length} HTTP 5xx and ${report.internal.length} "Internal error" answers, but only ${causes.length} error log lines with a cause:\n` +
          `${JSON.stringify(failures.slice(0, 5))}\n${report.internal
            .slice(0, 5)
            .map((call) => `${call.tool}(${JSON.stringify(call.args).slice(0, 300)})`)
            .join('\n')}`,
      );
    }

    if (options.dump !== undefined) {
      const after = await options.dump();
      if (!isDeepStrictEqual(after, before)) {
        throw new Error(
          `data changed under a read-only configuration:\nbefore ${JSON.stringify(before).slice(0, 2000)}\nafter  ${JSON.stringify(after).slice(0, 2000)}`,
        );
      }
    }

    const summary =
      `${tools.length} tools, ${report.calls.length} calls (seed ${options.settings.seed}, ${options.settings.runs} runs per tool): ` +
      `${report.counts.result} results, ${report.counts['tool-error']} tool errors, ${report.counts['protocol-error']} protocol errors, ` +
      `${report.internal.length} internal errors, ${failures.length} HTTP 5xx\nslowest:\n${describeSlowest(report)}`;
    return { report, exchanges, summary };
  } finally {
    await client.close().catch(() => undefined);
  }
}
