// decideRuns and friends: which runs a schedule creates, replaces and expires, from its pending
// batches and its runs. Batches of 10 blocks; the schedule follows from block 100 (before it:
// the gaps of the backfill window).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_ACTIVE_RUNS,
  type RunDecisionInput,
  decideRuns,
  groupBatches,
  nextAttempt,
  nextExpiryAt,
  runsToExpire,
} from '../../../controllers/planning/runDecisions.ts';
import { type ScheduledRunFacts, scheduledRunName } from '../../../controllers/planning/scheduledRuns.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const SCHEDULE = { name: 'transfers', uid: 'uid-1' };
const batches = (...blocks: number[]) => blocks.map((minBlock) => ({ minBlock, maxBlock: minBlock + 10 }));
const span = (from: number, to: number) =>
  batches(...Array.from({ length: (to - from) / 10 }, (_, i) => from + i * 10));

function run(overrides: Partial<ScheduledRunFacts> & { name: string }): ScheduledRunFacts {
  return {
    uid: `uid-${overrides.name}`,
    range: { minBlock: 100, maxBlock: 110 },
    version: 1,
    attempt: 1,
    stream: 'head',
    phase: 'Running',
    deleting: false,
    createdAt: new Date(NOW.getTime() - 60_000),
    finishedAt: undefined,
    lastProgressAt: new Date(NOW.getTime() - 10_000),
    scheduleGeneration: 1,
    activeDeadlineSeconds: undefined,
    ...overrides,
  };
}

function input(overrides: Partial<RunDecisionInput>): RunDecisionInput {
  return {
    schedule: SCHEDULE,
    version: 1,
    pending: [],
    followingFrom: 100,
    runs: [],
    policy: 'Forbid',
    maxBatchesPerRun: 3,
    mayCreate: true,
    progressDeadlineSeconds: 3600,
    now: NOW,
    ...overrides,
  };
}

const created = (decisions: ReturnType<typeof decideRuns>) =>
  decisions.create.map(
    (draft) => `${draft.stream} ${draft.range.minBlock}-${draft.range.maxBlock} #${draft.attempt}`,
  );

test('groupBatches: consecutive batches, at most max per group, a gap starts a new group', () => {
  assert.deepEqual(
    groupBatches(batches(0, 10, 20, 30, 50, 60), 3).map((group) => group.map((batch) => batch.minBlock)),
    [[0, 10, 20], [30], [50, 60]],
  );
  assert.deepEqual(groupBatches([], 3), []);
});

