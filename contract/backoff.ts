// The one exponential backoff every retry loop of the project uses: JSON-RPC calls, the AMQP
// reconnect, informer restarts, the operator's work queue, pod restarts in the local pod
// runner. Many clients that fail together against one server must not retry together, so a
// policy may add jitter; a few (pod restarts, as a kubelet does) want the plain doubling.

export interface BackoffPolicy {
  /** Delay cap of the first retry, in milliseconds. */
  baseDelayMs: number;
  /** No delay exceeds this, however many attempts failed. */
  maxDelayMs: number;
  /**
   * With jitter, a delay is a uniform draw in [cap/2, cap]: spread out, yet never near zero,
   * which would hammer a struggling server. Without it, the delay is the cap itself.
   */
  jitter: boolean;
}

/**
 * Delay before retry number `retry` (1 = first retry): cap = min(max, base * 2^(retry-1)),
 * drawn in [cap/2, cap] with jitter. `random` returns [0, 1), injected so tests can pin it.
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(retry) || retry < 1)
    throw new RangeError(`retry must be an integer >= 1, got ${retry}`);
  // The exponent is bounded so a long outage cannot overflow to Infinity.
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  if (!policy.jitter) return cap;
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.round(cap / 2 + (cap / 2) * draw);
}
