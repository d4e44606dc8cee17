import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchOutcome } from '../../../contract/batchOutcomes.ts';
import type { ModelRun, ModelRunStatus } from '../../../crds/generated/types.ts';
import { findCondition } from '../../../controllers/planning/conditions.ts';
import {
  MAX_FAILED_BATCHES_SHOWN,
  type RecordedFailure,
  type RunObservation,
  deadlineAt,
  nextModelRunStatus,
  suspendedSecondsAt,
} from '../../../controllers/planning/runStatus.ts';
import { at, modelRun, observed, plan, request, starts, T0 } from './runFixtures.ts';

const ALL = [0, 100, 200, 300, 400];
const outcomes = (entries: Record<number, BatchOutcome>): Map<number, BatchOutcome> =>
  new Map(Object.entries(entries).map(([start, outcome]) => [Number(start), outcome]));

function conditionOf(status: ModelRunStatus, type: string) {
  return findCondition(status.conditions, type);
}

/** The status a run reaches through a series of observations, each applied to the last status. */
function afterSteps(run: ModelRun, steps: { observation: RunObservation; now: Date }[]) {
  let current = run;
  let last: ReturnType<typeof nextModelRunStatus> | undefined;
  for (const step of steps) {
    last = nextModelRunStatus(current, step.observation, step.now);
    current = { ...current, status: last.status };
  }
  return { run: current, last: last! };
}

describe('nextModelRunStatus: every batch in exactly one class', () => {
  const cases: {
    name: string;
    observation: RunObservation;
    spec?: Partial<ModelRun['spec']>;
    expected: NonNullable<ModelRunStatus['batches']>;
  }[] = [
    {
      name: 'all sent, none finished: queued',
      observation: observed(plan(), { dispatched: starts(...ALL) }),
      expected: { total: 5, skipped: 0, waiting: 0, queued: 5, succeeded: 0, failed: 0 },
    },
    {
      name: 'one of each class (queue executor)',
      observation: observed(
        plan({
          lastSafeBlock: 399,
          markers: { completeOutputs: starts(300), completeInputs: starts() },
          dispatched: starts(0, 100, 200),
        }),
        {
          dispatched: starts(0, 100, 200),
          outcomes: outcomes({ 0: 'succeeded', 100: 'failed' }),
        },
      ),
      // 0 succeeded, 100 failed, 200 queued, 300 complete before it was sent, 400 beyond the tip
      expected: { total: 5, skipped: 1, waiting: 1, queued: 1, succeeded: 1, failed: 1 },
    },
    {
      name: 'a worker that found the batch complete reports it skipped',
      observation: observed(plan({ dispatched: starts(...ALL) }), {
        dispatched: starts(...ALL),
        outcomes: outcomes({ 0: 'skipped', 100: 'skipped', 200: 'succeeded' }),
      }),
      expected: { total: 5, skipped: 2, waiting: 0, queued: 2, succeeded: 1, failed: 0 },
    },
    {
      name: 'waiting: for inputs, for the tip and held back by the window alike',
      observation: observed(
        plan({
          request: request({ model: 'erc20_transfers' }),
          markers: { completeOutputs: starts(), completeInputs: starts(0, 100, 200) },
          maxInFlight: 1,
        }),
        { request: request({ model: 'erc20_transfers' }) },
      ),
      expected: { total: 5, skipped: 0, waiting: 5, queued: 0, succeeded: 0, failed: 0 },
    },
    {
      name: 'job executor: a failed index is failed; a failed attempt whose index may retry is still queued',
      observation: observed(plan(), {
        executor: 'job',
        jobName: 'daily',
        dispatched: starts(...ALL),
        failedIndexes: starts(200),
        outcomes: outcomes({ 0: 'succeeded', 300: 'failed' }),
      }),
      expected: { total: 5, skipped: 0, waiting: 0, queued: 3, succeeded: 1, failed: 1 },
    },
    {
      name: 'job executor before its Job exists: nothing is queued, everything waits',
      observation: observed(plan({ markers: { completeOutputs: starts(0), completeInputs: starts() } }), {
        executor: 'job',
        jobName: 'daily',
        workerSecretMissing: { secretName: 'model-runner-worker' },
      }),
      expected: { total: 5, skipped: 1, waiting: 4, queued: 0, succeeded: 0, failed: 0 },
    },
    {
      name: 'queue executor past its deadline: what was not sent waits, not queued',
      spec: { activeDeadlineSeconds: 10 },
      observation: observed(plan({ dispatched: starts(0) }), { dispatched: starts(0) }),
      expected: { total: 5, skipped: 0, waiting: 4, queued: 1, succeeded: 0, failed: 0 },
    },
  ];
  for (const { name, observation, spec, expected } of cases) {
    it(name, () => {
      const { status } = nextModelRunStatus(modelRun(spec), observation, at(60));
      assert.deepEqual(status.batches, expected);
      const { total, ...classes } = status.batches!;
      assert.equal(
        Object.values(classes).reduce((sum, count) => sum + count, 0),
        total,
        'the classes add up to the total',
      );
    });
  }
});

