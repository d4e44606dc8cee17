// How long a failed key waits before its next try, as client-go's default controller rate
// limiter decides: the larger of a per-key exponential backoff (5 ms doubling to 1,000 s) and
// a token bucket shared by all keys (10 per second, burst 100). The bucket keeps a mass
// failure (the API server down, every key failing at once) from retrying thousands of keys in
// a burst; it applies to retries only, so new objects are never held back.
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';

export interface RateLimiterOptions {
  perKey: BackoffPolicy;
  /** Tokens added per second to the shared bucket. */
  qps: number;
  /** Bucket size: this many retries pass at once before the rate applies. */
  burst: number;
}

export const DEFAULT_RATE_LIMITER: RateLimiterOptions = {
  perKey: { baseDelayMs: 5, maxDelayMs: 1_000_000, jitter: false },
  qps: 10,
  burst: 100,
};

/**
 * A token bucket with reservations (golang.org/x/time/rate's Reserve): every call takes a
 * token, going into debt when none is left, and waits until the debt would be repaid.
 */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #lastMs: number;

  constructor(qps: number, burst: number, now: () => number) {
    if (!(qps > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs qps > 0 and burst >= 1`);
    this.#qps = qps;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#lastMs = now();
  }

  /** Takes one token; returns how long to wait before using it (0 when one was there). */
  reserve(): number {
    const now = this.#now();
    const elapsedMs = Math.max(0, now - this.#lastMs);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsedMs * this.#qps) / 1000);
    this.#lastMs = Math.max(this.#lastMs, now);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }
}

export class RateLimiter {
  readonly #perKey: BackoffPolicy;
  readonly #bucket: TokenBucket;
  readonly #failures = new Map<string, number>();

  constructor(options: RateLimiterOptions, now: () => number) {
    this.#perKey = options.perKey;
    this.#bucket = new TokenBucket(options.qps, options.burst, now);
  }

  /** Counts one more failure of `key` and returns the delay before its retry. */
  when(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    return Math.max(backoffDelayMs(this.#perKey, failures), this.#bucket.reserve());
  }

  /** The key succeeded: its next failure starts the backoff over. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Failures of `key` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}
