// The ModelRun reconciler: read the run (gone → stop; deleting → cancel its queued batches and
// let it go), look at the world (markers, what workers reported, the Job or the queue), plan in
// pure code, send what is ready, and write status only when it changed and at most once per
// interval while the run is going. Level-based: it never asks which event woke it, and a
// second reconcile of a finished run changes nothing.
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { BlockRange } from '../../contract/apiConversions.ts';
import type { BatchOutcome } from '../../contract/batchOutcomes.ts';
import type { RunRequest } from '../../contract/batchMessage.ts';
import { workQueueName } from '../../contract/queues.ts';
import { INGESTION_ROOT_PATHS } from '../../dataplane/paths.ts';
import type { ModelRun } from '../../crds/generated/types.ts';
import { resolveDates } from '../planning/dateResolution.ts';
import { indexedJobFor, jobNameFor, parseIndexes } from '../planning/indexedJob.ts';
import { batchRangeOf, isEveryBatchReady, planRun } from '../planning/runPlan.ts';
import {
  type RunTarget,
  isRunSpecProblem,
  resolveRunTarget,
  runRequestOf,
  specBlockRange,
} from '../planning/runRequest.ts';
import {
  type PlannedRunObservation,
  type RunObservation,
  TERMINAL_PHASES,
  deadlineAt,
  isFinished,
  nextModelRunStatus,
} from '../planning/runStatus.ts';
import { MODEL_RUN_FINALIZER, type ModelRunPorts } from './modelRunPorts.ts';
import { StatusThrottle } from './statusThrottle.ts';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

const done = (): ReconcileResult => ({});
const requeueAfter = (ms: number): ReconcileResult => ({ requeueAfterMs: Math.max(1, Math.ceil(ms)) });

export class ModelRunController {
  readonly #ports: ModelRunPorts;
  readonly #throttle: StatusThrottle;

  constructor(ports: ModelRunPorts) {
    this.#ports = ports;
    this.#throttle = new StatusThrottle(ports.settings.statusIntervalMs);
  }

  async reconcile(key: string, log: Logger = this.#ports.log): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.#ports.runs.get(namespace, name);
    if (!cached) {
      return done();
    }
    const uid = cached.metadata?.uid ?? '';
    const runLog = log.child({ runId: `${namespace}/${name}`, runUid: uid });
    if (cached.metadata?.deletionTimestamp) return this.#finalize(cached, runLog);
    const run = await this.#ports.runs.addFinalizer(cached, MODEL_RUN_FINALIZER);
    if (isFinished(run)) return this.#afterFinish(run, runLog);

    const now = this.#ports.clock();
    const observation = await this.#observe(run, now, runLog);
    const next = nextModelRunStatus(run, observation, now);
    const finished = TERMINAL_PHASES.includes(next.status.phase ?? 'Pending');
    const decision = this.#throttle.decide(uid, run.status, next.status, now);
    if (decision === 'later') return requeueAfter(this.#throttle.waitMs(uid, now));
    if (finished && next.status.phase !== 'Succeeded') await this.#stopWork(run, observation, runLog);
    if (decision === 'write') {
      await this.#ports.runs.applyStatus(run, next.status);
      this.#throttle.written(uid, next.status, now);
      if (run.status?.phase !== next.status.phase) {
        runLog.info({ phase: next.status.phase, message: next.status.message }, 'phase changed');
      }
      for (const event of next.events) this.#ports.events.record(run, event.type, event.reason, event.note);
    }
    if (finished) return this.#afterFinish({ ...run, status: next.status }, runLog);
    return requeueAfter(this.#nextLook(run, observation, now));
  }

  /** The run is being deleted: its batches left on a queue are dropped by the workers; its Job goes with it. */
  async #finalize(run: ModelRun, log: Logger): Promise<ReconcileResult> {
    if (!run.metadata?.finalizers?.includes(MODEL_RUN_FINALIZER)) return done();
    await this.#ports.ledger.markCancelled(run.metadata.uid ?? '');
    await this.#ports.runs.removeFinalizer(run, MODEL_RUN_FINALIZER);
    this.#throttle.forget(run.metadata.uid ?? '');
    log.info('run deleted: its queued batches are cancelled');
    return done();
  }

  /** A finished run changes nothing; it only waits for its TTL. */
  async #afterFinish(run: ModelRun, log: Logger): Promise<ReconcileResult> {
    const ttl = run.spec.ttlSecondsAfterFinished;
    const finishedAt = run.status?.finishedAt;
    if (ttl === undefined || finishedAt === undefined) return done();
    const deleteAt = Date.parse(finishedAt) + ttl * 1000;
    const now = this.#ports.clock().getTime();
    if (now < deleteAt) return requeueAfter(deleteAt - now);
    log.info({ ttlSecondsAfterFinished: ttl }, 'run finished longer ago than its TTL: deleting it');
    await this.#ports.runs.delete(run);
    return done();
  }

