// What the run history says about a run: its row, the phases it entered and its batches, from
// the ModelRun as the API server has it and the batch facts its workers reported. Pure, so the
// same run and facts always give the same rows and the mirror may write them any number of
// times.
//
// Transitions come from the status's own timestamps, which outlive operator restarts, leader
// changes and database outages (an event seen only by a process that then died would not):
// every run entered Pending when it was created, Running at status.startedAt (when its first
// batch was sent) and its final phase at status.finishedAt. A run that never sent a batch (a
// dry run, a run whose batches were all complete, a run refused at planning) has no Running.
import { blockRangeFromApi } from '../../contract/apiConversions.ts';
import type { ReportedBatchFact } from '../../contract/batchFacts.ts';
import type {
  BatchState,
  HistoryRows,
  ModelRunBatchRow,
  ModelRunRow,
  ModelRunTransitionRow,
  RunPhaseName,
} from '../../contract/runHistory.ts';
import type { ModelRun, ModelRunStatus } from '../../crds/generated/types.ts';
import { TERMINAL_PHASES } from './runStatus.ts';

/** Transition reasons of the phases whose status has no condition to name the cause. */
export const CREATED_REASON = 'Created';
export const DISPATCHED_REASON = 'BatchesDispatched';

/** Conditions that explain why a run that is not finished is not getting on, most telling first. */
const HOLDING_CONDITIONS = [
  'WorkerSecretMissing',
  'NoConsumers',
  'Suspended',
  'WaitingForSafeTip',
  'WaitingForInputs',
];

const UNFINISHED_BATCH_STATES: readonly BatchState[] = ['running', 'retrying', 'interrupted'];

function isoOf(value: string | Date | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function msToIso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function phaseOf(status: ModelRunStatus | undefined): RunPhaseName {
  return status?.phase ?? 'Pending';
}

/** The condition reason that says why the run is in its phase, or null. */
export function phaseReason(status: ModelRunStatus | undefined): string | null {
  const conditions = status?.conditions ?? [];
  const find = (type: string) => conditions.find((condition) => condition.type === type);
  const phase = phaseOf(status);
  if (phase === 'Succeeded') return find('Complete')?.reason ?? null;
  if (phase === 'Failed' || phase === 'Expired') return find('Failed')?.reason ?? null;
  const planned = find('Planned');
  if (planned?.status === 'False') return planned.reason;
  for (const type of HOLDING_CONDITIONS) {
    const condition = find(type);
    if (condition?.status === 'True') return condition.reason;
  }
  return null;
}

function scheduleOf(run: ModelRun): string | null {
  const owner = run.metadata?.ownerReferences?.find(
    (reference) => reference.kind === 'ModelSchedule' && reference.controller === true,
  );
  return owner?.name ?? null;
}

/** The run's row; undefined for an object the API server never stored (no uid or creation time). */
export function runRowOf(run: ModelRun): ModelRunRow | undefined {
  const metadata = run.metadata ?? {};
  const createdAt = isoOf(metadata.creationTimestamp as string | Date | undefined);
  if (!metadata.uid || !metadata.namespace || !metadata.name || createdAt === null) return undefined;
  const status = run.status;
  const apiBlocks = status?.blocks ?? run.spec.blocks;
  const blocks = apiBlocks ? blockRangeFromApi(apiBlocks) : undefined;
  const batches = status?.batches;
  return {
    uid: metadata.uid,
    namespace: metadata.namespace,
    name: metadata.name,
    model: run.spec.model,
    version: status?.version ?? run.spec.version ?? null,
    chain: run.spec.chain,
    executor: run.spec.executor ?? 'queue',
    queue: status?.queue ?? null,
    job_name: status?.jobName ?? null,
    min_block: blocks?.minBlock ?? null,
    max_block: blocks?.maxBlock ?? null,
    phase: phaseOf(status),
    batches_total: batches?.total ?? 0,
    batches_succeeded: batches?.succeeded ?? 0,
    batches_failed: batches?.failed ?? 0,
    batches_skipped: batches?.skipped ?? 0,
    reason: phaseReason(status),
    message: status?.message ?? null,
    schedule: scheduleOf(run),
    created_at: createdAt,
    started_at: isoOf(status?.startedAt),
    finished_at: isoOf(status?.finishedAt),
  };
}

/** The phases the run has entered, from its row (see the top of this file). */
export function transitionRowsOf(row: ModelRunRow): ModelRunTransitionRow[] {
  const transitions: ModelRunTransitionRow[] = [
    { run_uid: row.uid, phase: 'Pending', reason: CREATED_REASON, at: row.created_at },
  ];
  if (row.started_at !== null) {
    transitions.push({ run_uid: row.uid, phase: 'Running', reason: DISPATCHED_REASON, at: row.started_at });
  }
  if (TERMINAL_PHASES.includes(row.phase) && row.finished_at !== null) {
    transitions.push({
      run_uid: row.uid,
      phase: row.phase,
      reason: row.reason ?? row.phase,
      at: row.finished_at,
    });
  }
  return transitions;
}

/**
 * One batch's row. A batch left unfinished by a run that has finished (its Job deleted, its
 * queued copy dropped) is `cancelled`: no worker will report on it again.
 */
export function batchRowOf(row: ModelRunRow, fact: ReportedBatchFact): ModelRunBatchRow {
  const runEnded = TERMINAL_PHASES.includes(row.phase);
  return {
    run_uid: row.uid,
    min_block: fact.minBlock,
    max_block: fact.maxBlock,
    state: runEnded && UNFINISHED_BATCH_STATES.includes(fact.state) ? 'cancelled' : fact.state,
    attempts: fact.attempts,
    last_error: fact.lastError ?? null,
    worker: fact.worker ?? null,
    started_at: msToIso(fact.startedAt),
    finished_at: msToIso(fact.finishedAt),
    rows: fact.rows ?? null,
  };
}

/** Every row the run and its reported batches imply; undefined when the run has no row. */
export function historyRowsOf(run: ModelRun, facts: readonly ReportedBatchFact[]): HistoryRows | undefined {
  const row = runRowOf(run);
  if (!row) return undefined;
  return {
    runs: [row],
    transitions: transitionRowsOf(row),
    batches: facts.map((fact) => batchRowOf(row, fact)),
  };
}
