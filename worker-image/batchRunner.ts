// What the worker needs from the model side, in the worker's words. The implementation over
// the models package (registry + runModelBatch with its sink hook) is modelBatchRunner.ts; the
// worker's own logic (retries, dead letters, progress, metrics) depends only on this.
import type { Logger } from 'pino';
import type { BatchMessage } from '../contract/batchMessage.ts';

export interface BatchRunRequest {
  message: BatchMessage;
  /** Aborted when the worker must hand the batch back (shutdown grace period over). */
  signal: AbortSignal;
  /** Carries runId and batchId already. */
  logger: Logger;
}

export interface BatchRunResult {
  /** True when every output's markers were complete already and nothing was written. */
  skipped: boolean;
  /** Output rows per dataset (all zero when skipped). */
  rowsByDataset: Record<string, number>;
}

export interface BatchRunner {
  /**
   * Undefined when the batch can be run; otherwise why not, as a dead-letter reason (an
   * unknown model or version, a chain without configuration or RPC endpoint). Blocks that
   * are not one of the chain's batches fail in `run` (BatchAlignmentError → malformed).
   */
  refuse(message: BatchMessage): { reason: 'unknownModel' | 'unknownChain'; message: string } | undefined;
  /**
   * Skip when complete (unless forced) → read inputs → run the model → parquet → sink →
   * markers. Resolves only after the markers (the commit point) are written.
   */
  run(request: BatchRunRequest): Promise<BatchRunResult>;
  close(): Promise<void>;
}
