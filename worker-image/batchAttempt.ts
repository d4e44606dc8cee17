// One attempt at one batch, whatever delivered it (a queue or a Job's batch list): refuse what
// cannot run, run it, record the outcome in the run's progress, observe metrics, and say what
// happened. What to do next (ack, retry, dead-letter, hand back) is the caller's business.
// The batch's facts for the run history (worker, times, attempts, rows, last error) are written
// when the attempt starts and when it ends; whoever decides the end writes it.
import type { Logger } from 'pino';
import type { BatchFactEvent } from '../contract/batchFacts.ts';
import type { BatchMessage } from '../contract/batchMessage.ts';
import { runLabel } from '../contract/batchMessage.ts';
import type { WorkerMetrics } from '../adapters/metrics/workerMetrics.ts';
import type { RunProgressStore } from '../adapters/redis/progress.ts';
import { BatchFailure, classifyFailure, type FailureClass } from './batchFailure.ts';
import type { BatchRunner } from './batchRunner.ts';

export type AttemptResult =
  | { kind: 'done'; outcome: 'succeeded' | 'skipped'; blocks: number; rows: number }
  | { kind: 'failed'; failure: FailureClass }
  /** The worker is shutting down and the batch did not finish: hand it back untouched. */
  | { kind: 'interrupted' };

export interface AttemptDeps {
  runner: BatchRunner;
  progress: RunProgressStore;
  metrics: WorkerMetrics;
  logger: Logger;
  clock: () => Date;
  /** Waits between the few in-place retries of the progress write (injected for tests). */
  sleep: (ms: number) => Promise<void>;
  /** This worker's name in the batch facts (the pod name). */
  workerName: string;
}

type FactEnd = Omit<Extract<BatchFactEvent, { kind: 'finished' }>, keyof BatchFactEventCommon | 'kind'>;
type BatchFactEventCommon = Pick<BatchFactEvent, 'minBlock' | 'maxBlock' | 'attempt' | 'worker' | 'at'>;

/**
 * Writes the batch's facts for the run history. History is not worth failing a batch for: a
 * write that fails is logged, never thrown.
 */
export async function recordBatchFact(
  deps: Pick<AttemptDeps, 'progress' | 'clock' | 'workerName'>,
  logger: Logger,
  message: BatchMessage,
  end?: FactEnd,
): Promise<void> {
  const common: BatchFactEventCommon = {
    minBlock: message.minBlock,
    maxBlock: message.maxBlock,
    attempt: message.attempt,
    worker: deps.workerName,
    at: deps.clock().getTime(),
  };
  const event: BatchFactEvent = end
    ? { kind: 'finished', ...common, ...end }
    : { kind: 'started', ...common };
  await deps.progress
    .recordBatchFact(message.runId.uid, message.batchId, event)
    .catch((failure: unknown) =>
      logger.warn({ err: (failure as Error).message }, 'could not record the batch facts'),
    );
}

/**
 * A batch that failed for good (dead-lettered, or out of retries in job mode): counted in
 * the metrics and put on the run's failed list, which is where the operator shows it.
 * A progress write that fails is logged, never thrown: the failure is already decided.
 */
export async function recordFailedForGood(
  deps: Pick<AttemptDeps, 'progress' | 'metrics' | 'clock' | 'workerName'>,
  logger: Logger,
  message: BatchMessage,
  error: string,
  attempt: number | undefined,
  /** `deadLettered` on a queue; `failed` in a Job's pod, whose Job decides about a retry. */
  result: 'deadLettered' | 'failed' = 'deadLettered',
): Promise<void> {
  deps.metrics.batches.inc({ model: message.model, chain: message.chain, result });
  await recordBatchFact(deps, logger, message, { state: 'failed', error });
  await deps.progress
    .recordOutcome({
      runUid: message.runId.uid,
      batchId: message.batchId,
      outcome: 'failed',
      blocks: 0,
      rows: 0,
      error,
      attempt,
      now: deps.clock(),
    })
    .catch((failure: unknown) =>
      logger.error({ err: (failure as Error).message }, 'could not record the failure'),
    );
}