describe('nextModelRunStatus: phase', () => {
  const allButOneSucceeded = outcomes({
    0: 'succeeded',
    100: 'failed',
    200: 'succeeded',
    300: 'succeeded',
    400: 'succeeded',
  });
  const succeededAll = outcomes({
    0: 'succeeded',
    100: 'succeeded',
    200: 'skipped',
    300: 'succeeded',
    400: 'succeeded',
  });
  const cases: {
    name: string;
    spec?: Partial<ModelRun['spec']>;
    observation: RunObservation;
    now?: Date;
    phase: string;
    condition?: { type: string; reason: string };
    message?: RegExp;
  }[] = [
    {
      name: 'nothing sent yet: Pending',
      observation: observed(plan({ lastSafeBlock: undefined })),
      phase: 'Pending',
      message: /^0\/5 batches done, 5 waiting$/,
    },
    {
      name: 'something sent: Running',
      observation: observed(plan({ maxInFlight: 2, dispatched: starts(0, 100) }), {
        dispatched: starts(0, 100),
      }),
      phase: 'Running',
      message: /^0\/5 batches done, 2 queued, 3 waiting$/,
    },
    {
      name: 'every batch succeeded or skipped: Succeeded',
      observation: observed(plan({ dispatched: starts(...ALL) }), {
        dispatched: starts(...ALL),
        outcomes: succeededAll,
      }),
      phase: 'Succeeded',
      condition: { type: 'Complete', reason: 'AllBatchesComplete' },
      message: /^5\/5 batches done \(4 succeeded, 1 already complete\), 400 blocks modeled$/,
    },
    {
      name: 'every batch complete before the run: Succeeded without sending anything',
      observation: observed(plan({ markers: { completeOutputs: starts(...ALL), completeInputs: starts() } })),
      phase: 'Succeeded',
      condition: { type: 'Complete', reason: 'AllBatchesComplete' },
    },
    {
      name: 'force: complete batches are sent and count as succeeded once done',
      spec: { force: true },
      observation: observed(
        plan({
          request: request({ force: true }),
          markers: { completeOutputs: starts(...ALL), completeInputs: starts() },
          dispatched: starts(...ALL),
        }),
        { dispatched: starts(...ALL), outcomes: outcomes({ 0: 'succeeded', 100: 'succeeded' }) },
      ),
      phase: 'Running',
      message: /^2\/5 batches done, 3 queued$/,
    },
    {
      name: 'queue: a dead-lettered batch and the rest done: Failed',
      observation: observed(plan({ dispatched: starts(...ALL) }), {
        dispatched: starts(...ALL),
        outcomes: allButOneSucceeded,
      }),
      phase: 'Failed',
      condition: { type: 'Failed', reason: 'BatchesFailed' },
      message: /^1 of 5 batches failed for good; the other 4 are done/,
    },
    {
      name: 'queue: a failed batch does not end the run while others are out',
      observation: observed(plan({ dispatched: starts(...ALL) }), {
        dispatched: starts(...ALL),
        outcomes: outcomes({ 0: 'failed', 100: 'succeeded' }),
      }),
      phase: 'Running',
      message: /^1\/5 batches done, 3 queued, 1 failed$/,
    },
    {
      name: 'job: a failed index and the rest done: Failed',
      observation: observed(plan(), {
        executor: 'job',
        jobName: 'daily',
        dispatched: starts(...ALL),
        failedIndexes: starts(100, 300),
        outcomes: outcomes({
          0: 'succeeded',
          100: 'failed',
          200: 'succeeded',
          300: 'failed',
          400: 'skipped',
        }),
      }),
      phase: 'Failed',
      condition: { type: 'Failed', reason: 'BatchesFailed' },
    },
    {
      name: 'job: failed attempts whose indexes may retry keep it Running',
      observation: observed(plan(), {
        executor: 'job',
        jobName: 'daily',
        dispatched: starts(...ALL),
        outcomes: allButOneSucceeded,
      }),
      phase: 'Running',
    },
    {
      name: 'past activeDeadlineSeconds: Expired',
      spec: { activeDeadlineSeconds: 60 },
      observation: observed(plan(), { dispatched: starts(0) }),
      now: at(60),
      phase: 'Expired',
      condition: { type: 'Failed', reason: 'DeadlineExceeded' },
    },
    {
      name: 'a second before the deadline: still Running',
      spec: { activeDeadlineSeconds: 60 },
      observation: observed(plan(), { dispatched: starts(0) }),
      now: at(59),
      phase: 'Running',
    },
    {
      name: 'done at the deadline: Succeeded wins',
      spec: { activeDeadlineSeconds: 60 },
      observation: observed(plan({ dispatched: starts(...ALL) }), {
        dispatched: starts(...ALL),
        outcomes: succeededAll,
      }),
      now: at(3600),
      phase: 'Succeeded',
    },
    {
      name: 'dryRun: Succeeded with the plan, nothing sent',
      spec: { dryRun: true },
      observation: observed(
        plan({
          maxInFlight: 0,
          lastSafeBlock: 299,
          markers: { completeOutputs: starts(0), completeInputs: starts() },
        }),
      ),
      phase: 'Succeeded',
      condition: { type: 'Complete', reason: 'DryRun' },
      message: /^dry run: 5 batches, 1 already complete, 2 waiting, 2 would be sent; nothing was sent$/,
    },
    {
      name: 'an invalid spec: Failed with the reason',
      observation: {
        kind: 'invalid',
        problem: { reason: 'UnknownChain', message: 'chain "x" is not configured' },
      },
      phase: 'Failed',
      condition: { type: 'Failed', reason: 'UnknownChain' },
      message: /^chain "x" is not configured$/,
    },
    {
      name: 'dates not yet resolvable: Pending, not Planned',
      observation: {
        kind: 'unresolved',
        reason: 'WaitingForDates',
        message: 'ingestion has reached 2025-02-27',
      },
      phase: 'Pending',
      condition: { type: 'Planned', reason: 'WaitingForDates' },
    },
    {
      name: 'dates not yet resolvable past the deadline: Expired',
      spec: { activeDeadlineSeconds: 60 },
      observation: {
        kind: 'unresolved',
        reason: 'WaitingForDates',
        message: 'ingestion has reached 2025-02-27',
      },
      now: at(61),
      phase: 'Expired',
      condition: { type: 'Failed', reason: 'DeadlineExceeded' },
    },
  ];
  for (const { name, spec, observation, now, phase, condition, message } of cases) {
    it(name, () => {
      const { status } = nextModelRunStatus(modelRun(spec), observation, now ?? at(30));
      assert.equal(status.phase, phase);
      if (condition) assert.equal(conditionOf(status, condition.type)?.reason, condition.reason);
      if (message) assert.match(status.message ?? '', message);
      const terminal = ['Succeeded', 'Failed', 'Expired'].includes(phase);
      assert.equal(status.finishedAt !== undefined, terminal, 'finishedAt is set exactly when finished');
      assert.equal(status.observedGeneration, 2);
    });
  }

  it('a planned run shows its range, version and progress the API way (inclusive, v<N>)', () => {
    const { status } = nextModelRunStatus(
      modelRun(),
      observed(plan({ dispatched: starts(...ALL) }), {
        dispatched: starts(...ALL),
        outcomes: outcomes({ 0: 'succeeded', 100: 'skipped' }),
      }),
      at(30),
    );
    assert.deepEqual(status.blocks, { start: 0, end: 499 });
    assert.equal(status.version, 'v1');
    assert.equal(status.progress, '2/5');
    assert.equal(status.blocksModeled, 100);
    assert.equal(status.queue, 'local_backfill_nonreads');
  });

  it('startedAt is set by the first dispatch and kept after', () => {
    const run = modelRun();
    const { run: started } = afterSteps(run, [
      { observation: observed(plan({ lastSafeBlock: undefined })), now: at(10) },
      { observation: observed(plan(), { dispatched: starts(0) }), now: at(20) },
    ]);
    assert.equal(started.status?.startedAt, '2025-03-01T12:00:20Z');
    const later = nextModelRunStatus(started, observed(plan(), { dispatched: starts(0, 100) }), at(40));
    assert.equal(later.status.startedAt, '2025-03-01T12:00:20Z');
  });

  it('finishedAt is kept by a later reconcile of a finished run', () => {
    const done = observed(plan({ dispatched: starts(...ALL) }), {
      dispatched: starts(...ALL),
      outcomes: succeededAll,
    });
    const { run } = afterSteps(modelRun(), [{ observation: done, now: at(10) }]);
    const again = nextModelRunStatus(run, done, at(500));
    assert.equal(again.status.finishedAt, '2025-03-01T12:00:10Z');
    assert.deepEqual(again.status, run.status, 'a second look at a finished run changes nothing');
    assert.deepEqual(again.events, []);
  });
});

