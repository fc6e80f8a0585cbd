import { type IncomingMessage, ServerResponse } from 'node:http';

/** How much a stream may hold back for a client that does not read, and for how long. */
export interface SlowConsumerLimits {
  /** MCP_SSE_MAX_BUFFER_BYTES: a write that finds more than this still unsent closes the stream instead. */
  maxBufferedBytes: number;
  /** MCP_SSE_STALL_TIMEOUT_MS: unsent data that has not drained for this long closes the stream (0 = never). */
  stallTimeoutMs: number;
}

export type SlowConsumerCut = { reason: 'buffer' | 'stall'; bufferedBytes: number };

type WriteCallback = (error?: Error | null) => void;

interface StreamLimit {
  limits: SlowConsumerLimits;
  onCut: (cut: SlowConsumerCut) => void;
  stall: NodeJS.Timeout | undefined;
  cut: boolean;
}

/**
 * The core's responses (the HTTP server is created with `ServerResponse: LimitedServerResponse`):
 * `write` checks the stream's limit when limitSlowConsumer has set one. A subclass rather than a
 * `write` assigned on each stream: an own property gives some responses another hidden class in code
 * that every response runs through, and one class keeps node's http internals monomorphic.
 */
export class LimitedServerResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Set on the responses that may become streams; undefined (and free) on every other. */
  slowConsumerLimit: StreamLimit | undefined = undefined;

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const limit = this.slowConsumerLimit;
    // node's write takes (chunk, callback) and (chunk, encoding, callback) and sorts them out itself.
    if (limit === undefined) return super.write(chunk, encoding as BufferEncoding, callback as WriteCallback);
    if (limit.cut || this.destroyed) return false;
    if (this.writableLength > limit.limits.maxBufferedBytes) {
      cutStream(this, limit, 'buffer');
      return false;
    }
    const flowing = super.write(chunk, encoding as BufferEncoding, callback as WriteCallback);
    if (!flowing && limit.stall === undefined && limit.limits.stallTimeoutMs > 0) {
      // Listeners only while something waits: the common stream never backs up and pays for none.
      const clear = () => {
        clearTimeout(limit.stall);
        limit.stall = undefined;
        this.off('drain', clear);
        this.off('close', clear);
      };
      limit.stall = setTimeout(() => cutStream(this, limit, 'stall'), limit.limits.stallTimeoutMs);
      limit.stall.unref();
      this.once('drain', clear);
      this.once('close', clear);
    }
    return flowing;
  }
}

function cutStream(res: ServerResponse, limit: StreamLimit, reason: SlowConsumerCut['reason']): void {
  if (limit.cut) return;
  limit.cut = true;
  clearTimeout(limit.stall);
  limit.stall = undefined;
  limit.onCut({ reason, bufferedBytes: res.writableLength });
  res.destroy();
}

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
 *
 * Only the core's server makes responses that can carry the limit (LimitedServerResponse); others
 * (fastify.inject's, which have no socket to back up) are left as they are. A second call on the
 * same response keeps the first limit.
 */
export function limitSlowConsumer(
  res: ServerResponse,
  limits: SlowConsumerLimits,
  onCut: (cut: SlowConsumerCut) => void,
): void {
  if (!(res instanceof LimitedServerResponse)) return;
  if (res.slowConsumerLimit) return;
  res.slowConsumerLimit = { limits, onCut, stall: undefined, cut: false };
}
