// What a worker reports about one batch of a run, beyond its outcome: who worked it, when, how
// many attempts it took, what it wrote and why it last failed. Workers write these facts when a
// batch starts and when it ends (adapters/redis/batchFacts.ts); the operator mirrors them into
// the run history (model_runner.model_run_batches).

/**
 * - running: an attempt is under way;
 * - retrying: the attempt failed and the batch waits for its next one (queue executor);
 * - interrupted: the worker shut down mid-batch and handed it back;
 * - succeeded, skipped: done (skipped: its outputs were complete already), final;
 * - failed: out of retries (in job mode: this attempt failed; the Job may try the index again).
 */
export type BatchFactState = 'running' | 'retrying' | 'interrupted' | 'succeeded' | 'skipped' | 'failed';

/** States no later report changes: the batch's markers are written. */
export const FINAL_BATCH_FACT_STATES: readonly BatchFactState[] = ['succeeded', 'skipped'];

export interface BatchFact {
  minBlock: number;
  /** Exclusive, as the markers. */
  maxBlock: number;
  state: BatchFactState;
  /** The attempt number of the latest report (1 for the first try). */
  attempts: number;
  worker?: string;
  /** Milliseconds since the epoch. */
  startedAt?: number;
  finishedAt?: number;
  /** Rows written, all datasets together (succeeded and skipped only). */
  rows?: number;
  lastError?: string;
}

interface BatchFactEventBase {
  minBlock: number;
  maxBlock: number;
  attempt: number;
  worker: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export type BatchFactEvent =
  | ({ kind: 'started' } & BatchFactEventBase)
  | ({
      kind: 'finished';
      state: Exclude<BatchFactState, 'running'>;
      rows?: number;
      error?: string;
    } & BatchFactEventBase);

/** A batch's facts with the batch they are about (`<chain>/<model>/<minBlock>`). */
export interface ReportedBatchFact extends BatchFact {
  batchId: string;
}