describe('nextModelRunStatus: conditions', () => {
  const waitingForInputs = observed(
    plan({
      request: request({ model: 'erc20_transfers' }),
      markers: { completeOutputs: starts(), completeInputs: starts(0, 100) },
      dispatched: starts(0, 100),
    }),
    { request: request({ model: 'erc20_transfers' }), dispatched: starts(0, 100), consumers: 2 },
  );
  const inputsComplete = observed(
    plan({
      request: request({ model: 'erc20_transfers' }),
      markers: { completeOutputs: starts(), completeInputs: starts(...ALL) },
      dispatched: starts(...ALL),
    }),
    { request: request({ model: 'erc20_transfers' }), dispatched: starts(...ALL), consumers: 2 },
  );

  it('a planned run carries Planned, WaitingForInputs, WaitingForSafeTip, Suspended, NoConsumers', () => {
    const { status } = nextModelRunStatus(modelRun({ model: 'erc20_transfers' }), waitingForInputs, at(10));
    assert.deepEqual(
      status.conditions?.map(({ type, status: value, reason, observedGeneration }) => ({
        type,
        status: value,
        reason,
        observedGeneration,
      })),
      [
        { type: 'NoConsumers', status: 'False', reason: 'ConsumersPresent', observedGeneration: 2 },
        { type: 'Planned', status: 'True', reason: 'Planned', observedGeneration: 2 },
        { type: 'Suspended', status: 'False', reason: 'Resumed', observedGeneration: 2 },
        { type: 'WaitingForInputs', status: 'True', reason: 'InputsIncomplete', observedGeneration: 2 },
        { type: 'WaitingForSafeTip', status: 'False', reason: 'BelowSafeTip', observedGeneration: 2 },
      ],
    );
    assert.equal(
      conditionOf(status, 'WaitingForInputs')?.message,
      "batches 200-299, 300-399, 400-499 wait for their inputs to be complete (erc20_transfers reads them); they are sent when the inputs' markers land",
    );
    assert.equal(conditionOf(status, 'Planned')?.message, '5 batches over blocks 0-499');
  });

  it('lastTransitionTime moves only when a condition flips', () => {
    const run = modelRun({ model: 'erc20_transfers' });
    const { run: first } = afterSteps(run, [{ observation: waitingForInputs, now: at(10) }]);
    const same = nextModelRunStatus(first, waitingForInputs, at(20));
    assert.deepEqual(same.status.conditions, first.status?.conditions, 'the same world, the same conditions');
    assert.deepEqual(same.events, []);

    const flipped = nextModelRunStatus(first, inputsComplete, at(30));
    const times = (status: ModelRunStatus | undefined) =>
      Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c.lastTransitionTime]));
    assert.deepEqual(times(flipped.status), {
      ...times(first.status),
      WaitingForInputs: '2025-03-01T12:00:30Z',
    });
    assert.equal(conditionOf(flipped.status, 'WaitingForInputs')?.reason, 'InputsComplete');
  });

  it('WaitingForSafeTip says whether the tip is beyond reach or unknown', () => {
    const beyond = nextModelRunStatus(
      modelRun(),
      observed(plan({ lastSafeBlock: 250 }), { lastSafeBlock: 250 }),
      at(1),
    );
    assert.equal(conditionOf(beyond.status, 'WaitingForSafeTip')?.reason, 'BeyondSafeTip');
    assert.match(
      conditionOf(beyond.status, 'WaitingForSafeTip')?.message ?? '',
      /^batches 200-299, 300-399, 400-499 end beyond the chain's last safe block 250/,
    );
    const unknown = nextModelRunStatus(modelRun(), observed(plan({ lastSafeBlock: undefined })), at(1));
    assert.equal(conditionOf(unknown.status, 'WaitingForSafeTip')?.reason, 'TipUnknown');
    assert.match(
      conditionOf(unknown.status, 'WaitingForSafeTip')?.message ?? '',
      /cannot read chain local's tip.*batches 0-99, 100-199, 200-299 and 2 more wait$/,
    );
  });

  it('NoConsumers is True only when batches sit on a queue nobody reads', () => {
    const cases: {
      consumers: number | undefined;
      dispatched: number[];
      outcomes?: Record<number, BatchOutcome>;
      expected: string | undefined;
    }[] = [
      { consumers: 0, dispatched: [0], expected: 'True' },
      { consumers: 3, dispatched: [0], expected: 'False' },
      { consumers: 0, dispatched: [0], outcomes: { 0: 'succeeded' }, expected: 'False' },
      { consumers: undefined, dispatched: [], expected: undefined },
    ];
    for (const { consumers, dispatched, outcomes: reported, expected } of cases) {
      const observation = observed(plan({ lastSafeBlock: 99, dispatched: starts(...dispatched) }), {
        dispatched: starts(...dispatched),
        outcomes: outcomes(reported ?? {}),
        ...(consumers === undefined ? {} : { consumers }),
      });
      const { status } = nextModelRunStatus(modelRun(), observation, at(1));
      assert.equal(
        conditionOf(status, 'NoConsumers')?.status,
        expected,
        JSON.stringify({ consumers, dispatched }),
      );
    }
    const noConsumers = nextModelRunStatus(
      modelRun(),
      observed(plan({ lastSafeBlock: 99, dispatched: starts(0) }), { dispatched: starts(0), consumers: 0 }),
      at(1),
    );
    assert.match(
      conditionOf(noConsumers.status, 'NoConsumers')?.message ?? '',
      /^no worker consumes queue local_backfill_nonreads: 1 batches wait there; create a WorkerPool for it$/,
    );
  });

  it('a job run says how to create a missing worker Secret, and drops NoConsumers', () => {
    const queueRun = afterSteps(modelRun(), [
      {
        observation: observed(plan({ dispatched: starts(0) }), { dispatched: starts(0), consumers: 0 }),
        now: at(1),
      },
    ]).run;
    const { status } = nextModelRunStatus(
      queueRun,
      observed(plan(), {
        executor: 'job',
        jobName: 'daily',
        workerSecretMissing: { secretName: 'model-runner-worker' },
      }),
      at(2),
    );
    assert.equal(conditionOf(status, 'NoConsumers'), undefined);
    const missing = conditionOf(status, 'WorkerSecretMissing');
    assert.equal(missing?.status, 'True');
    assert.match(
      missing?.message ?? '',
      /Secret model-runner-worker in namespace team-a, which does not exist: create it .*kubectl -n team-a create secret generic model-runner-worker --from-literal=CLICKHOUSE_URL=/,
    );
    const found = nextModelRunStatus(
      modelRun(),
      observed(plan(), { executor: 'job', jobName: 'daily' }),
      at(2),
    );
    assert.equal(conditionOf(found.status, 'WorkerSecretMissing')?.status, 'False');
  });
});

