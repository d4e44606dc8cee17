// A schedule's finished runs: the failure streak its stop rule counts, and which runs its
// history limits delete. Pure.
//
// The streak counts runs created under the current spec (the generation the schedule had when
// it created them), newest first, that ended Failed or Expired, up to the first that
// Succeeded. Counting from the runs themselves keeps it right across operator restarts; so
// that pruning cannot erase it, the runs of a streak are kept (even past
// failedRunsHistoryLimit) until a success ends it or the spec changes: they are also what a
// person wants to read when the schedule has stopped.
import { type ScheduledRunFacts, isFinishedRun } from './scheduledRuns.ts';

export interface HistoryLimits {
  successfulRunsHistoryLimit: number;
  failedRunsHistoryLimit: number;
  /** 0: never stop. */
  stopAfterFailedRuns: number;
}

function newestFirst(a: ScheduledRunFacts, b: ScheduledRunFacts): number {
  const at = (run: ScheduledRunFacts) => (run.finishedAt ?? run.createdAt).getTime();
  return at(b) - at(a) || b.name.localeCompare(a.name);
}

function finishedRuns(runs: readonly ScheduledRunFacts[]): ScheduledRunFacts[] {
  return runs.filter((run) => isFinishedRun(run) && !run.deleting).sort(newestFirst);
}

/** The runs of the current failure streak, newest first. */
export function failureStreak(runs: readonly ScheduledRunFacts[], generation: number): ScheduledRunFacts[] {
  const streak: ScheduledRunFacts[] = [];
  for (const run of finishedRuns(runs)) {
    if (run.scheduleGeneration !== generation) continue;
    if (run.phase === 'Succeeded') break;
    streak.push(run);
  }
  return streak;
}

export function isStopped(streak: readonly ScheduledRunFacts[], limits: HistoryLimits): boolean {
  return limits.stopAfterFailedRuns > 0 && streak.length >= limits.stopAfterFailedRuns;
}

/** Finished runs beyond the history limits, oldest last; a streak's runs are kept while the stop rule counts them. */
export function runsToPrune(
  runs: readonly ScheduledRunFacts[],
  streak: readonly ScheduledRunFacts[],
  limits: HistoryLimits,
): ScheduledRunFacts[] {
  const keepStreak = limits.stopAfterFailedRuns > 0 ? new Set(streak.map((run) => run.name)) : new Set();
  let succeeded = 0;
  let failed = 0;
  const prune: ScheduledRunFacts[] = [];
  for (const run of finishedRuns(runs)) {
    if (run.phase === 'Succeeded') {
      succeeded += 1;
      if (succeeded > limits.successfulRunsHistoryLimit) prune.push(run);
    } else if (!keepStreak.has(run.name)) {
      failed += 1;
      if (failed > limits.failedRunsHistoryLimit) prune.push(run);
    }
  }
  return prune;
}

/** The newest finish of a Succeeded run, or `previous` when that is newer (pruned runs are gone). */
export function lastSuccessfulTime(
  runs: readonly ScheduledRunFacts[],
  previous: Date | undefined,
): Date | undefined {
  let latest = previous;
  for (const run of runs) {
    if (run.phase !== 'Succeeded' || !run.finishedAt) continue;
    if (!latest || run.finishedAt.getTime() > latest.getTime()) latest = run.finishedAt;
  }
  return latest;
}