  async #observe(run: ModelRun, now: Date, log: Logger): Promise<RunObservation> {
    const target = resolveRunTarget(run, this.#ports.settings.chains);
    if (isRunSpecProblem(target)) return { kind: 'invalid', problem: target };
    const range = await this.#resolveRange(run, target);
    if ('waiting' in range) return { kind: 'unresolved', reason: 'WaitingForDates', message: range.waiting };
    const request = runRequestOf(run, target, range.range);
    return run.spec.executor === 'job'
      ? this.#observeJobRun(run, target, request, now, log)
      : this.#observeQueueRun(run, target, request, now, log);
  }

  async #resolveRange(
    run: ModelRun,
    target: RunTarget,
  ): Promise<{ range: BlockRange } | { waiting: string }> {
    const blocks = specBlockRange(run);
    if (blocks) return { range: blocks };
    const dates = run.spec.dates!;
    const lastDay = new Date(Date.parse(`${dates.end}T00:00:00Z`) + 31 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const days = await this.#ports.markers.dayRanges({
      chain: target.chain.name,
      rootPaths: [INGESTION_ROOT_PATHS.blocks],
      fromDt: dates.start,
      toDt: lastDay,
    });
    const resolution = resolveDates(dates, days);
    return resolution.kind === 'resolved' ? { range: resolution.range } : { waiting: resolution.message };
  }

  /** Batch starts complete in every one of `rootPaths` (every batch when there are none). */
  async #completeIn(chain: string, rootPaths: readonly string[], range: BlockRange): Promise<Set<number>> {
    if (rootPaths.length === 0) return new Set();
    return new Set(await this.#ports.markers.batchesCompleteInAll(chain, rootPaths, [range]));
  }

  /**
   * The run's plan and what workers reported, as the status needs them: every fact a planned
   * run's status is computed from, before the executor adds its own (queue or Job).
   */
  async #planned(
    run: ModelRun,
    target: RunTarget,
    request: RunRequest,
    dispatched: Set<number>,
    now: Date,
    executor: 'queue' | 'job',
  ): Promise<PlannedRunObservation> {
    const { manifest, chain } = target;
    // The markers of whole batches: the range's first batch may start before the range does.
    const batches = batchRangeOf(chain, request.range);
    const [reports, completeOutputs, completeInputs, lastSafeBlock] = await Promise.all([
      this.#reports(request),
      this.#completeIn(
        chain.name,
        manifest.outputs.map((output) => output.rootPath),
        batches,
      ),
      this.#completeIn(chain.name, manifest.inputRootPaths, batches),
      manifest.inputRootPaths.length === 0
        ? this.#ports.tips.lastSafeBlock(chain.name)
        : Promise.resolve(undefined),
    ]);
    const plan = planRun({
      request,
      chain,
      manifest,
      markers: { completeOutputs, completeInputs },
      lastSafeBlock,
      dispatched,
      finished: new Set(reports.outcomes.keys()),
      maxInFlight: run.spec.dryRun ? 0 : this.#ports.settings.maxInFlightPerRun,
      suspended: run.spec.suspend ?? false,
      now,
    });
    const observed: PlannedRunObservation = {
      request,
      plan,
      ...reports,
      dispatched,
      failedIndexes: new Set(),
      executor,
    };
    if (lastSafeBlock !== undefined) observed.lastSafeBlock = lastSafeBlock;
    return observed;
  }

  /** The run's reported outcomes and failures, keyed for the planner (batch starts). */
  async #reports(
    request: RunRequest,
  ): Promise<Pick<PlannedRunObservation, 'outcomes' | 'failures' | 'lastProgressAt'>> {
    const uid = request.runId.uid;
    const [byId, { failures, lastProgressAt }] = await Promise.all([
      this.#ports.ledger.outcomes(uid),
      this.#ports.ledger.progress(uid),
    ]);
    const outcomes = new Map<number, BatchOutcome>();
    for (const [batchId, outcome] of byId) {
      const start = batchStartOf(request, batchId);
      if (start !== undefined) outcomes.set(start, outcome);
    }
    const observed: Pick<PlannedRunObservation, 'outcomes' | 'failures' | 'lastProgressAt'> = {
      outcomes,
      failures,
    };
    if (lastProgressAt) observed.lastProgressAt = lastProgressAt;
    return observed;
  }

  async #observeQueueRun(
    run: ModelRun,
    target: RunTarget,
    request: RunRequest,
    now: Date,
    log: Logger,
  ): Promise<RunObservation> {
    const uid = request.runId.uid;
    const queue =
      run.spec.queue ?? workQueueName(request.chain, run.spec.lane ?? 'backfill', target.manifest.kind);
    const dispatched = new Set<number>();
    for (const batchId of await this.#ports.ledger.dispatched(uid)) {
      const start = batchStartOf(request, batchId);
      if (start !== undefined) dispatched.add(start);
    }
    const observed = await this.#planned(run, target, request, dispatched, now, 'queue');
    const { toDispatch } = observed.plan;
    if (toDispatch.length > 0 && !this.#isPastDeadline(run, now)) {
      // Confirmed by the broker first, recorded second: a crash in between re-sends (harmless), never loses.
      await this.#ports.queues.send(queue, toDispatch);
      const ids = toDispatch.map((message) => message.batchId);
      await this.#ports.ledger.recordDispatched(uid, ids);
      for (const message of toDispatch) dispatched.add(message.minBlock);
      log.info({ queue, batches: ids.length }, 'batches dispatched');
    }
    observed.queue = queue;
    if (dispatched.size > 0) observed.consumers = await this.#ports.queues.consumers(queue);
    return { kind: 'planned', ...observed };
  }

  async #observeJobRun(
    run: ModelRun,
    target: RunTarget,
    request: RunRequest,
    now: Date,
    log: Logger,
  ): Promise<RunObservation> {
    const namespace = run.metadata?.namespace ?? '';
    const observed = await this.#planned(run, target, request, new Set(), now, 'job');
    const { plan } = observed;
    const jobName = jobNameFor(run.metadata?.name ?? '', request.runId.uid, plan.batches.length);
    observed.jobName = jobName;
    let job = await this.#ports.jobs.get(namespace, jobName);
    if (job && !this.#ownsJob(run, job)) {
      return {
        kind: 'unresolved',
        reason: 'JobNameTaken',
        message: `a Job named ${jobName} that this run does not own exists in namespace ${namespace}: delete it, or create the run under another name`,
      };
    }
    if (!job && !run.spec.dryRun && isEveryBatchReady(plan) && !this.#isPastDeadline(run, now)) {
      const secretName = this.#ports.settings.worker.secretName;
      if (!(await this.#ports.secrets.exists(namespace, secretName))) {
        observed.workerSecretMissing = { secretName };
        return { kind: 'planned', ...observed };
      }
      job = indexedJobFor(run, request, plan.batches.length, this.#ports.settings.worker);
      await this.#ports.jobs.create(job);
      log.info({ job: jobName, completions: plan.batches.length }, 'indexed job created');
    }
    if (job) {
      if ((job.spec?.suspend ?? false) !== (run.spec.suspend ?? false)) {
        await this.#ports.jobs.setSuspend(namespace, jobName, run.spec.suspend ?? false);
      }
      observed.dispatched = new Set(plan.batches.map((batch) => batch.minBlock));
      observed.failedIndexes = new Set(
        [...parseIndexes(job.status?.failedIndexes)].map((index) => plan.batches[index]?.minBlock ?? -1),
      );
    }
    return { kind: 'planned', ...observed };
  }

  #ownsJob(run: ModelRun, job: V1Job): boolean {
    return (job.metadata?.ownerReferences ?? []).some(
      (owner) => owner.uid === run.metadata?.uid && owner.controller,
    );
  }

  #isPastDeadline(run: ModelRun, now: Date): boolean {
    const deadline = deadlineAt(run, now);
    return deadline !== undefined && now >= deadline;
  }

  /** Failed or Expired: nothing of the run may run on. Queued messages are dropped, the Job goes. */
  async #stopWork(run: ModelRun, observation: RunObservation, log: Logger): Promise<void> {
    await this.#ports.ledger.markCancelled(run.metadata?.uid ?? '');
    if (observation.kind === 'planned' && observation.jobName && observation.dispatched.size > 0) {
      await this.#ports.jobs.delete(run.metadata?.namespace ?? '', observation.jobName);
      log.info({ job: observation.jobName }, 'job deleted: the run has ended');
    }
  }

  /** When to look again: soon while batches are out or waiting, never for nothing. */
  #nextLook(run: ModelRun, observation: RunObservation, now: Date): number {
    const { statusIntervalMs, waitPollMs } = this.#ports.settings;
    let delay =
      observation.kind === 'planned' && observation.dispatched.size > 0 ? statusIntervalMs : waitPollMs;
    const deadline = deadlineAt(run, now);
    if (deadline !== undefined) delay = Math.min(delay, Math.max(1, deadline.getTime() - now.getTime()));
    return delay;
  }
}

/** The first block of one of the run's batch ids (`<chain>/<model>/<minBlock>`); undefined for another model's. */
function batchStartOf(request: RunRequest, batchId: string): number | undefined {
  const prefix = `${request.chain}/${request.model}/`;
  return batchId.startsWith(prefix) ? Number(batchId.slice(prefix.length)) : undefined;
}
