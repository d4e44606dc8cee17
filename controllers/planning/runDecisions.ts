// Which runs a schedule creates, replaces and expires now, from its pending batches and its
// runs. Pure: the markers' verdict (pending batches) and the runs come in as data.
//
// - Pending batches inside an active run belong to it. The rest are grouped into runs of
//   consecutive batches, at most maxBatchesPerRun each, lowest blocks first, never across the
//   block where the schedule started following (gap-filling and head runs differ in lane).
// - The head and the gaps are two streams with one concurrency policy each, so a long
//   gap-filling run never holds the head back. Forbid: no new run in a stream while one is
//   active there. Replace: the stream's active runs are deleted and one run starts over
//   everything pending in it. Allow: runs side by side, at most MAX_ACTIVE_RUNS at once, so a
//   resume after a long suspension does not flood the cluster.
// - An active run that finished no batch for progressDeadlineSeconds is expired: its
//   activeDeadlineSeconds is set to its age, so the run controller ends it as Expired.
import type { BlockRange } from '../../contract/apiConversions.ts';
import type { BlockBatch } from '../../dataplane/batches.ts';
import {
  type RunDraft,
  type RunStream,
  type ScheduledRunFacts,
  isActiveRun,
  scheduledRunName,
} from './scheduledRuns.ts';

export type ConcurrencyPolicy = 'Allow' | 'Forbid' | 'Replace';

/** Under Allow, the most runs of one schedule active at once. */
export const MAX_ACTIVE_RUNS = 10;

const STREAMS: readonly RunStream[] = ['head', 'gaps'];

export interface RunDecisionInput {
  schedule: { name: string; uid: string };
  version: number;
  /** Ready batches without complete outputs, in block order. */
  pending: readonly BlockBatch[];
  /** Batches from here on are the head stream; before it, the gaps. */
  followingFrom: number;
  runs: readonly ScheduledRunFacts[];
  policy: ConcurrencyPolicy;
  maxBatchesPerRun: number;
  /** Not suspended, not stopped, and triggered now (realtime, or a cron time is due). */
  mayCreate: boolean;
  progressDeadlineSeconds: number;
  now: Date;
}

export interface RunExpiry {
  run: ScheduledRunFacts;
  idleSeconds: number;
  /** The run's new activeDeadlineSeconds: its age, so its deadline has passed. */
  activeDeadlineSeconds: number;
}

export interface RunDecisions {
  create: RunDraft[];
  /** Active runs to delete before the new ones start (Replace). */
  replace: ScheduledRunFacts[];
  expire: RunExpiry[];
  /** Streams with pending work where the policy let no run start. */
  blocked: RunStream[];
  /** Pending batches inside active runs. */
  held: number;
}

export function streamOf(batch: BlockBatch, followingFrom: number): RunStream {
  return batch.minBlock >= followingFrom ? 'head' : 'gaps';
}

function inside(batch: BlockBatch, range: BlockRange): boolean {
  return batch.minBlock >= range.minBlock && batch.maxBlock <= range.maxBlock;
}