const policyCases: {
  name: string;
  input: Partial<RunDecisionInput>;
  create: string[];
  replace?: string[];
  blocked?: string[];
  held?: number;
}[] = [
  {
    name: 'Forbid, nothing active: one run per stream, lowest blocks first, never across where it follows from',
    input: { pending: [...batches(60, 70, 80, 90), ...span(100, 150)] },
    create: ['head 100-130 #1', 'gaps 60-90 #1'],
  },
  {
    name: 'Forbid, the head stream busy: the gaps still get their run, the head waits',
    input: { pending: span(60, 150), runs: [run({ name: 'a', range: { minBlock: 100, maxBlock: 120 } })] },
    create: ['gaps 60-90 #1'],
    blocked: ['head'],
    held: 2,
  },
  {
    name: 'Forbid, a run of another version in the stream still blocks it, but holds no batch',
    input: {
      pending: span(100, 120),
      runs: [run({ name: 'a', version: 2, range: { minBlock: 100, maxBlock: 120 } })],
    },
    create: [],
    blocked: ['head'],
    held: 0,
  },
  {
    name: 'Forbid, all pending work inside the active run: the stream is still held (a cron time waits for it)',
    input: { pending: span(100, 120), runs: [run({ name: 'a', range: { minBlock: 100, maxBlock: 120 } })] },
    create: [],
    blocked: ['head'],
    held: 2,
  },
  {
    name: 'Allow: runs side by side over everything free, up to the active cap',
    input: {
      policy: 'Allow',
      pending: span(100, 190),
      runs: [run({ name: 'a', range: { minBlock: 100, maxBlock: 110 } })],
    },
    create: ['head 110-140 #1', 'head 140-170 #1', 'head 170-190 #1'],
    held: 1,
  },
  {
    name: `Allow: never more than ${MAX_ACTIVE_RUNS} active at once (a resume does not flood)`,
    input: { policy: 'Allow', maxBatchesPerRun: 1, pending: span(100, 300) },
    create: span(100, 200).map((batch) => `head ${batch.minBlock}-${batch.maxBlock} #1`),
  },
  {
    name: 'Allow at the cap: blocked',
    input: {
      policy: 'Allow',
      pending: span(200, 210),
      runs: Array.from({ length: MAX_ACTIVE_RUNS }, (_, i) =>
        run({ name: `r${i}`, range: { minBlock: 100 + i * 10, maxBlock: 110 + i * 10 } }),
      ),
    },
    create: [],
    blocked: ['head'],
  },
  {
    name: "Replace: the stream's active run goes, one run takes everything pending there, its batches included",
    input: {
      policy: 'Replace',
      pending: span(100, 130),
      runs: [run({ name: 'a', range: { minBlock: 100, maxBlock: 120 } })],
    },
    create: ['head 100-130 #1'],
    replace: ['a'],
  },
  {
    name: 'Replace over the same range as the run it replaces: the next attempt, so a new name',
    input: {
      policy: 'Replace',
      maxBatchesPerRun: 2,
      pending: span(100, 130),
      runs: [run({ name: 'a', range: { minBlock: 100, maxBlock: 120 }, attempt: 2 })],
    },
    create: ['head 100-120 #3'],
    replace: ['a'],
    held: 2,
  },
  {
    name: 'Replace with no new work: nothing happens to the active run',
    input: {
      policy: 'Replace',
      pending: span(100, 120),
      runs: [run({ name: 'a', range: { minBlock: 100, maxBlock: 120 } })],
    },
    create: [],
    replace: [],
  },
  {
    name: 'not allowed to create (suspended, stopped or not triggered): nothing',
    input: { mayCreate: false, pending: span(60, 150) },
    create: [],
  },
  {
    name: 'a finished run does not hold its batches: its range again, as the next attempt',
    input: {
      pending: span(100, 120),
      runs: [
        run({
          name: 'a',
          range: { minBlock: 100, maxBlock: 120 },
          phase: 'Failed',
          attempt: 1,
          finishedAt: NOW,
        }),
      ],
    },
    create: ['head 100-120 #2'],
  },
  {
    name: 'a run going away does not hold its batches and its attempt is skipped',
    input: {
      pending: span(100, 110),
      runs: [run({ name: 'a', range: { minBlock: 100, maxBlock: 110 }, deleting: true, attempt: 3 })],
    },
    create: ['head 100-110 #4'],
  },
];

for (const { name, input: overrides, create, replace = [], blocked = [], held } of policyCases) {
  test(`decideRuns: ${name}`, () => {
    const decisions = decideRuns(input(overrides));
    assert.deepEqual(created(decisions), create);
    assert.deepEqual(
      decisions.replace.map((r) => r.name),
      replace,
    );
    assert.deepEqual(decisions.blocked, blocked);
    if (held !== undefined) assert.equal(decisions.held, held);
  });
}

