import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import fc from 'fast-check';

import { type FuzzSettings, replayHint, seedFor } from './fuzz-settings.js';
import { type ArgumentHints, type JsonSchema, toolArguments } from './schema-arbitrary.js';

/** A tool as tools/list describes it (the part the fuzzer reads). */
export interface ListedTool {
  name: string;
  inputSchema: unknown;
  annotations?: { readOnlyHint?: boolean };
}

/** Tools that say they change nothing: under fuzzing, the data must be the same after them. */
export const isReadOnlyTool = (tool: ListedTool): boolean => tool.annotations?.readOnlyHint === true;

export type CallOutcome = 'result' | 'tool-error' | 'protocol-error';

export interface FuzzCall {
  tool: string;
  args: unknown;
  ms: number;
  outcome: CallOutcome;
  /** The error's message (empty for a result). */
  message: string;
}

export interface ToolFuzzOptions {
  client: Client;
  tools: readonly ListedTool[];
  settings: FuzzSettings;
  /** The test file, for the replay hint printed with a failure. */
  file: string;
  /** Each call's bound: the client gives up (and the property fails as a hang) after it. */
  callTimeoutMs: number;
  /** Known values by property name, for all tools or per tool. */
  hints?: ArgumentHints | ((tool: ListedTool) => ArgumentHints);
  /** Runs per tool when it differs from settings.runs (e.g. a tool that is slow by design). */
  runsFor?: (tool: ListedTool, runs: number) => number;
  /** Checked after every call (e.g. the process is still alive); throws to fail the property. */
  afterCall?: (call: FuzzCall) => void | Promise<void>;
}

export interface ToolFuzzReport {
  calls: FuzzCall[];
  /** The slowest calls, slowest first. */
  slowest: FuzzCall[];
  /** Calls answered "Internal error": an unexpected failure the service must have logged. */
  internal: FuzzCall[];
  counts: Record<CallOutcome, number>;
}

const REQUEST_TIMEOUT = -32001;

function shortJson(value: unknown, max = 400): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** What is wrong with one answer, or undefined: a result, or an error with a non-empty message. */
function classify(answer: unknown): { outcome: CallOutcome; message: string; problem?: string } {
  const result = answer as { content?: unknown; isError?: unknown };
  if (!Array.isArray(result.content)) return { outcome: 'result', message: '', problem: 'result without content' };
  if (result.isError !== true) return { outcome: 'result', message: '' };
  const first = result.content[0] as { type?: string; text?: unknown } | undefined;
  const text = typeof first?.text === 'string' ? first.text : '';
  return { outcome: 'tool-error', message: text, problem: text.trim() === '' ? 'isError with no message' : undefined };
}

function classifyThrown(error: unknown): { outcome: CallOutcome; message: string; problem?: string } {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  if (typeof code !== 'number')
    return { outcome: 'protocol-error', message: text, problem: `transport failed: ${text}` };
  if (code === REQUEST_TIMEOUT)
    return { outcome: 'protocol-error', message: text, problem: `no answer in time: ${text}` };
  // The SDK client checks structuredContent against the tool's output schema: a mismatch is a bug.
  if (/output schema|structured content/i.test(text))
    return { outcome: 'protocol-error', message: text, problem: text };
  const stripped = text.replace(/^MCP error -?\d+:\s*/, '');
  return {
    outcome: 'protocol-error',
    message: text,
    problem: stripped.trim() === '' ? 'error with no message' : undefined,
  };
}

/**
 * Calls every tool with arguments generated from its own input schema (well-shaped ones carrying
 * hostile strings, and ill-shaped ones), one fast-check property per tool. Each call must end in
 * time with a result, an isError result with a message, or a JSON-RPC error with a message.
 */
export async function fuzzTools(options: ToolFuzzOptions): Promise<ToolFuzzReport> {
  const calls: FuzzCall[] = [];
  for (const tool of options.tools) {
    const hints = typeof options.hints === 'function' ? options.hints(tool) : (options.hints ?? {});
    const args = toolArguments(tool.inputSchema as JsonSchema, hints);
    const runs = options.runsFor?.(tool, options.settings.runs) ?? options.settings.runs;
    const property = fc.asyncProperty(args, async (generated) => {
      const started = performance.now();
      let verdict: ReturnType<typeof classify>;
      try {
        const answer = await options.client.callTool(
          { name: tool.name, arguments: generated as Record<string, unknown> },
          undefined,
          { timeout: options.callTimeoutMs },
        );
        verdict = classify(answer);
      } catch (error) {
        verdict = classifyThrown(error);
      }
      const call: FuzzCall = {
        tool: tool.name,
        args: generated,
        ms: performance.now() - started,
        outcome: verdict.outcome,
        message: verdict.message,
      };
      calls.push(call);
      if (verdict.problem !== undefined) {
        throw new Error(`${tool.name}(${shortJson(generated)}): ${verdict.problem}`);
      }
      await options.afterCall?.(call);
    });
    const seed = seedFor(options.settings.seed, tool.name);
    try {
      await fc.assert(property, { numRuns: runs, seed, endOnFailure: !options.settings.shrink });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        `fuzz of tool ${tool.name} failed (tool seed ${seed}); ${replayHint(options.settings, options.file)}\n${message}`,
      );
    }
  }
  const counts: Record<CallOutcome, number> = { result: 0, 'tool-error': 0, 'protocol-error': 0 };
  for (const call of calls) counts[call.outcome] += 1;
  return {
    calls,
    slowest: [...calls].sort((a, b) => b.ms - a.ms).slice(0, 5),
    internal: calls.filter((call) => call.outcome === 'tool-error' && /^Internal error\b/.test(call.message)),
    counts,
  };
}

/** One line per slow call, for the suite's summary. */
export function describeSlowest(report: ToolFuzzReport): string {
  return report.slowest.map((call) => `${call.ms.toFixed(0)} ms ${call.tool}(${shortJson(call.args, 120)})`).join('\n');
}
