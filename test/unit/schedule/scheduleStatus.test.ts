// nextScheduleStatus and the cron cursor: what a schedule's status says and which Events a
// person sees, from what the controller observed and did.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSchedule } from '../../../crds/generated/types.ts';
import { findCondition } from '../../../controllers/planning/conditions.ts';
import type { RunDecisions } from '../../../controllers/planning/runDecisions.ts';
import {
  type PlannedScheduleObservation,
  actionEvents,
  cronEvents,
  nextScheduleStatus,
} from '../../../controllers/planning/scheduleStatus.ts';
import { cronTriggerOf, nextCronCursor } from '../../../controllers/planning/scheduleTrigger.ts';
import { assessWindow } from '../../../controllers/planning/scheduleWindow.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const LATER = new Date('2026-06-01T12:00:30Z');

function schedule(
  overrides: Partial<ModelSchedule['spec']> = {},
  status?: ModelSchedule['status'],
): ModelSchedule {
  return {
    metadata: { name: 's', namespace: 'n', uid: 'u', generation: 2 },
    spec: { model: 'erc20_transfers', chain: 'local', trigger: { realtime: true }, ...overrides },
    ...(status ? { status } : {}),
  };
}

const noDecisions: RunDecisions = { create: [], replace: [], expire: [], blocked: [], held: 0 };

function planned(
  overrides: Partial<PlannedScheduleObservation> = {},
): { kind: 'planned' } & PlannedScheduleObservation {
  return {
    kind: 'planned',
    windowStart: 0,
    followingFrom: 20,
    assessment: assessWindow({
      delimiters: [{ fromBlock: 0, batchSize: 10 }],
      windowStart: 0,
      scanFrom: 0,
      completeInputs: new Set([0, 10, 20, 30]),
      completeOutputs: new Set([0, 10]),
    }),
    decisions: { ...noDecisions, held: 1 },
    created: [],
    scheduledAt: NOW,
    active: [{ apiVersion: 'modelrunner.io/v1alpha1', kind: 'ModelRun', namespace: 'n', name: 's-a' }],
    consecutiveFailedRuns: 0,
    stopped: false,
    stopAfterFailedRuns: 5,
    tipUnknown: false,
    cron: undefined,
    lagSeconds: 20,
    lastSuccessfulTime: undefined,
    batchSizeAtHead: 10,
    ...overrides,
  };
}

test('a planned schedule: window, heads, lag, coverage, pending and conditions', () => {
  const { status, events } = nextScheduleStatus(schedule(), planned(), NOW);
  assert.deepEqual(
    { ...status, conditions: undefined },
    {
      observedGeneration: 2,
      windowStartBlock: 0,
      followingFromBlock: 20,
      processedThroughBlock: 19,
      ingestedThroughBlock: 39,
      headBlock: 39,
      pendingBatches: 2,
      lag: { blocks: 20, seconds: 20 },
      coverage: { expectedBlocks: 40, coveredBlocks: 20, percent: 50 },
      consecutiveFailedRuns: 0,
      active: [{ apiVersion: 'modelrunner.io/v1alpha1', kind: 'ModelRun', namespace: 'n', name: 's-a' }],
      message: '2 pending batches (1 in active runs), lag 20 blocks (20 s), 1 active run',
      conditions: undefined,
    },
  );
  const reasons = Object.fromEntries(
    (status.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]),
  );
  assert.deepEqual(reasons, {
    Lagging: 'False NearHead',
    Ready: 'True Following',
    Stopped: 'False FailuresBelowLimit',
    Suspended: 'False Resumed',
  });
  assert.deepEqual(events, []);
});

test('Lagging turns True at ten batches behind the head', () => {
  const observation = planned();
  observation.assessment = { ...observation.assessment, lagBlocks: 100 };
  const { status } = nextScheduleStatus(schedule(), observation, NOW);
  assert.equal(findCondition(status.conditions, 'Lagging')?.status, 'True');
});

test('a stopped schedule: Ready False, Stopped True with a Warning, once', () => {
  const first = nextScheduleStatus(schedule(), planned({ stopped: true, consecutiveFailedRuns: 5 }), NOW);
  assert.equal(findCondition(first.status.conditions, 'Ready')?.reason, 'Stopped');
  assert.equal(findCondition(first.status.conditions, 'Stopped')?.reason, 'TooManyFailedRuns');
  assert.deepEqual(
    first.events.map((e) => `${e.type} ${e.reason}`),
    ['Warning Stopped'],
  );
  const again = nextScheduleStatus(
    schedule({}, first.status),
    planned({ stopped: true, consecutiveFailedRuns: 5 }),
    LATER,
  );
  assert.deepEqual(again.events, []);
  assert.equal(
    findCondition(again.status.conditions, 'Stopped')?.lastTransitionTime,
    findCondition(first.status.conditions, 'Stopped')?.lastTransitionTime,
  );
});

test('suspend and resume: the condition flips, Events say so, Ready follows', () => {
  const suspended = nextScheduleStatus(schedule({ suspend: true }), planned(), NOW);
  assert.equal(findCondition(suspended.status.conditions, 'Suspended')?.status, 'True');
  assert.equal(findCondition(suspended.status.conditions, 'Ready')?.reason, 'Suspended');
  assert.deepEqual(
    suspended.events.map((e) => e.reason),
    ['Suspended'],
  );
  const resumed = nextScheduleStatus(schedule({ suspend: false }, suspended.status), planned(), LATER);
  assert.deepEqual(
    resumed.events.map((e) => e.reason),
    ['Resumed'],
  );
  assert.equal(findCondition(resumed.status.conditions, 'Ready')?.status, 'True');
});

