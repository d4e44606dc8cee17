// nextModelRunStatus: what a ModelRun's status should say, from what the controller observed.
// Pure: the plan, the workers' reported outcomes, the Job and the queue come in as data, and the
// status (phase, counts that always add up to the total, conditions, failed batches) comes
// out, together with the Events a person should see for what changed.
//
// Every batch is in exactly one class, so the counts add up by construction:
//   succeeded, skipped  a worker reported it (or, skipped: complete before the run sent it)
//   failed              out of retries (queue: dead-lettered; job: a failed index)
//   waiting             not sent: inputs, the safe tip, a dispatch slot, a resume or the Job missing
//   queued              sent and not finished
import { blockRangeToApi, modelVersionToApi } from '../../contract/apiConversions.ts';
import type { BatchOutcome } from '../../contract/batchOutcomes.ts';
import { batchIdOf, type RunRequest } from '../../contract/batchMessage.ts';
import type { BlockBatch } from '../../dataplane/batches.ts';
import type { Condition, FailedBatch, ModelRun, ModelRunStatus } from '../../crds/generated/types.ts';
import { type ConditionUpdate, findCondition, removeCondition, setCondition } from './conditions.ts';
import type { RunPlan } from './runPlan.ts';
import type { RunSpecProblem } from './runRequest.ts';

export type RunPhase = NonNullable<ModelRunStatus['phase']>;

export const TERMINAL_PHASES: readonly RunPhase[] = ['Succeeded', 'Failed', 'Expired'];

export const MAX_FAILED_BATCHES_SHOWN = 20;

export function isFinished(run: ModelRun): boolean {
  return TERMINAL_PHASES.includes(run.status?.phase ?? 'Pending');
}

/** A failure a worker recorded, by batch id (`<chain>/<model>/<minBlock>`). */
export interface RecordedFailure {
  error: string;
  attempt: number | undefined;
  failedAt: Date;
}

/** What the controller saw of a run that has a plan. */
export interface PlannedRunObservation {
  request: RunRequest;
  plan: RunPlan;
  /** The workers' latest outcome per batch, by first block. */
  outcomes: ReadonlyMap<number, BatchOutcome>;
  failures: ReadonlyMap<string, RecordedFailure>;
  /** Queue executor: batches sent. Job executor: every batch once the Job exists. */
  dispatched: ReadonlySet<number>;
  /** Job executor: batches whose index ran out of retries. */
  failedIndexes: ReadonlySet<number>;
  executor: 'queue' | 'job';
  queue?: string;
  jobName?: string;
  /** Queue executor: consumers on the queue (undefined: not known). */
  consumers?: number;
  /** Job executor: the namespace lacks the worker Secret, so nothing starts. */
  workerSecretMissing?: { secretName: string };
  lastProgressAt?: Date;
  /** The chain's last safe block, for the condition text of ingest runs. */
  lastSafeBlock?: number;
}

/** What the controller saw of a run, planned or not. */
export type RunObservation =
  | { kind: 'invalid'; problem: RunSpecProblem }
  | { kind: 'unresolved'; reason: string; message: string }
  | ({ kind: 'planned' } & PlannedRunObservation);

export interface RunEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export interface NextStatus {
  status: ModelRunStatus;
  events: RunEvent[];
}

type BatchClass = 'succeeded' | 'skipped' | 'failed' | 'waiting' | 'queued';

