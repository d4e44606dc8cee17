// The ModelSchedule reconciler: read the schedule (gone or deleting → stop: its runs go with it
// by owner reference), read the markers over its window, decide in pure code which runs to
// create, replace, expire and prune, act idempotently (run names are deterministic, so
// AlreadyExists is success), and write status only when it changed. Level-based: it never asks
// which event woke it; a run's status change wakes it through the ModelRun informer.
//
// Reading the window: the first look, a spec change, a due cron time and every
// FULL_SCAN_INTERVAL_MS read the whole window; in between, a realtime look reads only from the
// first batch without complete outputs (everything before it was complete at the last full
// read), which keeps a look every couple of seconds cheap however long the window is.
import type { Logger } from 'pino';
import { INGESTION_ROOT_PATHS } from '../../dataplane/paths.ts';
import { batchContaining } from '../../dataplane/batches.ts';
import type { ModelSchedule, ObjectReference } from '../../crds/generated/types.ts';
import { decideRuns, nextExpiryAt } from '../planning/runDecisions.ts';
import { failureStreak, isStopped, lastSuccessfulTime, runsToPrune } from '../planning/runHistory.ts';
import {
  type RunDraft,
  type ScheduledRunFacts,
  isActiveRun,
  isOwnedBy,
  modelRunFor,
  scheduledRunFacts,
} from '../planning/scheduledRuns.ts';
import {
  type PlannedScheduleObservation,
  type ScheduleEvent,
  type ScheduleObservation,
  actionEvents,
  cronEvents,
  nextScheduleStatus,
} from '../planning/scheduleStatus.ts';
import {
  type ScheduleTarget,
  backfillStart,
  isScheduleSpecProblem,
  resolveScheduleTarget,
} from '../planning/scheduleTarget.ts';
import { cronTriggerOf, nextCronCursor } from '../planning/scheduleTrigger.ts';
import { type WindowFacts, assessWindow } from '../planning/scheduleWindow.ts';
import type { ModelSchedulePorts } from './modelSchedulePorts.ts';
import { RunExpectations } from './runExpectations.ts';
import { type MarkerRead, readWindowMarkers } from './windowMarkers.ts';
import { ScheduleStatusWrites } from './scheduleStatusWrites.ts';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** How often the whole window is read again, to notice gaps that opened below the head. */
export const FULL_SCAN_INTERVAL_MS = 5 * 60_000;
/** Status numbers (lag, coverage) are refreshed at least this often, realtime or not. */
const STATUS_REFRESH_MS = 30_000;
/** While the window cannot be resolved (no tip, a day not reached), look again after this long. */
const WAITING_POLL_MS = 5_000;
const ACTIVE_LISTED = 64;

const done = (): ReconcileResult => ({});
const requeueAfter = (ms: number): ReconcileResult => ({ requeueAfterMs: Math.max(1, Math.ceil(ms)) });

/** What the controller remembers of a schedule between looks; losing it only costs a full read. */
interface ScanMemory {
  generation: number;
  windowStart: number;
  completeThrough: number;
  fullScanAt: number;
}

export class ModelScheduleController {
  readonly #ports: ModelSchedulePorts;
  readonly #writes: ScheduleStatusWrites;
  readonly #expectations = new RunExpectations();
  readonly #scans = new Map<string, ScanMemory>();
  /**
   * The state this controller keeps in status (where it follows from, the cron cursor), also
   * kept here: a status read back without them (restored without status, or read through an
   * older CRD that prunes them) must not move the window or fire a cron time twice.
   */
  readonly #written = new Map<string, { followingFrom?: number; lastCronTime?: Date }>();
  /** backfill.sinceDate resolved to a block, per schedule: a day's first block does not move. */
  readonly #sinceDates = new Map<string, { dt: string; block: number }>();
  readonly #uidByKey = new Map<string, string>();

  constructor(ports: ModelSchedulePorts) {
    this.#ports = ports;
    this.#writes = new ScheduleStatusWrites(ports.settings.statusIntervalMs);
  }

