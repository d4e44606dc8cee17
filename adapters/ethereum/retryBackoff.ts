// How long a JSON-RPC client waits before trying again: the project's one exponential
// backoff (contract/backoff.ts), or the server's own Retry-After when it sends one.
import type { BackoffPolicy } from '../../contract/backoff.ts';

export { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';

/** JSON-RPC retries: quick for a blip, at most 10 s apart, jittered so workers spread out. */
export const defaultBackoffPolicy: BackoffPolicy = { baseDelayMs: 200, maxDelayMs: 10_000, jitter: true };

/** The server's own `Retry-After` (seconds or an HTTP date) when it sent one, capped by the policy. */
export function retryAfterMs(header: string | null, now: number, policy: BackoffPolicy): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, policy.maxDelayMs);
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(date - now, 0), policy.maxDelayMs);
}
