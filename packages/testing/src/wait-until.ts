/**
 * Polls `condition` until it holds (tests wait for what they need, never for a fixed time). Rejects
 * with `what` once `timeoutMs` passes: a generous bound for "it did not happen", not a timing check.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 5000, intervalMs = 5 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
