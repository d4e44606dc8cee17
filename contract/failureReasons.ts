// Why a batch attempt failed, in one fixed vocabulary: the worker's metrics label, the
// dead-letter header, the run's failed-batch list and the operator's status all use it.
// Whether another attempt can help is part of the reason, so nobody decides it twice.

export const FAILURE_REASONS = {
  /** Not a valid message, or blocks that are not one of the chain's batches. */
  malformed: { retryable: false },
  /** A model or version this worker does not have. */
  unknownModel: { retryable: false },
  /** A lane queue carrying another chain's batch. */
  misrouted: { retryable: false },
  /** A chain not configured, or a model that needs its RPC endpoint and the env var is unset. */
  unknownChain: { retryable: false },
  /** The inputs are not committed yet, or the blocks are not below the safe tip. */
  notReady: { retryable: true },
  rpc: { retryable: true },
  lake: { retryable: true },
  clickhouse: { retryable: true },
  kafka: { retryable: true },
  redis: { retryable: true },
  model: { retryable: true },
  /** The worker stopped mid-batch and handed it back; the attempt does not count. */
  shutdown: { retryable: true },
  other: { retryable: true },
} as const satisfies Record<string, { retryable: boolean }>;

export type FailureReason = keyof typeof FAILURE_REASONS;

export const FAILURE_REASON_NAMES = Object.keys(FAILURE_REASONS) as FailureReason[];

export function isRetryableReason(reason: FailureReason): boolean {
  return FAILURE_REASONS[reason].retryable;
}
