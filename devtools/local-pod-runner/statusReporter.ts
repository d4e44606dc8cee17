// Coalesces a pod's status writes: any number of changes while a write is in
// flight become one more write of the latest state. A failed write is retried
// with capped back-off; a pod that is gone ends the reporter.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';

const STATUS_RETRY_BACKOFF: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 30_000, jitter: true };

/** Sends the current status; 'gone' when the pod no longer exists (or is another pod now). */
export type SendStatus = () => Promise<'sent' | 'gone'>;

export class StatusReporter {
  private readonly send: SendStatus;
  private readonly log: Logger;
  private dirty = false;
  private active: Promise<void> | undefined;
  private gone = false;

  constructor(send: SendStatus, log: Logger) {
    this.send = send;
    this.log = log;
  }

  schedule(): void {
    if (this.gone) return;
    this.dirty = true;
    this.active ??= this.drain();
  }

  /** Resolves once every scheduled change was written (or the pod is gone). */
  async flush(): Promise<void> {
    while (this.active) await this.active;
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.dirty && !this.gone) {
      this.dirty = false;
      try {
        if ((await this.send()) === 'gone') this.gone = true;
        failures = 0;
      } catch (error) {
        failures++;
        this.dirty = true;
        this.log.warn({ err: error, failures }, 'pod status write failed; retrying');
        await sleep(backoffDelayMs(STATUS_RETRY_BACKOFF, failures));
      }
    }
    // No await between the loop's last check and here, so a schedule() cannot slip through.
    this.active = undefined;
  }
}
