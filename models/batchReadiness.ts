// Why a batch cannot run yet. Not a failure of the batch: the worker retries it later
// (and the planner would not have sent it had it known), so these are always retryable.

export class BatchNotReadyError extends Error {
  override name = 'BatchNotReadyError';
  readonly retryable = true;
}
