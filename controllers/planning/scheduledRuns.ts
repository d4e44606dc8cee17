// The ModelRuns a schedule creates: their deterministic names, the object itself, and what the
// schedule reads back from one (its range, attempt, stream and phase). Pure.
//
// A run's name is `<schedule>-<10 characters>`, the characters a hash of the schedule's uid, the
// block range, the model version and the attempt. Whoever computes the same decision computes
// the same name, so a second operator, or a retry after a lost answer, gets AlreadyExists
// instead of a second run over the same batches. Work that has to be done again (the range of a
// run that failed, expired or was replaced) gets the next attempt, hence a new name.
import { createHash } from 'node:crypto';
import {
  type BlockRange,
  blockRangeFromApi,
  blockRangeToApi,
  modelVersionFromApi,
  modelVersionToApi,
} from '../../contract/apiConversions.ts';
import type { ModelRun, ModelRunSpec, ModelSchedule } from '../../crds/generated/types.ts';
import type { RunPhase } from './runStatus.ts';

/** The new blocks at the head, or the gaps of the backfill window before where the schedule started following. */
export type RunStream = 'head' | 'gaps';

export const SCHEDULE_LABEL = 'modelrunner.io/schedule';
export const STREAM_LABEL = 'modelrunner.io/schedule-stream';
export const ATTEMPT_LABEL = 'modelrunner.io/attempt';
/** The schedule's metadata.generation when it created the run: failures count only under the current spec. */
export const SCHEDULE_GENERATION_ANNOTATION = 'modelrunner.io/schedule-generation';
/** Set on a run the schedule expired for making no progress, saying so. */
export const EXPIRED_BY_ANNOTATION = 'modelrunner.io/expired-by';

const NAME_HASH_LENGTH = 10;

/** What the schedule knows of one of its runs. */
export interface ScheduledRunFacts {
  name: string;
  uid: string;
  /** Half-open. */
  range: BlockRange;
  version: number | undefined;
  attempt: number;
  stream: RunStream;
  phase: RunPhase | undefined;
  /** metadata.deletionTimestamp is set (replaced, pruned, or its namespace is going). */
  deleting: boolean;
  createdAt: Date;
  finishedAt: Date | undefined;
  /** When a batch last finished, else when the first was sent, else creation. */
  lastProgressAt: Date;
  scheduleGeneration: number | undefined;
  activeDeadlineSeconds: number | undefined;
}

const FINISHED: readonly RunPhase[] = ['Succeeded', 'Failed', 'Expired'];

export function isFinishedRun(run: ScheduledRunFacts): boolean {
  return run.phase !== undefined && FINISHED.includes(run.phase);
}

/** Not finished and not going away: it holds its batches and counts against the concurrency policy. */
export function isActiveRun(run: ScheduledRunFacts): boolean {
  return !isFinishedRun(run) && !run.deleting;
}

/** `<schedule>-<hash>`: at most 40 + 1 + 10 = 51 characters, inside a ModelRun's 52. */
export function scheduledRunName(
  schedule: { name: string; uid: string },
  range: BlockRange,
  version: number,
  attempt: number,
): string {
  const digest = createHash('sha256')
    .update(`${schedule.uid}/${range.minBlock}-${range.maxBlock}/v${version}/${attempt}`)
    .digest();
  // Base 36 of the first 8 bytes, left-padded: lower-case letters and digits only.
  const hash = BigInt(`0x${digest.subarray(0, 8).toString('hex')}`)
    .toString(36)
    .padStart(NAME_HASH_LENGTH, '0')
    .slice(-NAME_HASH_LENGTH);
  return `${schedule.name}-${hash}`;
}

