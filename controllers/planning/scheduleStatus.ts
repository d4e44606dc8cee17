// nextScheduleStatus: what a ModelSchedule's status should say, from what the controller
// observed and did. Pure: the window's assessment, the run decisions, the cron cursor and the
// runs come in as data; the status and the Events for what changed come out.
//
// Conditions (one setCondition for all of them):
//   Ready      True while the schedule can create runs (False: invalid spec, waiting to resolve
//              its window, suspended, stopped)
//   Suspended  spec.suspend
//   Stopped    the stop rule: stopAfterFailedRuns runs in a row ended Failed or Expired
//   Lagging    the model is LAGGING_BATCHES or more batches behind its head
import type {
  Condition,
  ModelSchedule,
  ModelScheduleStatus,
  ObjectReference,
} from '../../crds/generated/types.ts';
import { type ConditionUpdate, findCondition, setCondition } from './conditions.ts';
import type { UnmetCronTimes } from './cronTimes.ts';
import type { RunDecisions } from './runDecisions.ts';
import type { RunDraft } from './scheduledRuns.ts';
import type { WindowAssessment } from './scheduleWindow.ts';

/** Lagging once the model trails its head by this many batches (at the head's batch size). */
export const LAGGING_BATCHES = 10;

export interface ScheduleEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

/** The cron trigger's state after this reconcile. */
export interface CronObservation {
  unmet: UnmetCronTimes;
  /** The cursor to record: the last cron time acted on or given up. */
  lastCronTime: Date | undefined;
}

export interface PlannedScheduleObservation {
  windowStart: number;
  followingFrom: number;
  assessment: WindowAssessment;
  decisions: RunDecisions;
  /** The runs this reconcile created (or found already created under the same name). */
  created: readonly RunDraft[];
  /** When the runs were scheduled: the cron time acted on, or now. */
  scheduledAt: Date;
  active: readonly ObjectReference[];
  consecutiveFailedRuns: number;
  stopped: boolean;
  stopAfterFailedRuns: number;
  /** Ingest: the operator could not read the chain's tip. */
  tipUnknown: boolean;
  cron: CronObservation | undefined;
  lagSeconds: number | undefined;
  lastSuccessfulTime: Date | undefined;
  /** The chain's batch size at the head, for the Lagging threshold. */
  batchSizeAtHead: number;
}

export type ScheduleObservation =
  | { kind: 'invalid'; reason: string; message: string }
  | { kind: 'waiting'; reason: string; message: string; active: readonly ObjectReference[] }
  | ({ kind: 'planned' } & PlannedScheduleObservation);

export interface NextScheduleStatus {
  status: ModelScheduleStatus;
  events: ScheduleEvent[];
}

export function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function describeRange(range: { minBlock: number; maxBlock: number }): string {
  return `${range.minBlock}-${range.maxBlock - 1}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : word.endsWith('ch') ? 'es' : 's'}`;
}

function readiness(schedule: ModelSchedule, observed: PlannedScheduleObservation): ConditionUpdate {
  if (observed.stopped) {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'Stopped',
      message: 'no new runs: the stop rule tripped (see the Stopped condition)',
    };
  }
  if (schedule.spec.suspend) {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'Suspended',
      message: 'no new runs while spec.suspend is true',
    };
  }
  if (observed.tipUnknown) {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'TipUnknown',
      message: `the operator cannot read chain ${schedule.spec.chain}'s tip, so no ingest batch is known to be safe: give the operator the chain's JSON-RPC endpoint`,
    };
  }
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Following',
    message: `following ${schedule.spec.chain} from block ${observed.followingFrom}; window from block ${observed.windowStart}`,
  };
}

function lagging(observed: PlannedScheduleObservation): ConditionUpdate {
  const lag = observed.assessment.lagBlocks;
  if (lag === undefined) {
    return {
      type: 'Lagging',
      status: 'Unknown',
      reason: 'HeadUnknown',
      message: 'the head is not known yet',
    };
  }
  const threshold = LAGGING_BATCHES * observed.batchSizeAtHead;
  return lag >= threshold
    ? {
        type: 'Lagging',
        status: 'True',
        reason: 'BehindHead',
        message: `${lag} blocks behind the head (block ${observed.assessment.headBlock}), ${plural(observed.assessment.pending.length, 'batch')} pending`,
      }
    : {
        type: 'Lagging',
        status: 'False',
        reason: 'NearHead',
        message: `${lag} blocks behind the head, under ${threshold} (${LAGGING_BATCHES} batches)`,
      };
}