describe('nextModelRunStatus: events only for transitions', () => {
  it('a run that plans, waits, runs and succeeds', () => {
    const erc20 = request({ model: 'erc20_transfers' });
    const waiting = observed(
      plan({ request: erc20, markers: { completeOutputs: starts(), completeInputs: starts() } }),
      { request: erc20 },
    );
    const running = observed(
      plan({
        request: erc20,
        markers: { completeOutputs: starts(), completeInputs: starts(...ALL) },
        dispatched: starts(...ALL),
      }),
      { request: erc20, dispatched: starts(...ALL), consumers: 0 },
    );
    const done = observed(running.plan, {
      request: erc20,
      dispatched: starts(...ALL),
      consumers: 1,
      outcomes: outcomes({
        0: 'succeeded',
        100: 'succeeded',
        200: 'succeeded',
        300: 'succeeded',
        400: 'succeeded',
      }),
    });
    const steps = [waiting, waiting, running, running, done, done];
    let run = modelRun({ model: 'erc20_transfers' });
    const seen: string[][] = [];
    steps.forEach((observation, index) => {
      const next = nextModelRunStatus(run, observation, at(index * 10));
      seen.push(next.events.map((event) => `${event.type} ${event.reason}`));
      run = { ...run, status: next.status };
    });
    assert.deepEqual(seen, [
      ['Normal Pending', 'Warning InputsIncomplete'],
      [],
      ['Normal Running', 'Warning NoConsumers'],
      [],
      ['Normal Succeeded'],
      [],
    ]);
  });

  it('suspend and resume are events; a failure is a Warning', () => {
    const sent = observed(plan({ dispatched: starts(0) }), { dispatched: starts(0) });
    let run = modelRun();
    const events: string[][] = [];
    for (const [spec, observation] of [
      [{}, sent],
      [{ suspend: true }, sent],
      [{ suspend: true }, sent],
      [{ suspend: false }, sent],
      [
        { suspend: false },
        observed(plan({ dispatched: starts(...ALL) }), {
          dispatched: starts(...ALL),
          outcomes: outcomes({
            0: 'failed',
            100: 'succeeded',
            200: 'succeeded',
            300: 'succeeded',
            400: 'succeeded',
          }),
        }),
      ],
    ] as const) {
      run = { ...run, spec: { ...run.spec, ...spec } };
      const next = nextModelRunStatus(run, observation, at(events.length * 10));
      events.push(next.events.map((event) => `${event.type} ${event.reason}`));
      run = { ...run, status: next.status };
    }
    assert.deepEqual(events, [
      ['Normal Running'],
      ['Normal Suspended'],
      [],
      ['Normal Resumed'],
      ['Warning Failed'],
    ]);
  });
});

