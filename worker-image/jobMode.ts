// Job mode: the pods of a ModelRun's Indexed Job. Each pod gets the run (WORKER_RUN) and its
// JOB_COMPLETION_INDEX, and derives its batch with the same pure planning the operator used to
// size the Job: the index-th batch of the run's range by the chain's batch sizes. No batch list
// travels to pods. Retries belong to the Job (backoffLimitPerIndex = maxRetriesPerBatch), so a
// pod makes one attempt: 0 when its batch is complete (succeeded or already done), 1 when it
// failed or was interrupted, so Kubernetes retries the index.
import { type BatchMessage, batchMessageFor, type RunRequest } from '../contract/batchMessage.ts';
import type { BlockBatch } from '../dataplane/batches.ts';
import { type Chains, planChainBatches, requireChain } from '../dataplane/chains.ts';
import { attemptBatch, batchLogFields, recordFailedForGood, type AttemptDeps } from './batchAttempt.ts';

export class JobRunError extends Error {
  override name = 'JobRunError';
}

/**
 * The batches this pod works: the run's batch at the completion index, or every batch of the
 * run without one (a single pod working a whole run, as the benchmark does).
 */
export function jobBatches(
  run: RunRequest,
  chains: Chains,
  completionIndex: number | undefined,
): BlockBatch[] {
  const batches = planChainBatches(requireChain(chains, run.chain), run.range);
  if (completionIndex === undefined) return batches;
  const batch = batches[completionIndex];
  if (!batch) {
    throw new JobRunError(
      `JOB_COMPLETION_INDEX ${completionIndex} is beyond the run's ${batches.length} batches`,
    );
  }
  return [batch];
}

export type JobBatchResult = {
  batchId: string;
  result: 'succeeded' | 'skipped' | 'failed' | 'interrupted';
  error?: string;
};

/**
 * Works the batches once each, in order, up to `concurrency` at a time (a pod working a whole
 * run; an Indexed Job's pod has one batch). The first batch that does not complete stops the
 * start of any other; those already under way finish. Results are in batch order, for the
 * batches that were started.
 */
export async function runJobBatches(
  run: RunRequest,
  batches: readonly BlockBatch[],
  attempt: number,
  signal: AbortSignal,
  deps: AttemptDeps,
  concurrency = 1,
): Promise<{ complete: boolean; results: JobBatchResult[] }> {
  const slots: (JobBatchResult | undefined)[] = new Array(batches.length);
  let next = 0;
  let stopped = false;
  const work = async (): Promise<void> => {
    while (!stopped && next < batches.length) {
      const index = next++;
      const message = batchMessageFor(run, batches[index]!, deps.clock(), attempt);
      const result = await jobBatch(message, signal, deps);
      slots[index] = result;
      if (result.result !== 'succeeded' && result.result !== 'skipped') stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batches.length)) }, work));
  const results = slots.filter((result): result is JobBatchResult => result !== undefined);
  const complete =
    results.length === batches.length &&
    results.every((entry) => entry.result === 'succeeded' || entry.result === 'skipped');
  return { complete, results };
}

/** One batch, once: its outcome, a failure recorded for good (the Job decides on a retry). */
async function jobBatch(
  message: BatchMessage,
  signal: AbortSignal,
  deps: AttemptDeps,
): Promise<JobBatchResult> {
  if (signal.aborted) return { batchId: message.batchId, result: 'interrupted' };
  const result = await attemptBatch(message, signal, deps);
  if (result.kind === 'done') return { batchId: message.batchId, result: result.outcome };
  if (result.kind === 'interrupted') return { batchId: message.batchId, result: 'interrupted' };
  // The Job decides whether the index is tried again; the run's failed list shows why it failed.
  const error = `${result.failure.reason}: ${result.failure.message}`;
  const logger = deps.logger.child(batchLogFields(message));
  await recordFailedForGood(deps, logger, message, error, message.attempt, 'failed');
  logger.error({ reason: result.failure.reason, err: result.failure.message }, 'batch failed');
  return { batchId: message.batchId, result: 'failed', error };
}