function summary(observed: PlannedScheduleObservation): string {
  const { assessment, decisions, active } = observed;
  // The runs just created hold their batches too.
  const held = decisions.held + observed.created.reduce((sum, draft) => sum + draft.batches, 0);
  const parts = [`${plural(assessment.pending.length, 'pending batch')} (${held} in active runs)`];
  if (assessment.lagBlocks !== undefined) {
    parts.push(
      `lag ${assessment.lagBlocks} blocks${observed.lagSeconds === undefined ? '' : ` (${observed.lagSeconds} s)`}`,
    );
  }
  parts.push(plural(active.length, 'active run'));
  if (assessment.waitingForInputs > 0)
    parts.push(`${plural(assessment.waitingForInputs, 'batch')} wait for their inputs`);
  return parts.join(', ');
}

export function nextScheduleStatus(
  schedule: ModelSchedule,
  observed: ScheduleObservation,
  now: Date,
): NextScheduleStatus {
  const previous = schedule.status ?? {};
  const generation = schedule.metadata?.generation ?? 0;
  let conditions: Condition[] = previous.conditions ?? [];
  const apply = (update: ConditionUpdate) => (conditions = setCondition(conditions, update, generation, now));
  const suspended = schedule.spec.suspend ?? false;
  apply(
    suspended
      ? {
          type: 'Suspended',
          status: 'True',
          reason: 'Suspended',
          message: 'spec.suspend is true: active runs go on, no new ones start',
        }
      : {
          type: 'Suspended',
          status: 'False',
          reason: 'Resumed',
          message: 'runs are created as work appears',
        },
  );
  const status: ModelScheduleStatus = {
    ...previous,
    observedGeneration: generation,
  };
  let message: string;
  if (observed.kind !== 'planned') {
    apply({ type: 'Ready', status: 'False', reason: observed.reason, message: observed.message });
    message = observed.message;
    if (observed.kind === 'waiting') status.active = [...observed.active];
  } else {
    const { assessment } = observed;
    apply(readiness(schedule, observed));
    apply(lagging(observed));
    apply(
      observed.stopped
        ? {
            type: 'Stopped',
            status: 'True',
            reason: 'TooManyFailedRuns',
            message: `${observed.consecutiveFailedRuns} runs in a row ended Failed or Expired (stopAfterFailedRuns ${observed.stopAfterFailedRuns}); they are kept for inspection. Fix the cause, then change the spec (e.g. set suspend: true and back) to start again`,
          }
        : {
            type: 'Stopped',
            status: 'False',
            reason: 'FailuresBelowLimit',
            message:
              observed.stopAfterFailedRuns > 0
                ? `${observed.consecutiveFailedRuns} of ${observed.stopAfterFailedRuns} failed runs in a row before the schedule stops`
                : 'stopAfterFailedRuns is 0: the schedule never stops',
          },
    );
    status.windowStartBlock = observed.windowStart;
    status.followingFromBlock = observed.followingFrom;
    status.processedThroughBlock = assessment.processedThroughBlock;
    status.ingestedThroughBlock = assessment.ingestedThroughBlock;
    status.headBlock = assessment.headBlock;
    status.pendingBatches = assessment.pending.length;
    status.lag =
      assessment.lagBlocks === undefined
        ? undefined
        : {
            blocks: assessment.lagBlocks,
            ...(observed.lagSeconds === undefined ? {} : { seconds: observed.lagSeconds }),
          };
    status.coverage = {
      expectedBlocks: assessment.expectedBlocks,
      coveredBlocks: assessment.coveredBlocks,
      ...(assessment.expectedBlocks > 0
        ? { percent: Math.floor((assessment.coveredBlocks / assessment.expectedBlocks) * 10_000) / 100 }
        : {}),
    };
    status.consecutiveFailedRuns = observed.consecutiveFailedRuns;
    status.active = [...observed.active];
    if (observed.created.length > 0) status.lastScheduleTime = iso(observed.scheduledAt);
    if (observed.lastSuccessfulTime) status.lastSuccessfulTime = iso(observed.lastSuccessfulTime);
    if (observed.cron?.lastCronTime) status.lastCronTime = iso(observed.cron.lastCronTime);
    message = summary(observed);
  }
  for (const key of Object.keys(status) as (keyof ModelScheduleStatus)[]) {
    if (status[key] === undefined) delete status[key];
  }
  status.message = message.slice(0, 4096);
  status.conditions = conditions;
  return { status, events: conditionEvents(previous, status) };
}

