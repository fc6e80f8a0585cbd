import type { ServerResponse } from 'node:http';

/** How much a stream may hold back for a client that does not read, and for how long. */
export interface SlowConsumerLimits {
  /** MCP_SSE_MAX_BUFFER_BYTES: a write that finds more than this still unsent closes the stream instead. */
  maxBufferedBytes: number;
  /** MCP_SSE_STALL_TIMEOUT_MS: unsent data that has not drained for this long closes the stream (0 = never). */
  stallTimeoutMs: number;
}

export type SlowConsumerCut = { reason: 'buffer' | 'stall'; bufferedBytes: number };

/**
 * Bounds what one SSE response holds in memory for a client that stopped reading (its TCP window is
 * full, so every write queues in the process): node:http buffers without limit, and a stream that
 * carries answers and keepalives would grow until the process runs out of memory.
 *
 * Two rules, both closing the response (which ends its session's stream, as a hang-up does):
 * - a write that finds more than `maxBufferedBytes` unsent is refused and the stream closed, so a
 *   stream never holds more than that plus the one message before it;
 * - once a write is queued behind a full socket, the socket must drain within `stallTimeoutMs`.
 * The unsent count is `res.writableLength`: the response's own queue plus its socket's.
 */
export function limitSlowConsumer(
  res: ServerResponse,
  limits: SlowConsumerLimits,
  onCut: (cut: SlowConsumerCut) => void,
): void {
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  let stall: NodeJS.Timeout | undefined;
  let cut = false;
  const clear = () => {
    clearTimeout(stall);
    stall = undefined;
  };
  const close = (reason: SlowConsumerCut['reason']) => {
    if (cut) return;
    cut = true;
    clear();
    onCut({ reason, bufferedBytes: res.writableLength });
    res.destroy();
  };
  res.on('drain', clear);
  res.once('close', clear);
  res.write = ((...args: unknown[]) => {
    if (cut || res.destroyed) return false;
    if (res.writableLength > limits.maxBufferedBytes) {
      close('buffer');
      return false;
    }
    const flowing = write(...args);
    if (!flowing && stall === undefined && limits.stallTimeoutMs > 0) {
      stall = setTimeout(() => close('stall'), limits.stallTimeoutMs);
      stall.unref();
    }
    return flowing;
  }) as ServerResponse['write'];
}
