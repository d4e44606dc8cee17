// The stop rule's failure streak and the history limits, from a schedule's finished runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type HistoryLimits,
  failureStreak,
  isStopped,
  lastSuccessfulTime,
  runsToPrune,
} from '../../../controllers/planning/runHistory.ts';
import type { ScheduledRunFacts } from '../../../controllers/planning/scheduledRuns.ts';

const T0 = Date.parse('2026-06-01T00:00:00Z');

/** A finished run: `minute` orders them (higher is newer). */
function finished(
  name: string,
  phase: 'Succeeded' | 'Failed' | 'Expired',
  minute: number,
  generation = 1,
): ScheduledRunFacts {
  const at = new Date(T0 + minute * 60_000);
  return {
    name,
    uid: `uid-${name}`,
    range: { minBlock: minute * 10, maxBlock: minute * 10 + 10 },
    version: 1,
    attempt: 1,
    stream: 'head',
    phase,
    deleting: false,
    createdAt: at,
    finishedAt: at,
    lastProgressAt: at,
    scheduleGeneration: generation,
    activeDeadlineSeconds: undefined,
  };
}

const limits = (overrides: Partial<HistoryLimits> = {}): HistoryLimits => ({
  successfulRunsHistoryLimit: 3,
  failedRunsHistoryLimit: 1,
  stopAfterFailedRuns: 3,
  ...overrides,
});

const names = (runs: readonly ScheduledRunFacts[]) => runs.map((run) => run.name);

const streakCases = [
  { name: 'no runs', runs: [], generation: 1, streak: [] },
  {
    name: 'failures since the last success, newest first',
    runs: [
      finished('s1', 'Succeeded', 1),
      finished('f1', 'Failed', 2),
      finished('e1', 'Expired', 3),
      finished('f2', 'Failed', 4),
    ],
    generation: 1,
    streak: ['f2', 'e1', 'f1'],
  },
  {
    name: 'a success ends the streak',
    runs: [finished('f1', 'Failed', 1), finished('s1', 'Succeeded', 2)],
    generation: 1,
    streak: [],
  },
  {
    name: 'runs created under an older spec do not count',
    runs: [finished('f1', 'Failed', 1, 1), finished('f2', 'Failed', 2, 1), finished('f3', 'Failed', 3, 2)],
    generation: 2,
    streak: ['f3'],
  },
  {
    name: 'active and deleted runs do not count',
    runs: [
      finished('f1', 'Failed', 1),
      { ...finished('r1', 'Failed', 2), phase: 'Running' as const, finishedAt: undefined },
      { ...finished('d1', 'Failed', 3), deleting: true },
    ],
    generation: 1,
    streak: ['f1'],
  },
];

for (const { name, runs, generation, streak } of streakCases) {
  test(`failureStreak: ${name}`, () => {
    assert.deepEqual(names(failureStreak(runs, generation)), streak);
  });
}

test('isStopped: at the limit, never with 0', () => {
  const streak = failureStreak([finished('f1', 'Failed', 1), finished('f2', 'Failed', 2)], 1);
  assert.equal(isStopped(streak, limits({ stopAfterFailedRuns: 2 })), true);
  assert.equal(isStopped(streak, limits({ stopAfterFailedRuns: 3 })), false);
  assert.equal(isStopped(streak, limits({ stopAfterFailedRuns: 0 })), false);
});

const pruneCases = [
  {
    name: 'keeps the newest successes and failures, deletes the older ones',
    runs: [
      finished('s1', 'Succeeded', 1),
      finished('f1', 'Failed', 2),
      finished('s2', 'Succeeded', 3),
      finished('s3', 'Succeeded', 4),
      finished('e1', 'Expired', 5),
      finished('s4', 'Succeeded', 6),
    ],
    limits: limits({ successfulRunsHistoryLimit: 2, failedRunsHistoryLimit: 1 }),
    prune: ['s2', 'f1', 's1'],
  },
  {
    name: 'limits of 0 delete every finished run outside a streak',
    runs: [finished('f1', 'Failed', 1), finished('s1', 'Succeeded', 2)],
    limits: limits({ successfulRunsHistoryLimit: 0, failedRunsHistoryLimit: 0 }),
    prune: ['s1', 'f1'],
  },
  {
    name: "the current streak's failed runs are kept past failedRunsHistoryLimit, so the stop rule can count them",
    runs: [
      finished('s1', 'Succeeded', 1),
      finished('f1', 'Failed', 2),
      finished('f2', 'Failed', 3),
      finished('f3', 'Failed', 4),
    ],
    limits: limits({ failedRunsHistoryLimit: 0, stopAfterFailedRuns: 3 }),
    prune: [],
  },
  {
    name: 'without a stop rule the streak is not kept',
    runs: [finished('f1', 'Failed', 2), finished('f2', 'Failed', 3)],
    limits: limits({ failedRunsHistoryLimit: 0, stopAfterFailedRuns: 0 }),
    prune: ['f2', 'f1'],
  },
  {
    name: 'active runs are never pruned',
    runs: [{ ...finished('r1', 'Succeeded', 1), phase: 'Running' as const }],
    limits: limits({ successfulRunsHistoryLimit: 0 }),
    prune: [],
  },
];

for (const { name, runs, limits: historyLimits, prune } of pruneCases) {
  test(`runsToPrune: ${name}`, () => {
    assert.deepEqual(names(runsToPrune(runs, failureStreak(runs, 1), historyLimits)), prune);
  });
}

test('lastSuccessfulTime: the newest success, or the remembered one when newer', () => {
  const runs = [finished('s1', 'Succeeded', 1), finished('s2', 'Succeeded', 5), finished('f1', 'Failed', 9)];
  assert.equal(lastSuccessfulTime(runs, undefined)?.toISOString(), '2026-06-01T00:05:00.000Z');
  assert.equal(lastSuccessfulTime(runs, new Date(T0 + 600_000))?.toISOString(), '2026-06-01T00:10:00.000Z');
  assert.equal(lastSuccessfulTime([], undefined), undefined);
});