function conditionEvents(previous: ModelScheduleStatus, next: ModelScheduleStatus): ScheduleEvent[] {
  const events: ScheduleEvent[] = [];
  const was = (type: string) => findCondition(previous.conditions, type)?.status;
  const is = (type: string) => findCondition(next.conditions, type);
  if (is('Stopped')?.status === 'True' && was('Stopped') !== 'True') {
    events.push({ type: 'Warning', reason: 'Stopped', note: is('Stopped')!.message });
  }
  if (is('Suspended')?.status === 'True' && was('Suspended') !== 'True') {
    events.push({ type: 'Normal', reason: 'Suspended', note: 'no new runs until spec.suspend is false' });
  }
  if (is('Suspended')?.status === 'False' && was('Suspended') === 'True') {
    events.push({ type: 'Normal', reason: 'Resumed', note: 'runs are created again' });
  }
  const ready = is('Ready');
  if (
    ready?.status === 'False' &&
    was('Ready') !== 'False' &&
    !['Suspended', 'Stopped'].includes(ready.reason)
  ) {
    events.push({ type: 'Warning', reason: ready.reason, note: ready.message });
  }
  return events;
}

/** The Events for what the controller did this reconcile. */
export function actionEvents(
  decisions: RunDecisions,
  created: readonly RunDraft[],
  pruned: readonly string[],
  progressDeadlineSeconds: number,
): ScheduleEvent[] {
  const events: ScheduleEvent[] = [];
  for (const { run, idleSeconds } of decisions.expire) {
    events.push({
      type: 'Warning',
      reason: 'RunExpired',
      note: `run ${run.name} finished no batch for ${idleSeconds} s (progressDeadlineSeconds ${progressDeadlineSeconds}): expired; its unfinished batches become pending again`,
    });
  }
  for (const run of decisions.replace) {
    events.push({
      type: 'Normal',
      reason: 'RunReplaced',
      note: `deleted active run ${run.name} over blocks ${describeRange(run.range)} (concurrencyPolicy Replace)`,
    });
  }
  for (const draft of created) {
    events.push({
      type: 'Normal',
      reason: 'RunCreated',
      note: `created run ${draft.name} over blocks ${describeRange(draft.range)} (${plural(draft.batches, 'batch')}, attempt ${draft.attempt}, ${draft.stream === 'gaps' ? 'gap-filling' : 'head'})`,
    });
  }
  for (const name of pruned) {
    events.push({
      type: 'Normal',
      reason: 'SuccessfulDelete',
      note: `deleted finished run ${name} (history limit)`,
    });
  }
  return events;
}

/** The Events of the cron trigger: missed times given up, too many missed, a time held back by Forbid. */
export function cronEvents(cron: CronObservation | undefined, blockedAtCronTime: boolean): ScheduleEvent[] {
  if (!cron) return [];
  const events: ScheduleEvent[] = [];
  const { unmet } = cron;
  if (unmet.pastDeadline > 0 && unmet.latestPastDeadline) {
    events.push({
      type: 'Warning',
      reason: 'MissedSchedule',
      note: `missed ${unmet.pastDeadline > 100 ? 'more than 100' : unmet.pastDeadline} cron times up to ${iso(unmet.latestPastDeadline)}, older than startingDeadlineSeconds: skipped`,
    });
  }
  if (unmet.tooMany) {
    events.push({
      type: 'Warning',
      reason: 'TooManyMissedTimes',
      note: 'more than 100 cron times were missed (operator down, or schedule suspended); acting on the most recent one only. Set startingDeadlineSeconds to bound the catch-up',
    });
  }
  if (blockedAtCronTime && unmet.due) {
    events.push({
      type: 'Normal',
      reason: 'RunAlreadyActive',
      note: `not starting a run for the cron time ${iso(unmet.due)}: a run is still active (concurrencyPolicy Forbid); it starts when that run finishes, within startingDeadlineSeconds`,
    });
  }
  return events;
}
