// The keyed work queue between informers and reconcilers, with client-go's semantics:
// - a key is queued at most once however often it is added (the dirty set);
// - a key handed out by get() is not handed out again until done() (the processing set), so
//   one object is never reconciled twice at once; an add meanwhile queues it again after done();
// - addAfter() waits, addRateLimited() waits by the rate limiter (per-key backoff and a shared
//   bucket), add() never waits;
// - shutDown() stops handing out keys and waits for the ones in progress.
import { systemClock, type Clock } from './clock.ts';
import { DEFAULT_RATE_LIMITER, RateLimiter, type RateLimiterOptions } from './rateLimiter.ts';

/** Where the queue reports what it does (the operator's metrics, or nothing). */
export interface WorkQueueHooks {
  /** Keys waiting to be handed out, after every change. */
  depth?(depth: number): void;
  /** A key became queued (an add of an already queued key does not count). */
  added?(): void;
  /** A rate-limited retry was scheduled. */
  retried?(): void;
  /** How long a key waited between being queued and being handed out. */
  waited?(ms: number): void;
}

export interface WorkQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiterOptions;
  hooks?: WorkQueueHooks;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #hooks: WorkQueueHooks;
  /** Keys in order, each at most once; `#head` skips handed-out entries without shifting. */
  #queue: string[] = [];
  #head = 0;
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** When each dirty key was queued, for the time-in-queue hook. */
  readonly #queuedAt = new Map<string, number>();
  /** Keys waiting out an addAfter/addRateLimited delay, and when they are due. */
  readonly #delayed = new Map<string, number>();
  #cancelTimer: (() => void) | undefined;
  #timerDueAt = Number.POSITIVE_INFINITY;
  readonly #getters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;
  readonly #drained: (() => void)[] = [];

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#limiter = new RateLimiter(options.rateLimiter ?? DEFAULT_RATE_LIMITER, () => this.#clock.now());
    this.#hooks = options.hooks ?? {};
  }

  /** Queues `key` now (never throttled). No-op when already queued or after shutDown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#queuedAt.set(key, this.#clock.now());
    this.#hooks.added?.();
    // Being processed: done() queues it again, so the object is looked at after this change.
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#handOut();
  }

  /** Queues `key` after `delayMs`; an earlier pending delay for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) return this.add(key);
    const dueAt = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending <= dueAt) return;
    this.#delayed.set(key, dueAt);
    if (dueAt < this.#timerDueAt) this.#armTimer(dueAt);
  }

  /** Queues `key` after its rate-limited retry delay (the reconcile of it failed). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#hooks.retried?.();
    this.addAfter(key, this.#limiter.when(key));
  }

  /** The key succeeded: its next failure starts the backoff from the beginning. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /** The next key to process; waits for one; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.#head < this.#queue.length) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Processing of `key` is over; if it was added meanwhile it is queued again. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#queue.push(key);
      this.#handOut();
    }
    if (this.#shuttingDown && this.#processing.size === 0)
      for (const resolve of this.#drained.splice(0)) resolve();
  }

  /** Keys queued and not yet handed out (not those in progress or delayed). */
  len(): number {
    return this.#queue.length - this.#head;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops the queue: adds are ignored, queued and delayed keys are dropped (whoever leads next
   * lists every object again), waiting get() calls return undefined. Resolves once every key
   * handed out has been marked done.
   */
  shutDown(): Promise<void> {
    this.#shuttingDown = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerDueAt = Number.POSITIVE_INFINITY;
    this.#delayed.clear();
    this.#queue = [];
    this.#head = 0;
    this.#dirty.clear();
    this.#queuedAt.clear();
    this.#hooks.depth?.(0);
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #take(): string {
    const key = this.#queue[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#processing.add(key);
    this.#dirty.delete(key);
    const queuedAt = this.#queuedAt.get(key);
    this.#queuedAt.delete(key);
    if (queuedAt !== undefined) this.#hooks.waited?.(this.#clock.now() - queuedAt);
    this.#hooks.depth?.(this.len());
    return key;
  }

  #handOut(): void {
    while (this.#getters.length > 0 && this.#head < this.#queue.length) this.#getters.shift()!(this.#take());
    this.#hooks.depth?.(this.len());
  }

  #armTimer(dueAt: number): void {
    this.#cancelTimer?.();
    this.#timerDueAt = dueAt;
    this.#cancelTimer = this.#clock.setTimer(() => this.#releaseDue(), dueAt - this.#clock.now());
  }

  /** Queues every delayed key that is due, earliest first, and re-arms for the next one. */
  #releaseDue(): void {
    this.#cancelTimer = undefined;
    this.#timerDueAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const due = [...this.#delayed].filter(([, dueAt]) => dueAt <= now).sort((a, b) => a[1] - b[1]);
    for (const [key] of due) {
      this.#delayed.delete(key);
      this.add(key);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const dueAt of this.#delayed.values()) next = Math.min(next, dueAt);
    if (next < Number.POSITIVE_INFINITY) this.#armTimer(next);
  }
}
