/**
 * What a tool answer weighs, counted as it is built, so that a tool stops at MCP_MAX_RESULT_BYTES
 * (the core's limit on the JSON text of an answer) with `truncated: true` instead of building an
 * answer the core then refuses. Sizes are UTF-8 bytes of the JSON text, escapes included, which is
 * never less than what the core counts (UTF-16 units of the same text).
 */

// Characters JSON.stringify escapes (quote, backslash, controls) or writes as \uXXXX (lone surrogates).
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Bytes of `JSON.stringify(text)` without building it when nothing needs escaping. */
export function jsonStringBytes(text: string): number {
  if (!NEEDS_ESCAPE.test(text)) return Buffer.byteLength(text, 'utf8') + 2;
  return Buffer.byteLength(JSON.stringify(text), 'utf8');
}

/** Bytes of `JSON.stringify(value)`. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * The longest prefix of `text` (whole characters) whose JSON string form, quotes included, fits in
 * `maxBytes`. Binary search on the length: O(n log n) for the one line too long to keep whole.
 */
export function cutToJsonBytes(text: string, maxBytes: number): string {
  if (jsonStringBytes(text) <= maxBytes) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonStringBytes(text.slice(0, mid)) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  // Never end on the first half of a surrogate pair.
  const code = text.charCodeAt(low - 1);
  return code >= 0xd800 && code <= 0xdbff ? text.slice(0, low - 1) : text.slice(0, low);
}

/** A running total against a limit. */
export class ByteBudget {
  used = 0;
  constructor(readonly limit: number) {}

  get left(): number {
    return this.limit - this.used;
  }

  /** Takes `bytes` when they fit, and says whether they did. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }
}

/** Room kept for the fixed part of an answer (flags, counts, a truncation reason). */
export const ENVELOPE_BYTES = 512;

export const bytesReason = (limit: number) =>
  `the answer reached the MCP_MAX_RESULT_BYTES budget (${limit} bytes); ask for less (a narrower path or pattern, a line range)`;
