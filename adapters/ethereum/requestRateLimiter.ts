// A token bucket in front of the node: providers meter JSON-RPC calls per second,
// so every call (including each call inside a batch) takes one token.

export interface RateLimiterClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: RateLimiterClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export class RequestRateLimiter {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  readonly #clock: RateLimiterClock;
  #tokens: number;
  #updatedAt: number;
  /** Callers queue in order, so a large batch cannot be starved by small ones. */
  #queue: Promise<void> = Promise.resolve();

  /** `requestsPerSecond` ≤ 0 or Infinity disables the limit. `burst` defaults to one second's worth. */
  constructor(requestsPerSecond: number, burst: number | undefined, clock: RateLimiterClock = systemClock) {
    this.#ratePerMs =
      requestsPerSecond > 0 && Number.isFinite(requestsPerSecond) ? requestsPerSecond / 1000 : 0;
    this.#capacity = Math.max(1, burst ?? Math.ceil(requestsPerSecond));
    this.#clock = clock;
    this.#tokens = this.#capacity;
    this.#updatedAt = clock.now();
  }

  get isUnlimited(): boolean {
    return this.#ratePerMs === 0;
  }

  /**
   * Waits until `count` calls may be sent. A batch larger than the bucket waits for a
   * full bucket and then goes into debt, which later callers pay back by waiting.
   */
  acquire(count: number, signal?: AbortSignal): Promise<void> {
    if (this.isUnlimited) return Promise.resolve();
    const turn = this.#queue.then(() => this.#take(count, signal));
    // A caller aborted while waiting must not block the ones behind it.
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #take(count: number, signal?: AbortSignal): Promise<void> {
    const needed = Math.min(count, this.#capacity);
    for (;;) {
      this.#refill();
      if (this.#tokens >= needed) {
        this.#tokens -= count;
        return;
      }
      await this.#clock.sleep(Math.ceil((needed - this.#tokens) / this.#ratePerMs), signal);
    }
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
