// A work queue keyed by pod: one handler run per key at a time, any number of
// adds while it runs fold into one more run, and a failed run is retried with
// capped back-off. Different keys run concurrently, so one pod's slow shutdown
// never holds up another pod.
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';

const RECONCILE_RETRY_BACKOFF: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 30_000, jitter: true };

export class KeyedWorkQueue {
  private readonly handler: (key: string) => Promise<void>;
  private readonly log: Logger;
  private readonly active = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(handler: (key: string) => Promise<void>, log: Logger) {
    this.handler = handler;
    this.log = log;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.again.add(key);
      return;
    }
    const retry = this.retries.get(key);
    if (retry) {
      clearTimeout(retry);
      this.retries.delete(key);
    }
    this.active.set(key, this.process(key));
  }

  /** Stops taking work and waits for the runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    while (this.active.size > 0) await Promise.all(this.active.values());
  }

  private async process(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delayMs = backoffDelayMs(RECONCILE_RETRY_BACKOFF, failures);
      this.log.warn({ err: error, key, failures, retryInMs: delayMs }, 'reconcile failed; retrying');
      if (!this.stopped) {
        this.retries.set(
          key,
          setTimeout(() => {
            this.retries.delete(key);
            this.add(key);
          }, delayMs),
        );
      }
    } finally {
      this.active.delete(key);
      if (this.again.delete(key)) this.add(key);
    }
  }
}