test('decideRuns: names are deterministic per (range, version, attempt), so a repeated decision makes the same run', () => {
  const first = decideRuns(input({ pending: span(100, 130) }));
  const again = decideRuns(input({ pending: span(100, 130) }));
  assert.deepEqual(first.create, again.create);
  const name = first.create[0]!.name;
  assert.match(name, /^transfers-[a-z0-9]{10}$/);
  assert.equal(name, scheduledRunName(SCHEDULE, { minBlock: 100, maxBlock: 130 }, 1, 1));
  const distinct = new Set([
    name,
    scheduledRunName(SCHEDULE, { minBlock: 100, maxBlock: 140 }, 1, 1),
    scheduledRunName(SCHEDULE, { minBlock: 100, maxBlock: 130 }, 2, 1),
    scheduledRunName(SCHEDULE, { minBlock: 100, maxBlock: 130 }, 1, 2),
    scheduledRunName({ ...SCHEDULE, uid: 'uid-2' }, { minBlock: 100, maxBlock: 130 }, 1, 1),
  ]);
  assert.equal(distinct.size, 5);
});

test('scheduledRunName fits a ModelRun name (52) for the longest schedule name (40)', () => {
  const longest = scheduledRunName(
    { name: 'a'.repeat(40), uid: 'u' },
    { minBlock: 0, maxBlock: 1 },
    9999,
    100,
  );
  assert.equal(longest.length, 51);
  assert.match(longest, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
});

test('nextAttempt: one past every run over the same range and version', () => {
  const runs = [
    run({ name: 'a', range: { minBlock: 0, maxBlock: 10 }, attempt: 2, phase: 'Expired' }),
    run({ name: 'b', range: { minBlock: 0, maxBlock: 10 }, attempt: 5, version: 2, phase: 'Failed' }),
    run({ name: 'c', range: { minBlock: 0, maxBlock: 20 }, attempt: 7, phase: 'Failed' }),
  ];
  assert.equal(nextAttempt(runs, { minBlock: 0, maxBlock: 10 }, 1), 3);
  assert.equal(nextAttempt(runs, { minBlock: 0, maxBlock: 10 }, 2), 6);
  assert.equal(nextAttempt(runs, { minBlock: 10, maxBlock: 20 }, 1), 1);
});

test('runsToExpire: active runs idle past the progress deadline get their age as a deadline', () => {
  const runs = [
    run({
      name: 'idle',
      lastProgressAt: new Date(NOW.getTime() - 3_600_000),
      createdAt: new Date(NOW.getTime() - 7_200_000),
    }),
    run({ name: 'busy', lastProgressAt: new Date(NOW.getTime() - 3_599_000) }),
    run({ name: 'done', lastProgressAt: new Date(0), phase: 'Succeeded', finishedAt: NOW }),
    run({ name: 'going', lastProgressAt: new Date(0), deleting: true }),
    run({
      name: 'expiring',
      lastProgressAt: new Date(0),
      createdAt: new Date(NOW.getTime() - 7_200_000),
      activeDeadlineSeconds: 7000,
    }),
  ];
  const expired = runsToExpire(runs, 3600, NOW);
  assert.deepEqual(
    expired.map((e) => [e.run.name, e.idleSeconds, e.activeDeadlineSeconds]),
    [['idle', 3600, 7200]],
  );
  assert.deepEqual(decideRuns(input({ runs, progressDeadlineSeconds: 3600 })).expire, expired);
});

test('nextExpiryAt: the next progress deadline still ahead; runs past theirs (expired by this look) are not waited for', () => {
  const runs = [
    run({ name: 'past', lastProgressAt: new Date(NOW.getTime() - 4_000_000) }),
    run({ name: 'soon', lastProgressAt: new Date(NOW.getTime() - 3_000_000) }),
    run({ name: 'later', lastProgressAt: new Date(NOW.getTime() - 1_000_000) }),
    run({ name: 'done', lastProgressAt: new Date(NOW.getTime() - 3_500_000), phase: 'Succeeded' }),
  ];
  assert.equal(nextExpiryAt(runs, 3600, NOW)?.toISOString(), new Date(NOW.getTime() + 600_000).toISOString());
  assert.equal(nextExpiryAt([runs[0]!], 3600, NOW), undefined);
});
