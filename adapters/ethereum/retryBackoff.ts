// Exponential backoff with "full jitter": many workers that fail together against
// one node must not retry together, or they hit it again in lockstep.

export interface BackoffPolicy {
  /** Delay cap of the first retry, in milliseconds. */
  baseDelayMs: number;
  /** No delay exceeds this, however many attempts failed. */
  maxDelayMs: number;
}

export const defaultBackoffPolicy: BackoffPolicy = { baseDelayMs: 200, maxDelayMs: 10_000 };

/**
 * Delay before retry number `retry` (1 = first retry): a uniform draw in
 * [cap/2, cap] where cap = min(max, base * 2^(retry-1)). Keeping half the cap
 * as a floor avoids near-zero delays that would hammer a struggling node.
 * `random` returns [0, 1), injected so tests can pin it.
 */
export function backoffDelayMs(policy: BackoffPolicy, retry: number, random: () => number): number {
  if (!Number.isInteger(retry) || retry < 1)
    throw new RangeError(`retry must be an integer >= 1, got ${retry}`);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.round(cap / 2 + (cap / 2) * draw);
}

/** The server's own `Retry-After` (seconds or an HTTP date) when it sent one, capped by the policy. */
export function retryAfterMs(header: string | null, now: number, policy: BackoffPolicy): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, policy.maxDelayMs);
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(date - now, 0), policy.maxDelayMs);
}