  async reconcile(key: string, log: Logger = this.#ports.log): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const schedule = this.#ports.schedules.get(namespace, name);
    if (!schedule || schedule.metadata?.deletionTimestamp) {
      this.#forget(key);
      return done();
    }
    const uid = schedule.metadata?.uid ?? '';
    if (this.#uidByKey.get(key) !== uid) this.#forget(key);
    this.#uidByKey.set(key, uid);
    const now = this.#ports.clock();
    const runs = this.#runsOf(schedule, now);
    const target = resolveScheduleTarget(schedule, this.#ports.settings.chains);
    if (isScheduleSpecProblem(target)) {
      await this.#writeStatus(schedule, { kind: 'invalid', ...target }, [], now, log);
      return done();
    }
    const planned = await this.#plan(schedule, target, runs, now, log);
    if (planned.kind !== 'planned') {
      const observation = { ...planned, active: activeReferences(schedule, runs) };
      const wait = await this.#writeStatus(schedule, observation, [], now, log);
      return requeueAfter(Math.min(WAITING_POLL_MS, wait ?? WAITING_POLL_MS));
    }
    const { observation, events, nextLookMs } = planned;
    const wait = await this.#writeStatus(schedule, observation, events, now, log);
    return requeueAfter(Math.min(nextLookMs, wait ?? nextLookMs));
  }

  #forget(key: string): void {
    const uid = this.#uidByKey.get(key);
    if (uid === undefined) return;
    this.#uidByKey.delete(key);
    this.#scans.delete(uid);
    this.#sinceDates.delete(uid);
    this.#written.delete(uid);
    this.#expectations.forget(uid);
    this.#writes.forget(uid);
  }

  #runsOf(schedule: ModelSchedule, now: Date): ScheduledRunFacts[] {
    const uid = schedule.metadata?.uid ?? '';
    const cached = this.#ports.runs
      .ownedBy(schedule.metadata?.namespace ?? '', uid)
      .map(scheduledRunFacts)
      .filter((facts) => facts !== undefined);
    return this.#expectations.merge(uid, cached, now);
  }

