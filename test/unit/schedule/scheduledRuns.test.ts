// The ModelRun a schedule creates from a draft, and what the schedule reads back from one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSchedule } from '../../../crds/generated/types.ts';
import {
  ATTEMPT_LABEL,
  SCHEDULE_GENERATION_ANNOTATION,
  SCHEDULE_LABEL,
  STREAM_LABEL,
  type RunDraft,
  isOwnedBy,
  modelRunFor,
  scheduledRunFacts,
} from '../../../controllers/planning/scheduledRuns.ts';
import { firstBlockAtOrAfter } from '../../../controllers/planning/blockSearch.ts';

function schedule(spec: Partial<ModelSchedule['spec']> = {}): ModelSchedule {
  return {
    metadata: { name: 'transfers', namespace: 'team', uid: 'uid-s', generation: 4 },
    spec: {
      model: 'erc20_transfers',
      chain: 'ethereum',
      trigger: { realtime: true },
      runTemplate: {
        metadata: { labels: { team: 'data', [SCHEDULE_LABEL]: 'spoofed' }, annotations: { note: 'x' } },
        spec: { maxRetriesPerBatch: 5, activeDeadlineSeconds: 600, sink: { topic: 'prod-ethereum-sink' } },
      },
      ...spec,
    },
  };
}

const draft = (stream: 'head' | 'gaps'): RunDraft => ({
  name: 'transfers-0123456789',
  range: { minBlock: 1000, maxBlock: 1500 },
  attempt: 2,
  stream,
  batches: 1,
});

test('modelRunFor: model, version, chain and an inclusive range; owned by the schedule as its controller', () => {
  const run = modelRunFor(schedule(), draft('head'), 1);
  assert.deepEqual(run.spec, {
    model: 'erc20_transfers',
    version: 'v1',
    chain: 'ethereum',
    blocks: { start: 1000, end: 1499 },
    executor: 'queue',
    lane: 'realtime',
    maxRetriesPerBatch: 5,
    activeDeadlineSeconds: 600,
    sink: { topic: 'prod-ethereum-sink' },
  });
  assert.deepEqual(run.metadata?.labels, {
    team: 'data',
    [SCHEDULE_LABEL]: 'transfers',
    [STREAM_LABEL]: 'head',
    [ATTEMPT_LABEL]: '2',
  });
  assert.deepEqual(run.metadata?.annotations, { note: 'x', [SCHEDULE_GENERATION_ANNOTATION]: '4' });
  assert.deepEqual(run.metadata?.ownerReferences, [
    {
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'ModelSchedule',
      name: 'transfers',
      uid: 'uid-s',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(isOwnedBy(run, 'uid-s'), true);
  assert.equal(isOwnedBy(run, 'uid-other'), false);
});

const laneCases = [
  {
    name: 'gap-filling runs use the backfill lane',
    spec: {},
    stream: 'gaps' as const,
    want: { lane: 'backfill' },
  },
  {
    name: 'gap-filling runs use backfill.queue when it is set',
    spec: {
      backfill: { sinceBlock: 0, queue: 'backfill_2' },
      runTemplate: { spec: { executor: 'queue' as const } },
    },
    stream: 'gaps' as const,
    want: { queue: 'backfill_2' },
  },
  {
    name: "head runs use the template's queue when it is set",
    spec: { runTemplate: { spec: { executor: 'queue' as const, queue: 'special' } } },
    stream: 'head' as const,
    want: { queue: 'special' },
  },
  {
    name: "head runs use the template's lane",
    spec: { runTemplate: { spec: { lane: 'backfill' as const } } },
    stream: 'head' as const,
    want: { lane: 'backfill' },
  },
  {
    name: 'job runs have no lane or queue, and take the job settings',
    spec: { runTemplate: { spec: { executor: 'job' as const, job: { parallelism: 3 } } } },
    stream: 'gaps' as const,
    want: { job: { parallelism: 3 } },
  },
];

for (const { name, spec, stream, want } of laneCases) {
  test(`modelRunFor: ${name}`, () => {
    const run = modelRunFor(schedule(spec), draft(stream), 1);
    const { lane, queue, job } = run.spec;
    assert.deepEqual(
      Object.fromEntries(Object.entries({ lane, queue, job }).filter(([, value]) => value !== undefined)),
      want,
    );
  });
}

test('scheduledRunFacts reads back what modelRunFor wrote, with the status the run controller wrote', () => {
  const run = modelRunFor(schedule(), draft('gaps'), 1);
  run.metadata = {
    ...run.metadata,
    uid: 'uid-r',
    creationTimestamp: '2026-06-01T00:00:00Z' as unknown as Date,
  };
  run.status = {
    phase: 'Running',
    startedAt: '2026-06-01T00:00:05Z',
    lastProgressAt: '2026-06-01T00:01:00Z',
  };
  assert.deepEqual(scheduledRunFacts(run), {
    name: 'transfers-0123456789',
    uid: 'uid-r',
    range: { minBlock: 1000, maxBlock: 1500 },
    version: 1,
    attempt: 2,
    stream: 'gaps',
    phase: 'Running',
    deleting: false,
    createdAt: new Date('2026-06-01T00:00:00Z'),
    finishedAt: undefined,
    lastProgressAt: new Date('2026-06-01T00:01:00Z'),
    scheduleGeneration: 4,
    activeDeadlineSeconds: 600,
  });
  run.status = { phase: 'Pending' };
  assert.equal(scheduledRunFacts(run)?.lastProgressAt.toISOString(), '2026-06-01T00:00:00.000Z');
});

const searchCases = [
  { name: 'a day in the middle', timestamps: [0, 10, 20, 30, 40], target: 25, want: 3 },
  { name: 'exactly on a block', timestamps: [0, 10, 20, 30, 40], target: 20, want: 2 },
  { name: 'before the first block', timestamps: [5, 10, 20], target: 0, want: 0 },
  { name: 'after the head: not reached yet', timestamps: [0, 10, 20], target: 21, want: undefined },
  { name: 'equal timestamps: the first of them', timestamps: [0, 10, 10, 10, 40], target: 10, want: 1 },
];

for (const { name, timestamps, target, want } of searchCases) {
  test(`firstBlockAtOrAfter: ${name}`, async () => {
    let lookups = 0;
    const got = await firstBlockAtOrAfter(target, timestamps.length - 1, async (block) => {
      lookups += 1;
      return timestamps[block]!;
    });
    assert.equal(got, want);
    assert.ok(lookups <= Math.ceil(Math.log2(timestamps.length)) + 2, `${lookups} lookups`);
  });
}