test('an invalid spec: Ready False with the reason, and a Warning', () => {
  const { status, events } = nextScheduleStatus(
    schedule(),
    { kind: 'invalid', reason: 'UnknownChain', message: 'chain "x" is not configured' },
    NOW,
  );
  assert.equal(findCondition(status.conditions, 'Ready')?.reason, 'UnknownChain');
  assert.equal(status.message, 'chain "x" is not configured');
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.reason}`),
    ['Warning UnknownChain'],
  );
});

test('created runs set lastScheduleTime; a success sets lastSuccessfulTime; the cron cursor is kept', () => {
  const observation = planned({
    created: [{ name: 's-b', range: { minBlock: 30, maxBlock: 40 }, attempt: 1, stream: 'head', batches: 1 }],
    scheduledAt: new Date('2026-06-01T11:00:00Z'),
    lastSuccessfulTime: new Date('2026-06-01T10:00:00Z'),
    cron: {
      unmet: { due: undefined, missed: 0, tooMany: false, pastDeadline: 0, latestPastDeadline: undefined },
      lastCronTime: new Date('2026-06-01T11:00:00Z'),
    },
  });
  const { status } = nextScheduleStatus(schedule(), observation, NOW);
  assert.equal(status.lastScheduleTime, '2026-06-01T11:00:00Z');
  assert.equal(status.lastSuccessfulTime, '2026-06-01T10:00:00Z');
  assert.equal(status.lastCronTime, '2026-06-01T11:00:00Z');
  assert.match(
    status.message ?? '',
    /^2 pending batches \(2 in active runs\)/,
    'runs just created hold their batches',
  );
});

test('actionEvents: expired, replaced, created and pruned runs', () => {
  const run = {
    name: 's-old',
    uid: 'x',
    range: { minBlock: 0, maxBlock: 20 },
    version: 1,
    attempt: 1,
    stream: 'head' as const,
    phase: 'Running' as const,
    deleting: false,
    createdAt: NOW,
    finishedAt: undefined,
    lastProgressAt: NOW,
    scheduleGeneration: 2,
    activeDeadlineSeconds: undefined,
  };
  const events = actionEvents(
    { ...noDecisions, expire: [{ run, idleSeconds: 3700, activeDeadlineSeconds: 4000 }], replace: [run] },
    [{ name: 's-new', range: { minBlock: 0, maxBlock: 30 }, attempt: 2, stream: 'gaps', batches: 3 }],
    ['s-older'],
    3600,
  );
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.reason}: ${e.note}`),
    [
      'Warning RunExpired: run s-old finished no batch for 3700 s (progressDeadlineSeconds 3600): expired; its unfinished batches become pending again',
      'Normal RunReplaced: deleted active run s-old over blocks 0-19 (concurrencyPolicy Replace)',
      'Normal RunCreated: created run s-new over blocks 0-29 (3 batches, attempt 2, gap-filling)',
      'Normal SuccessfulDelete: deleted finished run s-older (history limit)',
    ],
  );
});

test('cronEvents: times given up for the deadline, too many missed, a time held back by Forbid', () => {
  const events = cronEvents(
    {
      unmet: {
        due: new Date('2026-06-01T11:00:00Z'),
        missed: 101,
        tooMany: true,
        pastDeadline: 3,
        latestPastDeadline: new Date('2026-06-01T09:00:00Z'),
      },
      lastCronTime: undefined,
    },
    true,
  );
  assert.deepEqual(
    events.map((e) => e.reason),
    ['MissedSchedule', 'TooManyMissedTimes', 'RunAlreadyActive'],
  );
  assert.deepEqual(cronEvents(undefined, true), []);
});

const cursorCases = [
  {
    name: 'acted on the due time: the cursor moves to it',
    last: '2026-06-01T09:00:00Z',
    now: '2026-06-01T11:30:00Z',
    deadline: undefined,
    acted: true,
    want: '2026-06-01T11:00:00Z',
  },
  {
    name: 'held back (Forbid): the cursor stays, the time stays due',
    last: '2026-06-01T09:00:00Z',
    now: '2026-06-01T11:30:00Z',
    deadline: undefined,
    acted: false,
    want: '2026-06-01T09:00:00Z',
  },
  {
    name: 'held back past the deadline: the cursor moves past the times given up',
    last: '2026-06-01T09:00:00Z',
    now: '2026-06-01T11:30:00Z',
    deadline: 1800,
    acted: false,
    want: '2026-06-01T10:00:00Z',
  },
];

for (const { name, last, now, deadline, acted, want } of cursorCases) {
  test(`nextCronCursor: ${name}`, () => {
    const spec = schedule({
      trigger: { schedule: '0 * * * *' },
      ...(deadline === undefined ? {} : { startingDeadlineSeconds: deadline }),
    }).spec;
    const trigger = cronTriggerOf(spec, new Date(last), new Date('2026-01-01T00:00:00Z'), new Date(now));
    assert.equal(nextCronCursor(trigger, new Date(last), acted)?.toISOString(), new Date(want).toISOString());
  });
}

test('cronTriggerOf: no cron schedule, no trigger; creation is where counting starts', () => {
  assert.equal(cronTriggerOf(schedule().spec, undefined, NOW, NOW), undefined);
  const trigger = cronTriggerOf(
    schedule({ trigger: { schedule: '0 * * * *', timeZone: 'UTC' } }).spec,
    undefined,
    new Date('2026-06-01T09:30:00Z'),
    new Date('2026-06-01T11:30:00Z'),
  );
  assert.equal(trigger?.unmet.missed, 2);
  assert.equal(trigger?.next.toISOString(), '2026-06-01T12:00:00.000Z');
});
