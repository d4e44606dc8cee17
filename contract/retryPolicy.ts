// What happens to a batch after a failed attempt: wait in a retry tier and try again, or give up
// and go to the dead-letter queue. Pure, so the schedule is a table in the unit tests.

/** Default waits between attempts: quick for a blip, minutes for an outage. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000];

export type AfterFailure =
  | { kind: 'retry'; delayMs: number; nextAttempt: number }
  | { kind: 'deadLetter'; reason: 'retriesExhausted' | 'notRetryable' };

/** Checks a retry tier list: non-empty, positive integers, strictly increasing (each tier is a queue). */
export function assertRetryDelays(delaysMs: readonly number[]): readonly number[] {
  if (delaysMs.length === 0) throw new Error('retry delays must not be empty');
  delaysMs.forEach((delay, index) => {
    if (!Number.isSafeInteger(delay) || delay <= 0) throw new Error(`invalid retry delay ${delay}`);
    if (index > 0 && delay <= delaysMs[index - 1]!)
      throw new Error('retry delays must be strictly increasing');
  });
  return delaysMs;
}

/** Parses `WORKER_RETRY_DELAYS_MS="5000,30000"`. */
export function parseRetryDelays(text: string): readonly number[] {
  const delays = text.split(',').map((part) => {
    const trimmed = part.trim();
    if (!/^[0-9]{1,10}$/.test(trimmed)) throw new Error(`invalid retry delay ${JSON.stringify(part)}`);
    return Number(trimmed);
  });
  return assertRetryDelays(delays);
}

/** The wait before attempt `failedAttempt + 1`: one tier per failure, the last tier repeats. */
export function retryDelayFor(failedAttempt: number, delaysMs: readonly number[]): number {
  const index = Math.min(Math.max(failedAttempt, 1), delaysMs.length) - 1;
  return delaysMs[index]!;
}

/**
 * `attempt` counts deliveries from 1; `maxRetries` is how many times a batch may be tried again
 * after its first failure, so a batch gets at most `maxRetries + 1` attempts.
 */
export function afterFailure(
  attempt: number,
  maxRetries: number,
  retryable: boolean,
  delaysMs: readonly number[],
): AfterFailure {
  if (!retryable) return { kind: 'deadLetter', reason: 'notRetryable' };
  if (attempt > maxRetries) return { kind: 'deadLetter', reason: 'retriesExhausted' };
  return { kind: 'retry', delayMs: retryDelayFor(attempt, delaysMs), nextAttempt: attempt + 1 };
}