describe('suspended time and the deadline', () => {
  const suspendedSince = (seconds: number, past = 0): ModelRunStatus => ({
    suspendedSeconds: past,
    conditions: [
      {
        type: 'Suspended',
        status: 'True',
        reason: 'Suspended',
        message: 'dispatch paused',
        observedGeneration: 2,
        lastTransitionTime: at(seconds).toISOString().replace('.000Z', 'Z'),
      },
    ],
  });

  it('suspendedSecondsAt adds the current suspension to the past ones', () => {
    assert.equal(suspendedSecondsAt(modelRun({}, { suspendedSeconds: 7 }), at(100)), 7);
    assert.equal(suspendedSecondsAt(modelRun({ suspend: true }, suspendedSince(10, 7)), at(40)), 37);
    assert.equal(suspendedSecondsAt(modelRun({ suspend: true }, suspendedSince(10, 7)), at(40.9)), 37);
    assert.equal(suspendedSecondsAt(modelRun(), at(40)), 0);
  });

  it('resuming writes the suspended time, accumulated over suspensions', () => {
    const sent = observed(plan({ dispatched: starts(0) }), { dispatched: starts(0) });
    let run = modelRun();
    const steps: [boolean, number][] = [
      [false, 0],
      [true, 10],
      [true, 20],
      [false, 25],
      [true, 40],
      [false, 50],
      [false, 90],
    ];
    const written: (number | undefined)[] = [];
    for (const [suspend, seconds] of steps) {
      run = { ...run, spec: { ...run.spec, suspend } };
      run = { ...run, status: nextModelRunStatus(run, sent, at(seconds)).status };
      written.push(run.status?.suspendedSeconds);
    }
    assert.deepEqual(written, [undefined, undefined, undefined, 15, 15, 25, 25]);
  });

  it('the deadline counts from creation, minus the time suspended', () => {
    const cases: { name: string; run: ModelRun; now: Date; expected: Date | undefined }[] = [
      { name: 'no deadline', run: modelRun(), now: at(0), expected: undefined },
      { name: 'never suspended', run: modelRun({ activeDeadlineSeconds: 60 }), now: at(0), expected: at(60) },
      {
        name: 'suspended for 30 s in the past',
        run: modelRun({ activeDeadlineSeconds: 60 }, { suspendedSeconds: 30 }),
        now: at(0),
        expected: at(90),
      },
      {
        name: 'suspended now, since 10 s: the deadline moves with the clock',
        run: modelRun({ activeDeadlineSeconds: 60, suspend: true }, suspendedSince(10)),
        now: at(200),
        expected: at(250),
      },
      {
        name: 'a creation time that arrived as a string (watch event)',
        run: {
          ...modelRun({ activeDeadlineSeconds: 60 }),
          metadata: { ...modelRun().metadata, creationTimestamp: '2025-03-01T12:00:00Z' as unknown as Date },
        },
        now: at(0),
        expected: at(60),
      },
    ];
    for (const { name, run, now, expected } of cases) assert.deepEqual(deadlineAt(run, now), expected, name);
  });

  it('a suspended run does not expire while its time suspended covers the overrun', () => {
    const run = modelRun({ activeDeadlineSeconds: 60, suspend: true }, suspendedSince(10));
    const { status } = nextModelRunStatus(
      run,
      observed(plan({ suspended: true, dispatched: starts(0) }), { dispatched: starts(0) }),
      at(300),
    );
    assert.equal(status.phase, 'Running');
  });
});