function date(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

function wholeNumber(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/** True when `run` names the schedule with this uid as its controller. */
export function isOwnedBy(run: ModelRun, scheduleUid: string): boolean {
  return (run.metadata?.ownerReferences ?? []).some(
    (owner) => owner.controller === true && owner.uid === scheduleUid,
  );
}

/** The facts of a run the schedule owns; undefined for a run without a block range (not one of ours). */
export function scheduledRunFacts(run: ModelRun): ScheduledRunFacts | undefined {
  const metadata = run.metadata ?? {};
  if (!run.spec.blocks || !metadata.name) return undefined;
  const createdAt = date(metadata.creationTimestamp) ?? new Date(0);
  const status = run.status ?? {};
  const versionText = run.spec.version ?? status.version;
  return {
    name: metadata.name,
    uid: metadata.uid ?? '',
    range: blockRangeFromApi(run.spec.blocks),
    version: versionText === undefined ? undefined : modelVersionFromApi(versionText),
    attempt: wholeNumber(metadata.labels?.[ATTEMPT_LABEL]) ?? 1,
    stream: metadata.labels?.[STREAM_LABEL] === 'gaps' ? 'gaps' : 'head',
    phase: status.phase,
    deleting: Boolean(metadata.deletionTimestamp),
    createdAt,
    finishedAt: date(status.finishedAt),
    lastProgressAt: date(status.lastProgressAt) ?? date(status.startedAt) ?? createdAt,
    scheduleGeneration: wholeNumber(metadata.annotations?.[SCHEDULE_GENERATION_ANNOTATION]),
    activeDeadlineSeconds: run.spec.activeDeadlineSeconds,
  };
}

/** A run the schedule decided to create. */
export interface RunDraft {
  name: string;
  range: BlockRange;
  attempt: number;
  stream: RunStream;
  batches: number;
}

/**
 * The ModelRun for a draft: model, version and chain from the schedule, the range from the
 * pending batches, the rest from the run template. Gap-filling runs use the backfill lane (or
 * backfill.queue); runs at the head use the template's lane or queue.
 */
export function modelRunFor(schedule: ModelSchedule, draft: RunDraft, version: number): ModelRun {
  const metadata = schedule.metadata ?? {};
  const template = schedule.spec.runTemplate ?? {};
  const templateSpec = template.spec ?? {};
  const executor = templateSpec.executor ?? 'queue';
  const spec: ModelRunSpec = {
    model: schedule.spec.model,
    version: modelVersionToApi(version),
    chain: schedule.spec.chain,
    blocks: blockRangeToApi(draft.range),
    executor,
  };
  if (executor === 'queue') {
    const gapQueue = draft.stream === 'gaps' ? schedule.spec.backfill?.queue : undefined;
    const queue = draft.stream === 'gaps' ? gapQueue : templateSpec.queue;
    if (queue) spec.queue = queue;
    else spec.lane = draft.stream === 'gaps' ? 'backfill' : (templateSpec.lane ?? 'realtime');
  }
  if (executor === 'job' && templateSpec.job) spec.job = templateSpec.job;
  if (templateSpec.maxRetriesPerBatch !== undefined)
    spec.maxRetriesPerBatch = templateSpec.maxRetriesPerBatch;
  if (templateSpec.activeDeadlineSeconds !== undefined)
    spec.activeDeadlineSeconds = templateSpec.activeDeadlineSeconds;
  if (templateSpec.sink) spec.sink = templateSpec.sink;
  return {
    apiVersion: 'modelrunner.io/v1alpha1',
    kind: 'ModelRun',
    metadata: {
      name: draft.name,
      namespace: metadata.namespace,
      labels: {
        ...template.metadata?.labels,
        [SCHEDULE_LABEL]: metadata.name ?? '',
        [STREAM_LABEL]: draft.stream,
        [ATTEMPT_LABEL]: String(draft.attempt),
      },
      annotations: {
        ...template.metadata?.annotations,
        [SCHEDULE_GENERATION_ANNOTATION]: String(metadata.generation ?? 0),
      },
      ownerReferences: [
        {
          apiVersion: 'modelrunner.io/v1alpha1',
          kind: 'ModelSchedule',
          name: metadata.name ?? '',
          uid: metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec,
  };
}
