// Job mode: work a fixed list of batches (or, in an Indexed Job, the one at JOB_COMPLETION_INDEX)
// and exit. There is no queue to park retries on, so a failed attempt waits in-process for the
// same backoff schedule. The exit code is the Job's signal: 0 only when every batch is complete;
// an interrupted or failed batch exits non-zero so Kubernetes retries the index.
import { setTimeout as sleep } from 'node:timers/promises';
import { validateBatchMessage, type BatchMessage } from '../contract/batchMessage.ts';
import { afterFailure } from '../contract/retryPolicy.ts';
import { attemptBatch, batchLogFields, recordFailedForGood, type AttemptDeps } from './batchAttempt.ts';

export class JobBatchesError extends Error {
  override name = 'JobBatchesError';
}

/** Parses the batch list: a JSON array of batch messages, every one valid, no batch twice. */
export function parseJobBatches(text: string): BatchMessage[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (error) {
    throw new JobBatchesError(`the batch list is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(decoded) || decoded.length === 0)
    throw new JobBatchesError('the batch list must be a non-empty array');
  const seen = new Set<string>();
  return decoded.map((entry: unknown, index) => {
    const parsed = validateBatchMessage(entry);
    if (!parsed.ok) throw new JobBatchesError(`batch ${index}: ${parsed.reason}`);
    if (seen.has(parsed.message.batchId))
      throw new JobBatchesError(`batch ${index}: ${parsed.message.batchId} is listed twice`);
    seen.add(parsed.message.batchId);
    return parsed.message;
  });
}

/** The batches this pod works: all of them, or the one at the Indexed Job's completion index. */
export function selectJobBatches(
  batches: BatchMessage[],
  completionIndex: number | undefined,
): BatchMessage[] {
  if (completionIndex === undefined) return batches;
  const batch = batches[completionIndex];
  if (!batch)
    throw new JobBatchesError(
      `JOB_COMPLETION_INDEX ${completionIndex} is beyond the ${batches.length} batches`,
    );
  return [batch];
}

export type JobBatchResult = {
  batchId: string;
  result: 'succeeded' | 'skipped' | 'failed' | 'interrupted';
  error?: string;
};

export interface JobDeps extends AttemptDeps {
  retryDelaysMs: readonly number[];
}

export async function runJobBatches(
  batches: BatchMessage[],
  signal: AbortSignal,
  deps: JobDeps,
): Promise<{ complete: boolean; results: JobBatchResult[] }> {
  const results: JobBatchResult[] = [];
  for (const first of batches) {
    if (signal.aborted) {
      results.push({ batchId: first.batchId, result: 'interrupted' });
      continue;
    }
    let message = first;
    for (;;) {
      const result = await attemptBatch(message, signal, deps);
      if (result.kind === 'done') {
        results.push({ batchId: message.batchId, result: result.outcome });
        break;
      }
      if (result.kind === 'interrupted') {
        results.push({ batchId: message.batchId, result: 'interrupted' });
        break;
      }
      const logger = deps.logger.child(batchLogFields(message));
      const next = afterFailure(
        message.attempt,
        message.maxRetriesPerBatch,
        result.failure.retryable,
        deps.retryDelaysMs,
      );
      if (next.kind === 'deadLetter') {
        const error = `${result.failure.reason}: ${result.failure.message}`;
        await recordFailedForGood(deps, logger, message, error, message.attempt);
        logger.error({ reason: result.failure.reason, err: result.failure.message }, 'batch failed for good');
        results.push({ batchId: message.batchId, result: 'failed', error });
        break;
      }
      deps.metrics.batches.inc({ model: message.model, chain: message.chain, result: 'retried' });
      await deps.progress.recordRetry(message.runId.uid, deps.clock()).catch(() => undefined);
      logger.warn({ nextAttempt: next.nextAttempt, delayMs: next.delayMs }, 'batch retry scheduled');
      try {
        await sleep(next.delayMs, undefined, { signal });
      } catch {
        results.push({ batchId: message.batchId, result: 'interrupted' });
        break;
      }
      message = { ...message, attempt: next.nextAttempt };
    }
  }
  const complete = results.every((entry) => entry.result === 'succeeded' || entry.result === 'skipped');
  return { complete, results };
}
