/**
 * Fitting lists into the answer budget (MCP_MAX_RESULT_BYTES less room for the envelope): items are
 * taken in order while their JSON fits, so an answer is never refused for its size; `truncated`
 * says some were left out.
 */

/** Room kept for the fields around the list (window, counts, notes) within MCP_MAX_RESULT_BYTES. */
export const ENVELOPE_BYTES = 8 * 1024;

export function answerBudget(maxResultBytes: number, requested?: number): number {
  const budget = Math.max(1024, maxResultBytes - ENVELOPE_BYTES);
  return requested === undefined ? budget : Math.min(budget, requested);
}

export function takeWithinBudget<T>(items: readonly T[], budgetBytes: number): { items: T[]; truncated: boolean } {
  const out: T[] = [];
  let used = 2;
  for (const item of items) {
    const size = JSON.stringify(item).length + 1;
    if (used + size > budgetBytes) return { items: out, truncated: true };
    used += size;
    out.push(item);
  }
  return { items: out, truncated: false };
}

/** Runs `work` over `items` with at most `concurrency` at once, keeping the order of `items`. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