/** Consecutive batches, at most `max` per group, in block order. */
export function groupBatches(batches: readonly BlockBatch[], max: number): BlockBatch[][] {
  const groups: BlockBatch[][] = [];
  let current: BlockBatch[] = [];
  for (const batch of batches) {
    const last = current.at(-1);
    if (last && (last.maxBlock !== batch.minBlock || current.length >= max)) {
      groups.push(current);
      current = [];
    }
    current.push(batch);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * The next attempt at `range`: one past every run over the same range and version the schedule
 * still has (finished, going away, or being replaced now), so the new name is free.
 */
export function nextAttempt(runs: readonly ScheduledRunFacts[], range: BlockRange, version: number): number {
  let attempt = 0;
  for (const run of runs) {
    if (run.range.minBlock !== range.minBlock || run.range.maxBlock !== range.maxBlock) continue;
    if (run.version !== version) continue;
    attempt = Math.max(attempt, run.attempt);
  }
  return attempt + 1;
}

/** Active runs idle longer than the progress deadline and not already past a deadline of their own. */
export function runsToExpire(
  runs: readonly ScheduledRunFacts[],
  progressDeadlineSeconds: number,
  now: Date,
): RunExpiry[] {
  const expiries: RunExpiry[] = [];
  for (const run of runs) {
    if (!isActiveRun(run)) continue;
    const idleSeconds = Math.floor((now.getTime() - run.lastProgressAt.getTime()) / 1000);
    if (idleSeconds < progressDeadlineSeconds) continue;
    const ageSeconds = Math.max(1, Math.floor((now.getTime() - run.createdAt.getTime()) / 1000));
    if (run.activeDeadlineSeconds !== undefined && run.activeDeadlineSeconds <= ageSeconds) continue;
    expiries.push({ run, idleSeconds, activeDeadlineSeconds: ageSeconds });
  }
  return expiries;
}

/**
 * When the next active run reaches its progress deadline, after `now` (undefined when none
 * will). A run already past it was expired by this look and waits for its controller: looking
 * again for it at once would only spin.
 */
export function nextExpiryAt(
  runs: readonly ScheduledRunFacts[],
  progressDeadlineSeconds: number,
  now: Date,
): Date | undefined {
  const times = runs
    .filter(isActiveRun)
    .map((run) => run.lastProgressAt.getTime() + progressDeadlineSeconds * 1000)
    .filter((at) => at > now.getTime());
  return times.length === 0 ? undefined : new Date(Math.min(...times));
}

export function decideRuns(input: RunDecisionInput): RunDecisions {
  const { runs, policy, now } = input;
  const active = runs.filter(isActiveRun);
  const sameVersion = active.filter((run) => run.version === input.version);
  const isHeld = (batch: BlockBatch, by: readonly ScheduledRunFacts[]) =>
    by.some((run) => inside(batch, run.range));
  const held = input.pending.filter((batch) => isHeld(batch, sameVersion)).length;
  const decisions: RunDecisions = {
    create: [],
    replace: [],
    expire: runsToExpire(runs, input.progressDeadlineSeconds, now),
    blocked: [],
    held,
  };
  let activeCount = active.length;
  for (const stream of STREAMS) {
    const inStream = input.pending.filter((batch) => streamOf(batch, input.followingFrom) === stream);
    if (inStream.length === 0 || !input.mayCreate) continue;
    const activeInStream = active.filter((run) => run.stream === stream);
    // Forbid holds the stream while a run is active in it, as a CronJob's Forbid holds the time.
    if (policy === 'Forbid' && activeInStream.length > 0) {
      decisions.blocked.push(stream);
      continue;
    }
    const free = inStream.filter((batch) => !isHeld(batch, sameVersion));
    if (free.length === 0) continue;
    let candidates = free;
    let allowed: number;
    if (policy === 'Replace') {
      decisions.replace.push(...activeInStream);
      activeCount -= activeInStream.length;
      const replaced = new Set(activeInStream.map((run) => run.name));
      const stillHolding = sameVersion.filter((run) => !replaced.has(run.name));
      candidates = inStream.filter((batch) => !isHeld(batch, stillHolding));
      allowed = 1;
    } else if (policy === 'Forbid') {
      allowed = 1;
    } else {
      allowed = Math.max(0, MAX_ACTIVE_RUNS - activeCount);
    }
    const groups = groupBatches(candidates, input.maxBatchesPerRun);
    if (allowed === 0) decisions.blocked.push(stream);
    for (const group of groups.slice(0, allowed)) {
      const range = { minBlock: group[0]!.minBlock, maxBlock: group.at(-1)!.maxBlock };
      const attempt = nextAttempt(runs, range, input.version);
      decisions.create.push({
        name: scheduledRunName(input.schedule, range, input.version, attempt),
        range,
        attempt,
        stream,
        batches: group.length,
      });
      activeCount += 1;
    }
  }
  return decisions;
}