  async #plan(
    schedule: ModelSchedule,
    target: ScheduleTarget,
    runs: ScheduledRunFacts[],
    now: Date,
    log: Logger,
  ): Promise<
    | { kind: 'waiting'; reason: string; message: string }
    | { kind: 'planned'; observation: ScheduleObservation; events: ScheduleEvent[]; nextLookMs: number }
  > {
    const { spec } = schedule;
    const { manifest, chain } = target;
    const uid = schedule.metadata?.uid ?? '';
    const generation = schedule.metadata?.generation ?? 0;
    const isIngest = manifest.inputRootPaths.length === 0;
    const lastSafeBlock = isIngest ? await this.#ports.chains.lastSafeBlock(chain.name) : undefined;

    const sinceDateBlock = await this.#sinceDateBlock(schedule, target, isIngest);
    if (spec.backfill?.sinceDate && sinceDateBlock === undefined) {
      return {
        kind: 'waiting',
        reason: 'BackfillDateUnresolved',
        message: isIngest
          ? `backfill.sinceDate ${spec.backfill.sinceDate}: the operator cannot find that day's first block on chain ${chain.name} (no JSON-RPC endpoint, or the chain has not reached the day)`
          : `backfill.sinceDate ${spec.backfill.sinceDate}: the ingestion markers do not reach that day yet; the window resolves once they do`,
      };
    }
    const backfillFrom = backfillStart(schedule, chain, sinceDateBlock);

    // Where the schedule follows from: the head when it first looked, kept in status.
    const remembered = this.#written.get(uid) ?? {};
    let followingFrom = schedule.status?.followingFromBlock ?? remembered.followingFrom;
    let firstRead: MarkerRead | undefined;
    if (followingFrom === undefined) {
      if (isIngest) {
        if (lastSafeBlock === undefined) {
          return {
            kind: 'waiting',
            reason: 'TipUnknown',
            message: `the operator cannot read chain ${chain.name}'s tip, so it cannot tell where ingestion should start: give the operator the chain's JSON-RPC endpoint`,
          };
        }
        followingFrom = batchContaining(chain.batchSizes, lastSafeBlock + 1).minBlock;
      } else {
        firstRead = await readWindowMarkers(this.#ports.markers, target, backfillFrom ?? 0);
        const inputs = [...(firstRead.completeInputs ?? [])];
        followingFrom =
          inputs.length === 0 ? 0 : batchContaining(chain.batchSizes, Math.max(...inputs)).maxBlock;
      }
    }
    const windowStart = backfillFrom ?? followingFrom;

    // Which part of the window to read.
    const previousCronTime = latest(date(schedule.status?.lastCronTime), remembered.lastCronTime);
    const cron = cronTriggerOf(spec, previousCronTime, createdAt(schedule), now);
    const memory = this.#scans.get(uid);
    const fullScan =
      !memory ||
      memory.generation !== generation ||
      memory.windowStart !== windowStart ||
      now.getTime() - memory.fullScanAt >= FULL_SCAN_INTERVAL_MS ||
      (cron?.unmet.due !== undefined && cron.unmet.due.getTime() > memory.fullScanAt);
    const scanFrom = fullScan ? windowStart : Math.max(windowStart, memory.completeThrough);
    const read =
      firstRead && firstRead.scanFrom <= scanFrom
        ? firstRead
        : await readWindowMarkers(this.#ports.markers, target, scanFrom);
    const facts: WindowFacts = {
      delimiters: chain.batchSizes,
      windowStart,
      scanFrom,
      completeInputs: read.completeInputs,
      completeOutputs: read.completeOutputs,
      lastSafeBlock,
    };
    const assessment = assessWindow(facts);
    this.#scans.set(uid, {
      generation,
      windowStart,
      completeThrough: assessment.completeThrough,
      fullScanAt: fullScan ? now.getTime() : memory!.fullScanAt,
    });

    // What to do.
    const limits = {
      successfulRunsHistoryLimit: spec.successfulRunsHistoryLimit ?? 3,
      failedRunsHistoryLimit: spec.failedRunsHistoryLimit ?? 1,
      stopAfterFailedRuns: spec.stopAfterFailedRuns ?? 5,
    };
    const streak = failureStreak(runs, generation);
    const stopped = isStopped(streak, limits);
    const realtime = spec.trigger.realtime ?? false;
    const mayCreate = !spec.suspend && !stopped && (realtime || cron?.unmet.due !== undefined);
    const progressDeadlineSeconds = spec.progressDeadlineSeconds ?? 3600;
    const decisions = decideRuns({
      schedule: { name: schedule.metadata?.name ?? '', uid },
      version: target.version,
      pending: assessment.pending,
      followingFrom,
      runs,
      policy: spec.concurrencyPolicy ?? 'Forbid',
      maxBatchesPerRun: spec.maxBatchesPerRun ?? 1000,
      mayCreate,
      progressDeadlineSeconds,
      now,
    });
    const pruned = runsToPrune(runs, streak, limits);

    // Act. Each call is idempotent: a repeat after a crash or by another operator changes nothing.
    const events: ScheduleEvent[] = [];
    for (const { run, activeDeadlineSeconds } of decisions.expire) {
      await this.#ports.runs.expire(
        schedule.metadata?.namespace ?? '',
        run.name,
        run.uid,
        activeDeadlineSeconds,
      );
      log.info({ run: run.name, activeDeadlineSeconds }, 'run made no progress: expiring it');
    }
    for (const run of [...decisions.replace, ...pruned]) {
      await this.#ports.runs.delete(schedule.metadata?.namespace ?? '', run.name, run.uid);
      this.#expectations.deleted(uid, run.name, now);
    }
    const { created, createdRuns, nameTaken } = await this.#create(
      schedule,
      target,
      decisions.create,
      now,
      log,
    );
    events.push(
      ...actionEvents(
        decisions,
        created,
        pruned.map((run) => run.name),
        progressDeadlineSeconds,
      ),
    );
    for (const name of nameTaken) {
      events.push({
        type: 'Warning',
        reason: 'RunNameTaken',
        note: `a ModelRun named ${name} that this schedule does not own exists: delete it so the schedule can create its run`,
      });
    }
    const acted =
      mayCreate && cron?.unmet.due !== undefined && (created.length > 0 || decisions.blocked.length === 0);
    const lastCronTime = nextCronCursor(cron, previousCronTime, acted);
    this.#written.set(uid, { followingFrom, ...(lastCronTime ? { lastCronTime } : {}) });
    const cronObserved = cron ? { unmet: cron.unmet, lastCronTime } : undefined;
    events.push(...cronEvents(cronObserved, mayCreate && !acted && decisions.blocked.length > 0));

    const replacedOrPruned = new Set([...decisions.replace, ...pruned].map((run) => run.name));
    const stillActive = runs.filter((run) => isActiveRun(run) && !replacedOrPruned.has(run.name));
    const observation: PlannedScheduleObservation = {
      windowStart,
      followingFrom,
      assessment,
      decisions,
      created,
      scheduledAt: !realtime && acted && cron?.unmet.due ? cron.unmet.due : now,
      active: activeReferences(schedule, [...stillActive, ...createdRuns]),
      consecutiveFailedRuns: streak.length,
      stopped,
      stopAfterFailedRuns: limits.stopAfterFailedRuns,
      tipUnknown: isIngest && lastSafeBlock === undefined,
      cron: cronObserved,
      lagSeconds: await this.#lagSeconds(target, assessment),
      lastSuccessfulTime: lastSuccessfulTime(runs, date(schedule.status?.lastSuccessfulTime)),
      batchSizeAtHead: batchSizeAt(target, assessment.headBlock ?? windowStart),
    };

    // When to look again.
    const looks = [STATUS_REFRESH_MS];
    if (realtime && !spec.suspend && !stopped) looks.push((spec.trigger.pollIntervalSeconds ?? 2) * 1000);
    if (cron) looks.push(cron.next.getTime() - now.getTime());
    const expiry = nextExpiryAt([...stillActive, ...createdRuns], progressDeadlineSeconds, now);
    if (expiry) looks.push(expiry.getTime() - now.getTime());
    return {
      kind: 'planned',
      observation: { kind: 'planned', ...observation },
      events,
      nextLookMs: Math.max(1, Math.min(...looks)),
    };
  }

  /** backfill.sinceDate as a block: from the ingestion markers for a model, from the chain for ingest. */
  async #sinceDateBlock(
    schedule: ModelSchedule,
    target: ScheduleTarget,
    isIngest: boolean,
  ): Promise<number | undefined> {
    const dt = schedule.spec.backfill?.sinceDate;
    if (!dt) return undefined;
    const uid = schedule.metadata?.uid ?? '';
    const remembered = this.#sinceDates.get(uid);
    if (remembered?.dt === dt) return remembered.block;
    let block: number | undefined;
    if (isIngest) {
      block = await this.#ports.chains.firstBlockOfDay(target.chain.name, dt);
    } else {
      const days = await this.#ports.markers.dayRanges({
        chain: target.chain.name,
        rootPaths: [INGESTION_ROOT_PATHS.blocks],
        fromDt: dt,
        toDt: new Date(Date.parse(`${dt}T00:00:00Z`) + 31 * 86_400_000).toISOString().slice(0, 10),
      });
      block = days.find((day) => day.dt >= dt)?.minBlock;
    }
    if (block !== undefined) this.#sinceDates.set(uid, { dt, block });
    return block;
  }

  async #create(
    schedule: ModelSchedule,
    target: ScheduleTarget,
    drafts: readonly RunDraft[],
    now: Date,
    log: Logger,
  ): Promise<{ created: RunDraft[]; createdRuns: ScheduledRunFacts[]; nameTaken: string[] }> {
    const uid = schedule.metadata?.uid ?? '';
    const namespace = schedule.metadata?.namespace ?? '';
    const created: RunDraft[] = [];
    const createdRuns: ScheduledRunFacts[] = [];
    const nameTaken: string[] = [];
    for (const draft of drafts) {
      const outcome = await this.#ports.runs.create(modelRunFor(schedule, draft, target.version));
      const run = outcome.created ? outcome.run : this.#ports.runs.find(namespace, draft.name);
      if (run && !isOwnedBy(run, uid)) {
        nameTaken.push(draft.name);
        continue;
      }
      const facts = run ? scheduledRunFacts(run) : undefined;
      const expected: ScheduledRunFacts = facts ?? {
        name: draft.name,
        uid: '',
        range: draft.range,
        version: target.version,
        attempt: draft.attempt,
        stream: draft.stream,
        phase: undefined,
        deleting: false,
        createdAt: now,
        finishedAt: undefined,
        lastProgressAt: now,
        scheduleGeneration: schedule.metadata?.generation,
        activeDeadlineSeconds: undefined,
      };
      this.#expectations.created(uid, expected, now);
      created.push(draft);
      createdRuns.push(expected);
      log.info(
        {
          run: draft.name,
          blocks: `${draft.range.minBlock}-${draft.range.maxBlock - 1}`,
          attempt: draft.attempt,
          alreadyExisted: !outcome.created,
        },
        'run created',
      );
    }
    return { created, createdRuns, nameTaken };
  }

  /** Seconds between the head's timestamp and the last processed block's; estimated without the chain. */
  async #lagSeconds(
    target: ScheduleTarget,
    assessment: ReturnType<typeof assessWindow>,
  ): Promise<number | undefined> {
    const { headBlock, lagBlocks, processedThroughBlock } = assessment;
    if (headBlock === undefined || lagBlocks === undefined) return undefined;
    if (lagBlocks === 0) return 0;
    if (processedThroughBlock !== undefined) {
      const [head, processed] = await Promise.all([
        this.#ports.chains.blockTime(target.chain.name, headBlock),
        this.#ports.chains.blockTime(target.chain.name, processedThroughBlock),
      ]);
      if (head && processed) return Math.max(0, Math.round((head.getTime() - processed.getTime()) / 1000));
    }
    return Math.round((lagBlocks * 86_400) / target.chain.expectedBlocksPerDay);
  }

  /** Writes the status when it changed; returns how long to wait when the write was put off. */
  async #writeStatus(
    schedule: ModelSchedule,
    observation: ScheduleObservation,
    actions: readonly ScheduleEvent[],
    now: Date,
    log: Logger,
  ): Promise<number | undefined> {
    const uid = schedule.metadata?.uid ?? '';
    const next = nextScheduleStatus(schedule, observation, now);
    for (const event of actions) this.#ports.events.record(schedule, event.type, event.reason, event.note);
    const decision = this.#writes.decide(uid, schedule.status, next.status, now);
    if (decision === 'later') return this.#writes.waitMs(uid, now);
    if (decision === 'unchanged') return undefined;
    await this.#ports.schedules.applyStatus(schedule, next.status);
    this.#writes.written(uid, next.status, now);
    for (const event of next.events)
      this.#ports.events.record(schedule, event.type, event.reason, event.note);
    if (observation.kind !== 'planned')
      log.info({ reason: observation.reason, message: observation.message }, 'schedule waiting');
    return undefined;
  }
}

function date(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

function latest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a || !b) return a ?? b;
  return a.getTime() >= b.getTime() ? a : b;
}

function createdAt(schedule: ModelSchedule): Date {
  return date(schedule.metadata?.creationTimestamp) ?? new Date(0);
}

function batchSizeAt(target: ScheduleTarget, block: number): number {
  const batch = batchContaining(target.chain.batchSizes, Math.max(0, block));
  return batch.maxBlock - batch.minBlock;
}

function activeReferences(schedule: ModelSchedule, runs: readonly ScheduledRunFacts[]): ObjectReference[] {
  return runs
    .filter(isActiveRun)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.name.localeCompare(b.name))
    .slice(0, ACTIVE_LISTED)
    .map((run) => ({
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'ModelRun',
      namespace: schedule.metadata?.namespace,
      name: run.name,
      ...(run.uid ? { uid: run.uid } : {}),
    }));
}
