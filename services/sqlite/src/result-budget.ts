/**
 * The byte budget of one answer (MCP_MAX_RESULT_BYTES): tools that return lists add items one by
 * one while the answer's JSON stays within the budget, then stop and say why. Measured in UTF-8
 * bytes of JSON, never less than the core's own measure (the UTF-16 length of the same text), so a
 * budgeted answer always passes the core's last-resort check.
 */

/** Room kept for what the envelope holds once filled in: counts, `truncated`, the reason text. */
const RESERVED_BYTES = 1024;

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

/**
 * The least a row of raw SQLite values can weigh as JSON, without converting it: a string's JSON is
 * at least as long as the string, a blob's base64 is 4/3 of its bytes. Lets a huge value be turned
 * away before it is copied into base64 or JSON text.
 */
export function rowBytesAtLeast(values: readonly unknown[]): number {
  let size = 0;
  for (const value of values) {
    if (typeof value === 'string') size += value.length + 2;
    else if (Buffer.isBuffer(value)) size += Math.ceil(value.length / 3) * 4;
    else size += 1;
  }
  return size;
}

export class ByteBudget {
  private used: number;

  /** `envelope` is the answer with its lists empty: what every answer costs before its items. */
  constructor(
    readonly limit: number,
    envelope: unknown,
  ) {
    this.used = jsonBytes(envelope) + RESERVED_BYTES;
  }

  /** Bytes still free for items. */
  get remaining(): number {
    return Math.max(0, this.limit - this.used);
  }

  /** Whether an item of `bytes` (plus its comma) fits; counts it when it does. */
  take(bytes: number): boolean {
    if (this.used + bytes + 1 > this.limit) return false;
    this.used += bytes + 1;
    return true;
  }
}

/** The sentence that explains a cut made by the byte budget. */
export function budgetReason(limit: number, kept: number, what: string, hint: string): string {
  return `The answer stops at MCP_MAX_RESULT_BYTES (${limit} bytes of JSON) after ${kept} ${what}; ${hint}`;
}