/** The fields every log line about a batch carries. */
export function batchLogFields(message: BatchMessage): Record<string, unknown> {
  return {
    runId: runLabel(message.runId),
    runUid: message.runId.uid,
    batchId: message.batchId,
    model: message.model,
    chain: message.chain,
    attempt: message.attempt,
  };
}

const PROGRESS_WRITE_DELAYS_MS = [200, 1_000, 3_000];

/**
 * Progress is written after the markers, so a Redis blip must not turn a committed batch into
 * a failure: retry it in place a few times. If Redis stays down the attempt fails, and the
 * next attempt finds the markers complete and reports the batch as skipped.
 */
async function recordWithRetries(deps: AttemptDeps, write: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await write();
      return;
    } catch (error) {
      const delay = PROGRESS_WRITE_DELAYS_MS[attempt];
      if (delay === undefined) {
        throw new BatchFailure('redis', `redis: progress not recorded: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await deps.sleep(delay);
    }
  }
}

export async function attemptBatch(
  message: BatchMessage,
  signal: AbortSignal,
  deps: AttemptDeps,
): Promise<AttemptResult> {
  const logger = deps.logger.child(batchLogFields(message));
  const labels = { model: message.model, chain: message.chain };
  const started = performance.now();
  deps.metrics.inFlight.inc();
  await recordBatchFact(deps, logger, message);
  try {
    const refusal = deps.runner.refuse(message);
    if (refusal) throw new BatchFailure(refusal.reason, refusal.message);
    logger.info(
      { minBlock: message.minBlock, maxBlock: message.maxBlock, force: message.force },
      'batch started',
    );
    const result = await deps.runner.run({ message, signal, logger });
    const blocks = message.maxBlock - message.minBlock;
    const rows = Object.values(result.rowsByDataset).reduce((sum, count) => sum + count, 0);
    const outcome = result.skipped ? 'skipped' : 'succeeded';
    await recordWithRetries(deps, () =>
      deps.progress.recordOutcome({
        runUid: message.runId.uid,
        batchId: message.batchId,
        outcome,
        blocks,
        rows,
        now: deps.clock(),
      }),
    );
    await recordBatchFact(deps, logger, message, { state: outcome, rows: result.skipped ? 0 : rows });
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.batches.inc({ ...labels, result: outcome });
    deps.metrics.batchDuration.observe({ ...labels, result: outcome }, seconds);
    if (!result.skipped) {
      deps.metrics.blocksModeled.inc(labels, blocks);
      for (const [dataset, count] of Object.entries(result.rowsByDataset)) {
        deps.metrics.rowsWritten.inc({ ...labels, dataset }, count);
      }
    }
    logger.info({ outcome, blocks, rows, rowsByDataset: result.rowsByDataset, seconds }, 'batch done');
    return { kind: 'done', outcome, blocks, rows };
  } catch (error) {
    if (signal.aborted) {
      deps.metrics.batchFailures.inc({ ...labels, reason: 'shutdown' });
      logger.warn({ err: (error as Error).message }, 'batch interrupted by shutdown; handing it back');
      await recordBatchFact(deps, logger, message, { state: 'interrupted' });
      return { kind: 'interrupted' };
    }
    const failure = classifyFailure(error);
    deps.metrics.batchFailures.inc({ ...labels, reason: failure.reason });
    deps.metrics.batchDuration.observe({ ...labels, result: 'failed' }, (performance.now() - started) / 1000);
    logger.warn(
      { reason: failure.reason, retryable: failure.retryable, err: failure.message },
      'batch attempt failed',
    );
    return { kind: 'failed', failure };
  } finally {
    deps.metrics.inFlight.dec();
  }
}