function classify(observed: PlannedRunObservation, batch: BlockBatch, done: ReadonlySet<number>): BatchClass {
  const outcome = observed.outcomes.get(batch.minBlock);
  if (outcome === 'succeeded' || outcome === 'skipped') return outcome;
  if (observed.executor === 'job' ? observed.failedIndexes.has(batch.minBlock) : outcome === 'failed')
    return 'failed';
  if (done.has(batch.minBlock)) return 'skipped';
  // Not sent (a Job not created yet, a queue run past its deadline) is waiting, never queued.
  if (!observed.dispatched.has(batch.minBlock)) return 'waiting';
  return 'queued';
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function describeBatches(batches: readonly BlockBatch[]): string {
  const shown = batches.slice(0, 3).map((batch) => `${batch.minBlock}-${batch.maxBlock - 1}`);
  return `${shown.join(', ')}${batches.length > 3 ? ` and ${batches.length - 3} more` : ''}`;
}

/** Seconds the run has been suspended in all, the current suspension included. */
export function suspendedSecondsAt(run: ModelRun, now: Date): number {
  const past = run.status?.suspendedSeconds ?? 0;
  const suspended = findCondition(run.status?.conditions, 'Suspended');
  if (suspended?.status !== 'True') return past;
  return past + Math.max(0, Math.floor((now.getTime() - Date.parse(suspended.lastTransitionTime)) / 1000));
}

/** activeDeadlineSeconds counts from the run's creation, minus the time it spent suspended. */
export function deadlineAt(run: ModelRun, now: Date): Date | undefined {
  const seconds = run.spec.activeDeadlineSeconds;
  const created = run.metadata?.creationTimestamp;
  if (seconds === undefined || created === undefined) return undefined;
  const start = created instanceof Date ? created.getTime() : Date.parse(String(created));
  return new Date(start + (seconds + suspendedSecondsAt(run, now)) * 1000);
}

function failedBatchesOf(observed: PlannedRunObservation, failed: readonly BlockBatch[]): FailedBatch[] {
  const entries = failed.map((batch) => {
    const failure = observed.failures.get(
      batchIdOf(observed.request.chain, observed.request.model, batch.minBlock),
    );
    const { start, end } = blockRangeToApi(batch);
    const entry: FailedBatch = { startBlock: start, endBlock: end };
    if (failure) {
      entry.error = failure.error.slice(0, 2048);
      if (failure.attempt !== undefined) entry.attempts = failure.attempt;
      entry.lastAttemptAt = iso(failure.failedAt);
    }
    return { entry, at: failure?.failedAt.getTime() ?? 0 };
  });
  return entries
    .sort((a, b) => b.at - a.at || a.entry.startBlock - b.entry.startBlock)
    .slice(0, MAX_FAILED_BATCHES_SHOWN)
    .map(({ entry }) => entry);
}

/** The conditions a planned run carries, from what it waits for. */
function plannedConditions(
  run: ModelRun,
  observed: PlannedRunObservation,
  counts: Record<BatchClass, number>,
): ConditionUpdate[] {
  const { plan, request } = observed;
  const updates: ConditionUpdate[] = [
    {
      type: 'Planned',
      status: 'True',
      reason: 'Planned',
      message: `${plan.batches.length} batches over blocks ${request.range.minBlock}-${request.range.maxBlock - 1}`,
    },
  ];
  const inputs = plan.waitingForInputs;
  updates.push(
    inputs.length > 0
      ? {
          type: 'WaitingForInputs',
          status: 'True',
          reason: 'InputsIncomplete',
          message: `batches ${describeBatches(inputs)} wait for their inputs to be complete (${request.model} reads them); they are sent when the inputs' markers land`,
        }
      : {
          type: 'WaitingForInputs',
          status: 'False',
          reason: 'InputsComplete',
          message: 'every batch sent has complete inputs',
        },
  );
  const tip = plan.waitingForTip;
  if (tip.length > 0) {
    updates.push({
      type: 'WaitingForSafeTip',
      status: 'True',
      reason: observed.lastSafeBlock === undefined ? 'TipUnknown' : 'BeyondSafeTip',
      message:
        observed.lastSafeBlock === undefined
          ? `the operator cannot read chain ${request.chain}'s tip: give it the chain's JSON-RPC endpoint; batches ${describeBatches(tip)} wait`
          : `batches ${describeBatches(tip)} end beyond the chain's last safe block ${observed.lastSafeBlock}; they are sent as the chain grows`,
    });
  } else {
    updates.push({
      type: 'WaitingForSafeTip',
      status: 'False',
      reason: 'BelowSafeTip',
      message: 'no batch waits for the chain to grow',
    });
  }
  updates.push(
    run.spec.suspend
      ? {
          type: 'Suspended',
          status: 'True',
          reason: 'Suspended',
          message: `dispatch paused: ${counts.waiting} batches held back`,
        }
      : { type: 'Suspended', status: 'False', reason: 'Resumed', message: 'dispatch is running' },
  );
  if (observed.executor === 'queue' && observed.consumers !== undefined) {
    updates.push(
      observed.consumers === 0 && counts.queued > 0
        ? {
            type: 'NoConsumers',
            status: 'True',
            reason: 'NoConsumers',
            message: `no worker consumes queue ${observed.queue}: ${counts.queued} batches wait there; create a WorkerPool for it`,
          }
        : {
            type: 'NoConsumers',
            status: 'False',
            reason: 'ConsumersPresent',
            message: `queue ${observed.queue} has ${observed.consumers} consumers`,
          },
    );
  }
  if (observed.executor === 'job') {
    const missing = observed.workerSecretMissing;
    updates.push(
      missing
        ? {
            type: 'WorkerSecretMissing',
            status: 'True',
            reason: 'SecretNotFound',
            message: `the Job's pods take their credentials from Secret ${missing.secretName} in namespace ${run.metadata?.namespace}, which does not exist: create it with the worker's settings as keys (kubectl -n ${run.metadata?.namespace} create secret generic ${missing.secretName} --from-literal=CLICKHOUSE_URL=… --from-literal=REDIS_URL=… --from-literal=KAFKA_BROKERS=… and the chains' RPC URLs); nothing starts until then`,
          }
        : {
            type: 'WorkerSecretMissing',
            status: 'False',
            reason: 'SecretFound',
            message: 'the worker Secret exists',
          },
    );
  }
  return updates;
}

function phaseEvent(phase: RunPhase, message: string): RunEvent {
  const warning = phase === 'Failed' || phase === 'Expired';
  return { type: warning ? 'Warning' : 'Normal', reason: phase, note: message };
}

/** The next status, and the Events for what changed since `run.status`. */
export function nextModelRunStatus(run: ModelRun, observed: RunObservation, now: Date): NextStatus {
  const previous = run.status ?? {};
  const generation = run.metadata?.generation ?? 0;
  let conditions: Condition[] = previous.conditions ?? [];
  const apply = (update: ConditionUpdate) => (conditions = setCondition(conditions, update, generation, now));
  const status: ModelRunStatus = { ...previous, observedGeneration: generation };

  let phase: RunPhase;
  let message: string;
  if (observed.kind === 'invalid') {
    phase = 'Failed';
    message = observed.problem.message;
    apply({ type: 'Failed', status: 'True', reason: observed.problem.reason, message });
  } else if (observed.kind === 'unresolved') {
    apply({ type: 'Planned', status: 'False', reason: observed.reason, message: observed.message });
    // A run that cannot be planned yet (its dates not ingested) still has a deadline.
    const deadline = deadlineAt(run, now);
    if (deadline !== undefined && now >= deadline) {
      phase = 'Expired';
      message = `activeDeadlineSeconds ${run.spec.activeDeadlineSeconds} passed before the run could be planned: ${observed.message}`;
      apply({ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message });
    } else {
      phase = 'Pending';
      message = observed.message;
    }
  } else {
    const { plan, request } = observed;
    const done = new Set(plan.alreadyDone.map((batch) => batch.minBlock));
    const counts: Record<BatchClass, number> = { succeeded: 0, skipped: 0, failed: 0, waiting: 0, queued: 0 };
    const failed: BlockBatch[] = [];
    let blocksModeled = 0;
    for (const batch of plan.batches) {
      const batchClass = classify(observed, batch, done);
      counts[batchClass] += 1;
      if (batchClass === 'succeeded') blocksModeled += batch.maxBlock - batch.minBlock;
      if (batchClass === 'failed') failed.push(batch);
    }
    const total = plan.batches.length;
    const finished = counts.succeeded + counts.skipped;
    status.blocks = blockRangeToApi(request.range);
    status.version = modelVersionToApi(request.version);
    status.batches = {
      total,
      skipped: counts.skipped,
      waiting: counts.waiting,
      queued: counts.queued,
      succeeded: counts.succeeded,
      failed: counts.failed,
    };
    status.progress = `${finished}/${total}`;
    status.blocksModeled = blocksModeled;
    status.failedBatches = failedBatchesOf(observed, failed);
    if (observed.queue) status.queue = observed.queue;
    if (observed.jobName) status.jobName = observed.jobName;
    if (observed.lastProgressAt) status.lastProgressAt = iso(observed.lastProgressAt);
    if (!status.startedAt && observed.dispatched.size > 0) status.startedAt = iso(now);
    for (const update of plannedConditions(run, observed, counts)) apply(update);
    if (observed.executor === 'queue') conditions = removeCondition(conditions, 'WorkerSecretMissing');
    else conditions = removeCondition(conditions, 'NoConsumers');

    const deadline = deadlineAt(run, now);
    if (run.spec.dryRun) {
      phase = 'Succeeded';
      message = `dry run: ${total} batches, ${plan.alreadyDone.length} already complete, ${plan.waitingForInputs.length + plan.waitingForTip.length} waiting, ${plan.heldBack.length + plan.toDispatch.length} would be sent; nothing was sent`;
      apply({ type: 'Complete', status: 'True', reason: 'DryRun', message });
    } else if (finished === total) {
      phase = 'Succeeded';
      message = `${finished}/${total} batches done (${counts.succeeded} succeeded, ${counts.skipped} already complete), ${blocksModeled} blocks modeled`;
      apply({ type: 'Complete', status: 'True', reason: 'AllBatchesComplete', message });
    } else if (counts.failed > 0 && finished + counts.failed === total) {
      phase = 'Failed';
      message = `${counts.failed} of ${total} batches failed for good; the other ${finished} are done. status.failedBatches says why`;
      apply({ type: 'Failed', status: 'True', reason: 'BatchesFailed', message });
    } else if (deadline !== undefined && now >= deadline) {
      phase = 'Expired';
      message = `activeDeadlineSeconds ${run.spec.activeDeadlineSeconds} passed with ${finished}/${total} batches done; the rest are not sent, and batches still queued are dropped`;
      apply({ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message });
    } else {
      phase = observed.dispatched.size > 0 ? 'Running' : 'Pending';
      const parts = [`${finished}/${total} batches done`];
      if (counts.queued > 0) parts.push(`${counts.queued} queued`);
      if (counts.waiting > 0) parts.push(`${counts.waiting} waiting`);
      if (counts.failed > 0) parts.push(`${counts.failed} failed`);
      message = parts.join(', ');
    }
  }

  if (run.spec.suspend !== true && findCondition(previous.conditions, 'Suspended')?.status === 'True') {
    status.suspendedSeconds = suspendedSecondsAt(run, now);
  }
  if (TERMINAL_PHASES.includes(phase) && !status.finishedAt) status.finishedAt = iso(now);
  status.phase = phase;
  status.message = message.slice(0, 4096);
  status.conditions = conditions;
  return { status, events: eventsFor(previous, status) };
}

function eventsFor(previous: ModelRunStatus, next: ModelRunStatus): RunEvent[] {
  const events: RunEvent[] = [];
  if (previous.phase !== next.phase && next.phase) events.push(phaseEvent(next.phase, next.message ?? ''));
  const turnedTrue = (type: string) =>
    findCondition(next.conditions, type)?.status === 'True' &&
    findCondition(previous.conditions, type)?.status !== 'True';
  const turnedFalse = (type: string) =>
    findCondition(next.conditions, type)?.status === 'False' &&
    findCondition(previous.conditions, type)?.status === 'True';
  for (const type of ['WaitingForInputs', 'WaitingForSafeTip', 'NoConsumers', 'WorkerSecretMissing']) {
    if (turnedTrue(type)) {
      const condition = findCondition(next.conditions, type)!;
      events.push({ type: 'Warning', reason: condition.reason, note: condition.message });
    }
  }
  if (turnedTrue('Suspended')) events.push({ type: 'Normal', reason: 'Suspended', note: 'dispatch paused' });
  if (turnedFalse('Suspended')) events.push({ type: 'Normal', reason: 'Resumed', note: 'dispatch resumed' });
  return events;
}
