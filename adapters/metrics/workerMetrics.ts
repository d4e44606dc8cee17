// The worker's Prometheus metrics, on a registry of its own (so tests and several workers in
// one process never collide on prom-client's global registry). Labels are bounded sets:
// model, chain, dataset, queue, outcome, and a failure reason from a fixed vocabulary.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type BatchResult =
  | 'succeeded'
  | 'skipped'
  | 'retried'
  | 'deadLettered'
  | 'requeued'
  | 'cancelled'
  /** Job mode: the pod's one attempt failed; the Job retries the index or gives up. */
  | 'failed';

export interface WorkerMetrics {
  registry: Registry;
  blocksModeled: Counter<'model' | 'chain'>;
  rowsWritten: Counter<'model' | 'chain' | 'dataset'>;
  batches: Counter<'model' | 'chain' | 'result'>;
  batchFailures: Counter<'model' | 'chain' | 'reason'>;
  batchDuration: Histogram<'model' | 'chain' | 'result'>;
  timeInQueue: Histogram<'queue'>;
  inFlight: Gauge;
}

export function createWorkerMetrics(options: { defaultMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'model_runner_worker_' });
  const registers = [registry];
  return {
    registry,
    blocksModeled: new Counter({
      name: 'model_runner_worker_blocks_modeled_total',
      help: 'Blocks covered by batches this worker completed (skipped batches not counted)',
      labelNames: ['model', 'chain'],
      registers,
    }),
    rowsWritten: new Counter({
      name: 'model_runner_worker_rows_written_total',
      help: 'Output rows written to the lake (and sent to the Kafka sink)',
      labelNames: ['model', 'chain', 'dataset'],
      registers,
    }),
    batches: new Counter({
      name: 'model_runner_worker_batches_total',
      help: 'Batch deliveries by result: succeeded, skipped (already complete), retried, deadLettered, requeued',
      labelNames: ['model', 'chain', 'result'],
      registers,
    }),
    batchFailures: new Counter({
      name: 'model_runner_worker_batch_failures_total',
      help: 'Failed batch attempts by reason (one per attempt, retried or not)',
      labelNames: ['model', 'chain', 'reason'],
      registers,
    }),
    batchDuration: new Histogram({
      name: 'model_runner_worker_batch_duration_seconds',
      help: 'Wall time of one batch attempt, from receipt to settlement',
      labelNames: ['model', 'chain', 'result'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    timeInQueue: new Histogram({
      name: 'model_runner_worker_time_in_queue_seconds',
      help: 'From enqueuedAt (or the end of a retry wait) to receipt by a worker',
      labelNames: ['queue'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    }),
    inFlight: new Gauge({
      name: 'model_runner_worker_batches_in_flight',
      help: 'Batches this worker is working on right now',
      registers,
    }),
  };
}