describe('failedBatches', () => {
  const failureAt = (seconds: number, error = `error at ${seconds}`, attempt?: number): RecordedFailure => ({
    error,
    attempt,
    failedAt: at(seconds),
  });

  it('newest first, at most 20, with inclusive block ranges', () => {
    const range = { minBlock: 0, maxBlock: 2_500 };
    const runRequest = request({ range });
    const firsts = Array.from({ length: 25 }, (_, index) => index * 100);
    const failures = new Map<string, RecordedFailure>(
      // Batch i failed at second (i * 7) % 25 (batch 700 last): the order of failure is not the block order.
      firsts.map((first, index) => [`local/ingest/${first}`, failureAt((index * 7) % 25, undefined, 4)]),
    );
    const { status } = nextModelRunStatus(
      modelRun({ blocks: { start: 0, end: 2_499 } }),
      observed(plan({ request: runRequest, dispatched: starts(...firsts) }), {
        request: runRequest,
        dispatched: starts(...firsts),
        outcomes: new Map(firsts.map((first) => [first, 'failed' as const])),
        failures,
      }),
      at(100),
    );
    const shown = status.failedBatches ?? [];
    assert.equal(shown.length, MAX_FAILED_BATCHES_SHOWN);
    const times = shown.map((entry) => Date.parse(entry.lastAttemptAt ?? ''));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    assert.deepEqual(shown[0], {
      startBlock: 700,
      endBlock: 799,
      error: 'error at 24',
      attempts: 4,
      lastAttemptAt: '2025-03-01T12:00:24Z',
    });
    assert.equal(status.batches?.failed, 25);
    assert.equal(status.phase, 'Failed');
  });

  it('a failure without a record comes last; a long error is cut; an unknown attempt is left out', () => {
    const firsts = [0, 100, 200];
    const { status } = nextModelRunStatus(
      modelRun(),
      observed(plan({ dispatched: starts(...ALL) }), {
        dispatched: starts(...ALL),
        outcomes: outcomes({ 0: 'failed', 100: 'failed', 200: 'failed', 300: 'succeeded' }),
        failures: new Map([
          ['local/ingest/100', failureAt(5, 'x'.repeat(5_000), undefined)],
          ['local/ingest/200', failureAt(9, 'rpc timeout', 2)],
        ]),
      }),
      at(10),
    );
    assert.deepEqual(
      status.failedBatches?.map((entry) => [
        entry.startBlock,
        entry.endBlock,
        entry.error?.length,
        entry.attempts,
      ]),
      [
        [200, 299, 11, 2],
        [100, 199, 2048, undefined],
        [0, 99, undefined, undefined],
      ],
    );
    assert.equal(firsts.length, status.batches?.failed);
  });
});

describe('nextModelRunStatus leaves the previous status fields it does not own', () => {
  it('keeps fields written before, replaces the ones it computes', () => {
    const previous: ModelRunStatus = { phase: 'Running', startedAt: '2025-03-01T11:00:00Z', message: 'old' };
    const { status } = nextModelRunStatus(
      modelRun({}, previous),
      observed(plan(), { dispatched: starts(0) }),
      T0,
    );
    assert.equal(status.startedAt, '2025-03-01T11:00:00Z');
    assert.notEqual(status.message, 'old');
  });
});
