import { median, type Row } from './measure.js';

/** A ratio of two rows' throughput, with the goal it is held to (none: reported only). */
export interface RatioSpec {
  name: string;
  numerator: string;
  denominator: string;
  goal?: number;
}

export interface Ratio extends RatioSpec {
  /** Throughput ratio: the median of paired slice ratios. */
  value: number | null;
  /**
   * The same comparison by server CPU per call (denominator's / numerator's): what each would do
   * with a whole core to itself. Null when a side has no server process (pg in the generator).
   */
  cpu_value: number | null;
  verdict: 'PASS' | 'FAIL' | 'INFO' | 'SKIP';
}

export const RATIOS: RatioSpec[] = [
  {
    name: 'core /rpc vs bare node:http echo',
    numerator: 'core/rpc/request',
    denominator: 'echo/http/request',
    // issue 16's goal (0.30 until 2026-12-01, when the core's per-call GC retention went)
    goal: 0.5,
  },
  {
    name: 'core /sse vs SDK SSE, long-lived sessions',
    numerator: 'core/sse/session',
    denominator: 'sdk/sse/session',
    goal: 1,
  },
  {
    name: 'core /sse vs SDK SSE, session per call',
    numerator: 'core/sse/per-call',
    denominator: 'sdk/sse/per-call',
    goal: 1,
  },
  {
    name: 'core /mcp vs SDK Streamable HTTP, long-lived sessions',
    numerator: 'core/streamable-http/session',
    denominator: 'sdk/streamable-http/session',
    goal: 1,
  },
  {
    name: 'core /mcp vs SDK Streamable HTTP, session per call',
    numerator: 'core/streamable-http/per-call',
    denominator: 'sdk/streamable-http/per-call',
    goal: 1,
  },
  {
    name: 'filesystem read_file /sse vs supergateway SSE',
    numerator: 'filesystem/sse/session',
    denominator: 'supergateway/sse/session',
    goal: 3,
  },
  {
    name: 'filesystem read_file /mcp vs supergateway Streamable HTTP',
    numerator: 'filesystem/streamable-http/session',
    denominator: 'supergateway/streamable-http/session',
    goal: 3,
  },
  {
    name: 'postgres execute_sql /mcp vs pg directly',
    numerator: 'postgres/streamable-http/session',
    denominator: 'pg/pg/request',
    goal: 0.25,
  },
  {
    name: 'postgres execute_sql /rpc vs pg directly',
    numerator: 'postgres/rpc/request',
    denominator: 'pg/pg/request',
    goal: 0.25,
  },
];

export function computeRatios(rows: Row[]): Ratio[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const out: Ratio[] = [];
  for (const spec of RATIOS) {
    const a = byId.get(spec.numerator);
    const b = byId.get(spec.denominator);
    if (!a && !b) continue; // section not run
    const usable = (row: Row | undefined) => row && !row.skipped && row.errors === 0 && row.rps > 0;
    if (!usable(a) || !usable(b)) {
      out.push({ ...spec, value: null, cpu_value: null, verdict: 'SKIP' });
      continue;
    }
    const value = Math.round(pairedRatio(a!, b!) * 100) / 100;
    const cpuA = a!.server_cpu_us_per_call;
    const cpuB = b!.server_cpu_us_per_call;
    const cpu_value = cpuA && cpuB ? Math.round((cpuB / cpuA) * 100) / 100 : null;
    const verdict = spec.goal === undefined ? 'INFO' : value >= spec.goal ? 'PASS' : 'FAIL';
    out.push({ ...spec, value, cpu_value, verdict });
  }
  return out;
}

/**
 * Targets of one group took turns, so slice i of one and slice i of the other ran back to back
 * under the same conditions: the median of those paired ratios is the fairest estimate.
 */
function pairedRatio(a: Row, b: Row): number {
  const n = Math.min(a.slice_rps.length, b.slice_rps.length);
  const pairs: number[] = [];
  for (let i = 0; i < n; i += 1) if (b.slice_rps[i]! > 0) pairs.push(a.slice_rps[i]! / b.slice_rps[i]!);
  return pairs.length > 0 ? median(pairs) : a.rps / b.rps;
}

const pad = (text: string, width: number, right = false) => (right ? text.padStart(width) : text.padEnd(width));
const num = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const pct = (value: number | null) => (value === null ? '-' : `${Math.round(value * 100)}%`);

export function formatTable(rows: Row[]): string {
  const header = ['target', 'shape', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server cpu', 'cpu us/call', 'gen cpu'];
  const widths = [30, 9, 8, 8, 8, 7, 10, 11, 8];
  const lines = [header.map((h, i) => pad(h, widths[i]!, i >= 2)).join(' ')];
  lines.push(widths.map((w) => '-'.repeat(w)).join(' '));
  let section = '';
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      lines.push(`[${section}]`);
    }
    if (row.skipped) {
      lines.push(`${pad(row.label, widths[0]!)} ${pad(row.shape, widths[1]!)} skipped: ${row.skipped}`);
      continue;
    }
    lines.push(
      [
        pad(row.label, widths[0]!),
        pad(row.shape, widths[1]!),
        pad(num(row.rps), widths[2]!, true),
        pad(num(row.p50_ms, 2), widths[3]!, true),
        pad(num(row.p99_ms, 2), widths[4]!, true),
        pad(String(row.errors), widths[5]!, true),
        pad(pct(row.server_cpu), widths[6]!, true),
        pad(row.server_cpu_us_per_call === null ? '-' : String(row.server_cpu_us_per_call), widths[7]!, true),
        pad(pct(row.generator_cpu), widths[8]!, true),
      ].join(' '),
    );
    if (row.first_error) lines.push(`    first error: ${row.first_error}`);
  }
  return lines.join('\n');
}

export function formatRatios(ratios: Ratio[]): string {
  return ratios
    .map((r) => {
      const value = r.value === null ? 'n/a' : `${r.value.toFixed(2)}x`;
      const goal = r.goal === undefined ? '' : ` (goal >= ${r.goal.toFixed(2)})`;
      const cpu = r.cpu_value === null ? '' : `; by server CPU per call ${r.cpu_value.toFixed(2)}x`;
      return `${r.verdict.padEnd(4)} ${r.name}: ${value}${goal}${cpu}`;
    })
    .join('\n');
}
