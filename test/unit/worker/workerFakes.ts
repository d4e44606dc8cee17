// The injected dependencies of the worker's decision logic (attemptBatch, the delivery handler,
// job mode), in memory: a runner that does what the test says, a progress store and a publisher
// that record their calls and fail on demand, and the real metrics on a registry of their own.
import pino from 'pino';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { createWorkerMetrics, type WorkerMetrics } from '../../../adapters/metrics/workerMetrics.ts';
import type { DeadLetterDetails } from '../../../adapters/rabbitmq/publisher.ts';
import type { BatchReport, RunProgressStore } from '../../../adapters/redis/progress.ts';
import type { BatchFactEvent } from '../../../contract/batchFacts.ts';
import { batchMessageFor, type BatchMessage, type RunRequest } from '../../../contract/batchMessage.ts';
import type { AttemptDeps } from '../../../worker-image/batchAttempt.ts';
import type { BatchRunner, BatchRunRequest, BatchRunResult } from '../../../worker-image/batchRunner.ts';
import type { QueueDeliveryDeps } from '../../../worker-image/queueDelivery.ts';

export const NOW = new Date('2025-03-01T12:00:00Z');

export const RUN: RunRequest = {
  runId: { namespace: 'default', name: 'run-1', uid: 'uid-1' },
  model: 'ingest',
  version: 1,
  chain: 'local',
  range: { minBlock: 100, maxBlock: 400 },
  force: false,
  maxRetriesPerBatch: 2,
};

/** The run's batch of blocks 100-199, on delivery `attempt`, enqueued `waitedMs` before NOW. */
export function batchMessage(attempt = 1, waitedMs = 0): BatchMessage {
  return batchMessageFor(RUN, { minBlock: 100, maxBlock: 200 }, new Date(NOW.getTime() - waitedMs), attempt);
}

export class FakeRunner implements BatchRunner {
  refusal: ReturnType<BatchRunner['refuse']>;
  /** What `run` does; by default a batch that wrote nothing and was not complete before. */
  behaviour: (request: BatchRunRequest) => Promise<BatchRunResult> = async () => ({
    skipped: false,
    rowsByDataset: {},
  });
  readonly runs: BatchMessage[] = [];

  refuse(): ReturnType<BatchRunner['refuse']> {
    return this.refusal;
  }

  async run(request: BatchRunRequest): Promise<BatchRunResult> {
    this.runs.push(request.message);
    return this.behaviour(request);
  }

  async close(): Promise<void> {}
}

/**
 * A run that the worker interrupts (`abort`, as a shutdown does) once it is under way; the run
 * then rejects, as a model's I/O does when its signal aborts.
 */
export function interruptedRun(abort: AbortController): FakeRunner['behaviour'] {
  return ({ signal }) =>
    new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error('aborted by the worker')), { once: true });
      queueMicrotask(() => abort.abort(new Error('worker shutting down')));
    });
}

export class FakeProgress {
  readonly outcomes: BatchReport[] = [];
  readonly retries: { runUid: string; now: Date }[] = [];
  /** How many recordOutcome calls fail before one works (Infinity: Redis stays down). */
  failingWrites = 0;
  writeAttempts = 0;
  failRetries = false;
  /** Runs the operator has cancelled (deleted, or ended early). */
  readonly cancelled = new Set<string>();
  failCancelledReads = false;

  /** Per-batch facts for the run history (what worker, when, how many rows). */
  readonly facts: { runUid: string; batchId: string; event: BatchFactEvent }[] = [];

  async recordBatchFact(runUid: string, batchId: string, event: BatchFactEvent): Promise<boolean> {
    this.facts.push({ runUid, batchId, event });
    return true;
  }

  async isCancelled(runUid: string): Promise<boolean> {
    if (this.failCancelledReads) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return this.cancelled.has(runUid);
  }

  async recordOutcome(report: BatchReport): Promise<boolean> {
    this.writeAttempts += 1;
    if (this.failingWrites > 0) {
      this.failingWrites -= 1;
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    }
    this.outcomes.push(report);
    return true;
  }

  /** What was recorded, in short: batch, outcome, and for a failure its error and attempt. */
  reported(): { batchId: string; outcome: string; error?: string; attempt?: number }[] {
    return this.outcomes.map(({ batchId, outcome, error, attempt }) => ({
      batchId,
      outcome,
      ...(error === undefined ? {} : { error }),
      ...(attempt === undefined ? {} : { attempt }),
    }));
  }

  async recordRetry(runUid: string, now: Date): Promise<void> {
    if (this.failRetries) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    this.retries.push({ runUid, now });
  }

  /** The store's type has private fields, so a fake of the methods the worker uses is cast. */
  asStore(): RunProgressStore {
    return this as unknown as RunProgressStore;
  }
}

export class FakePublisher {
  readonly retries: { queue: string; delayMs: number; message: BatchMessage; lastError: string }[] = [];
  readonly deadLetters: { queue: string; body: string; details: DeadLetterDetails }[] = [];
  failRetries = false;
  failDeadLetters = false;

  async publishRetry(
    queue: string,
    delayMs: number,
    message: BatchMessage,
    lastError: string,
  ): Promise<void> {
    if (this.failRetries) throw new Error('publish not confirmed: channel closed');
    this.retries.push({ queue, delayMs, message, lastError });
  }

  async publishDeadLetter(queue: string, body: Buffer, details: DeadLetterDetails): Promise<void> {
    if (this.failDeadLetters) throw new Error('publish not confirmed: channel closed');
    this.deadLetters.push({ queue, body: body.toString(), details });
  }
}

export interface FakeWorld {
  runner: FakeRunner;
  progress: FakeProgress;
  publisher: FakePublisher;
  metrics: WorkerMetrics;
  /** The waits asked of `sleep`, which returns at once. */
  sleeps: number[];
  attemptDeps: AttemptDeps;
  queueDeps: QueueDeliveryDeps;
}

export const RETRY_DELAYS_MS = [1_000, 5_000];

export function fakeWorld(): FakeWorld {
  const runner = new FakeRunner();
  const progress = new FakeProgress();
  const publisher = new FakePublisher();
  const metrics = createWorkerMetrics({ defaultMetrics: false });
  const sleeps: number[] = [];
  const attemptDeps: AttemptDeps = {
    runner,
    progress: progress.asStore(),
    metrics,
    logger: pino({ level: 'silent' }),
    workerName: 'worker-fake',
    clock: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  const queueDeps: QueueDeliveryDeps = {
    ...attemptDeps,
    publisher,
    retryDelaysMs: RETRY_DELAYS_MS,
    workerName: 'worker-test',
  };
  return { runner, progress, publisher, metrics, sleeps, attemptDeps, queueDeps };
}

/** A counter's or gauge's value for the series with these labels (0 when there is none). */
export async function valueOf(
  metric: Counter<string> | Gauge<string>,
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  const series = values.find((value) =>
    Object.entries(labels).every(([name, label]) => value.labels[name] === label),
  );
  return series?.value ?? 0;
}

/** How many observations a histogram holds for these labels, and their sum. */
export async function observationsOf(
  histogram: Histogram<string>,
  labels: Record<string, string>,
): Promise<{ count: number; sum: number }> {
  const { values } = await histogram.get();
  const matching = values.filter((value) =>
    Object.entries(labels).every(([name, label]) => value.labels[name] === label),
  );
  const pick = (suffix: string) => matching.find((value) => value.metricName?.endsWith(suffix))?.value ?? 0;
  return { count: pick('_count'), sum: pick('_sum') };
}
