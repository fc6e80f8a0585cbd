/**
 * A circuit breaker per server. After `threshold` consecutive failures to reach the server it
 * opens: calls fail at once, without waiting for a connect timeout, for `cooldownMs`. Then one call
 * is let through (half-open): its success closes the breaker, its failure opens it again. Only
 * failures to reach the server count; a statement the server refuses is an answer.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSnapshot {
  state: BreakerState;
  consecutive_failures: number;
  /** When an open breaker lets the next trial call through (ISO time), or null. */
  retry_at: string | null;
  last_error: string | null;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trial = false;
  private lastError: string | null = null;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half_open' : 'open';
  }

  /** Whether a call may go to the server now; in half-open state only one trial call at a time. */
  tryAcquire(): { ok: true } | { ok: false; retryInMs: number } {
    const state = this.state;
    if (state === 'closed') return { ok: true };
    if (state === 'half_open' && !this.trial) {
      this.trial = true;
      return { ok: true };
    }
    const retryInMs = Math.max(0, (this.openedAt ?? 0) + this.cooldownMs - this.now());
    return { ok: false, retryInMs };
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.trial = false;
    this.lastError = null;
  }

  failure(message: string): void {
    this.failures += 1;
    this.lastError = message;
    if (this.trial || this.failures >= this.threshold) this.openedAt = this.now();
    this.trial = false;
  }

  /** A call that ended without saying whether the server is reachable (cancelled, refused statement). */
  release(): void {
    this.trial = false;
  }

  snapshot(): BreakerSnapshot {
    const state = this.state;
    return {
      state,
      consecutive_failures: this.failures,
      retry_at:
        state === 'open' && this.openedAt !== null ? new Date(this.openedAt + this.cooldownMs).toISOString() : null,
      last_error: this.lastError,
    };
  }
}
