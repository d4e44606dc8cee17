import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RunPlan, batchRangeOf, isEveryBatchReady } from '../../../controllers/planning/runPlan.ts';
import { LOCAL, T0, UID, plan, request, starts } from './runFixtures.ts';

/** A plan as first blocks per list, for readable tables. */
function summary(runPlan: RunPlan): Record<string, number[]> {
  const firsts = (batches: { minBlock: number }[]) => batches.map((batch) => batch.minBlock);
  return {
    alreadyDone: firsts(runPlan.alreadyDone),
    waitingForInputs: firsts(runPlan.waitingForInputs),
    waitingForTip: firsts(runPlan.waitingForTip),
    heldBack: firsts(runPlan.heldBack),
    toDispatch: firsts(runPlan.toDispatch),
  };
}

const none: number[] = [];
/** The local chain with its batch size halved from block 200 on. */
const twoSizes = {
  ...LOCAL,
  batchSizes: [
    { fromBlock: 0, batchSize: 100 },
    { fromBlock: 200, batchSize: 50 },
  ],
};
const erc20 = request({ model: 'erc20_transfers' });

describe('planRun: which batches are sent now, and why the others are not', () => {
  const cases: {
    name: string;
    input: Parameters<typeof plan>[0];
    expected: Partial<Record<keyof ReturnType<typeof summary>, number[]>>;
  }[] = [
    {
      name: 'ingest, nothing done, the tip far ahead: every batch is sent',
      input: {},
      expected: { toDispatch: [0, 100, 200, 300, 400] },
    },
    {
      name: 'batches with complete outputs are skipped',
      input: { markers: { completeOutputs: starts(0, 200), completeInputs: starts() } },
      expected: { alreadyDone: [0, 200], toDispatch: [100, 300, 400] },
    },
    {
      name: 'force sends batches with complete outputs again',
      input: {
        request: request({ force: true }),
        markers: { completeOutputs: starts(0, 200), completeInputs: starts() },
      },
      expected: { toDispatch: [0, 100, 200, 300, 400] },
    },
    {
      name: 'a model with inputs waits for batches whose inputs are incomplete',
      input: { request: erc20, markers: { completeOutputs: starts(), completeInputs: starts(0, 100, 400) } },
      expected: { waitingForInputs: [200, 300], toDispatch: [0, 100, 400] },
    },
    {
      name: 'complete outputs count as done even when the inputs are gone',
      input: { request: erc20, markers: { completeOutputs: starts(300), completeInputs: starts(0) } },
      expected: { alreadyDone: [300], waitingForInputs: [100, 200, 400], toDispatch: [0] },
    },
    {
      name: 'force with incomplete inputs still waits for them',
      input: {
        request: request({ model: 'erc20_transfers', force: true }),
        markers: { completeOutputs: starts(0, 100), completeInputs: starts(0) },
      },
      expected: { waitingForInputs: [100, 200, 300, 400], toDispatch: [0] },
    },
    {
      name: 'a model with inputs never waits for the tip, even an unknown one',
      input: {
        request: erc20,
        lastSafeBlock: undefined,
        markers: { completeOutputs: starts(), completeInputs: starts(0, 100, 200, 300, 400) },
      },
      expected: { toDispatch: [0, 100, 200, 300, 400] },
    },
    {
      name: 'ingest: a batch whose last block is the safe tip is sent; one block further waits',
      input: { lastSafeBlock: 299 },
      expected: { waitingForTip: [300, 400], toDispatch: [0, 100, 200] },
    },
    {
      name: 'ingest: one block short of a batch end, the batch waits',
      input: { lastSafeBlock: 298 },
      expected: { waitingForTip: [200, 300, 400], toDispatch: [0, 100] },
    },
    {
      name: 'ingest: nothing is safe yet (-1)',
      input: { lastSafeBlock: -1 },
      expected: { waitingForTip: [0, 100, 200, 300, 400] },
    },
    {
      name: 'ingest: an unknown tip holds every batch',
      input: { lastSafeBlock: undefined },
      expected: { waitingForTip: [0, 100, 200, 300, 400] },
    },
    {
      name: 'ingest: complete outputs are skipped even beyond the tip',
      input: { lastSafeBlock: 99, markers: { completeOutputs: starts(400), completeInputs: starts() } },
      expected: { alreadyDone: [400], waitingForTip: [100, 200, 300], toDispatch: [0] },
    },
    {
      name: 'in-flight window: only maxInFlight batches out at once',
      input: { maxInFlight: 2 },
      expected: { heldBack: [200, 300, 400], toDispatch: [0, 100] },
    },
    {
      name: 'in-flight window: batches sent and unfinished fill it',
      input: { maxInFlight: 2, dispatched: starts(0, 100) },
      expected: { heldBack: [200, 300, 400] },
    },
    {
      name: 'in-flight window: finished batches free their slot',
      input: { maxInFlight: 2, dispatched: starts(0, 100), finished: starts(0) },
      expected: { heldBack: [300, 400], toDispatch: [200] },
    },
    {
      name: 'in-flight window: dispatched batches are in no list, finished or not',
      input: { dispatched: starts(0, 100, 200), finished: starts(100) },
      expected: { toDispatch: [300, 400] },
    },
    {
      name: 'a window of 0 (dryRun) holds back every ready batch',
      input: { maxInFlight: 0, lastSafeBlock: 199 },
      expected: { waitingForTip: [200, 300, 400], heldBack: [0, 100] },
    },
    {
      name: 'suspended: ready batches are held back; waiting ones still say why',
      input: {
        suspended: true,
        request: erc20,
        markers: { completeOutputs: starts(400), completeInputs: starts(0, 100) },
      },
      expected: { alreadyDone: [400], waitingForInputs: [200, 300], heldBack: [0, 100] },
    },
    {
      name: 'suspended after some were sent: those stay sent, the rest are held',
      input: { suspended: true, dispatched: starts(0, 100) },
      expected: { heldBack: [200, 300, 400] },
    },
    {
      name: 'everything sent and finished: nothing to do',
      input: { dispatched: starts(0, 100, 200, 300, 400), finished: starts(0, 100, 200, 300, 400) },
      expected: {},
    },
  ];
  for (const { name, input, expected } of cases) {
    it(name, () => {
      assert.deepEqual(summary(plan(input)), {
        alreadyDone: none,
        waitingForInputs: none,
        waitingForTip: none,
        heldBack: none,
        toDispatch: none,
        ...expected,
      });
    });
  }

  it('every batch of the range is in the plan, in block order, sent or not', () => {
    const runPlan = plan({ dispatched: starts(0, 200), lastSafeBlock: 350, maxInFlight: 1 });
    assert.deepEqual(
      runPlan.batches.map((batch) => [batch.minBlock, batch.maxBlock]),
      [
        [0, 100],
        [100, 200],
        [200, 300],
        [300, 400],
        [400, 500],
      ],
    );
  });
});

describe('planRun: the batches of a range', () => {
  const cases: {
    name: string;
    range: [number, number];
    chain?: typeof LOCAL;
    expected: [number, number][];
  }[] = [
    {
      name: 'a range starting mid-batch takes the whole first batch',
      range: [150, 300],
      expected: [
        [100, 200],
        [200, 300],
      ],
    },
    {
      name: 'a range ending mid-batch takes the whole last batch',
      range: [0, 101],
      expected: [
        [0, 100],
        [100, 200],
      ],
    },
    { name: 'a single block is its whole batch', range: [420, 421], expected: [[400, 500]] },
    {
      name: 'a delimiter change inside the range: the size changes at its block',
      range: [120, 320],
      chain: twoSizes,
      expected: [
        [100, 200],
        [200, 250],
        [250, 300],
        [300, 350],
      ],
    },
    {
      name: 'a range starting at the delimiter uses the new size only',
      range: [200, 260],
      chain: twoSizes,
      expected: [
        [200, 250],
        [250, 300],
      ],
    },
  ];
  for (const { name, range, chain, expected } of cases) {
    it(name, () => {
      const runPlan = plan({
        request: request({ range: { minBlock: range[0], maxBlock: range[1] } }),
        ...(chain ? { chain } : {}),
      });
      assert.deepEqual(
        runPlan.batches.map((batch) => [batch.minBlock, batch.maxBlock]),
        expected,
      );
      assert.deepEqual(
        runPlan.toDispatch.map((message) => [message.minBlock, message.maxBlock]),
        expected,
      );
    });
  }
});

describe('planRun: the messages it sends', () => {
  it('carry the run, deterministic batch ids and the time of planning', () => {
    const runPlan = plan({
      request: request({ force: true, maxRetriesPerBatch: 5, sinkTopic: 'team-a-daily' }),
      dispatched: starts(0, 100, 200),
    });
    assert.deepEqual(runPlan.toDispatch[0], {
      runId: { namespace: 'team-a', name: 'daily', uid: UID },
      batchId: 'local/ingest/300',
      model: 'ingest',
      version: 1,
      chain: 'local',
      minBlock: 300,
      maxBlock: 400,
      force: true,
      maxRetriesPerBatch: 5,
      sinkTopic: 'team-a-daily',
      attempt: 1,
      enqueuedAt: T0.toISOString(),
    });
    assert.deepEqual(
      runPlan.toDispatch.map((message) => message.batchId),
      ['local/ingest/300', 'local/ingest/400'],
    );
  });
});

describe('batchRangeOf: the blocks whose markers a run reads', () => {
  const cases: { name: string; range: [number, number]; chain?: typeof LOCAL; expected: [number, number] }[] =
    [
      { name: 'a range on batch boundaries is itself', range: [100, 300], expected: [100, 300] },
      {
        name: 'starting mid-batch (a run by dates): from its first batch',
        range: [150, 450],
        expected: [100, 500],
      },
      { name: 'ending mid-batch: to the end of its last batch', range: [0, 101], expected: [0, 200] },
      { name: 'one block', range: [420, 421], expected: [400, 500] },
      { name: 'across a size change', range: [120, 230], chain: twoSizes, expected: [100, 250] },
      { name: 'an empty range stays empty', range: [150, 150], expected: [150, 150] },
    ];
  for (const { name, range, chain, expected } of cases) {
    it(name, () => {
      const aligned = batchRangeOf(chain ?? LOCAL, { minBlock: range[0], maxBlock: range[1] });
      assert.deepEqual([aligned.minBlock, aligned.maxBlock], expected);
    });
  }
});

describe('isEveryBatchReady (what an Indexed Job waits for)', () => {
  const cases: { name: string; input: Parameters<typeof plan>[0]; expected: boolean }[] = [
    { name: 'all ready', input: {}, expected: true },
    {
      name: 'ready but held back by suspend or the window',
      input: { suspended: true, maxInFlight: 0 },
      expected: true,
    },
    {
      name: 'some complete already, the rest ready',
      input: { markers: { completeOutputs: starts(0), completeInputs: starts() } },
      expected: true,
    },
    { name: 'a batch beyond the safe tip', input: { lastSafeBlock: 450 }, expected: false },
    { name: 'the tip unknown', input: { lastSafeBlock: undefined }, expected: false },
    {
      name: 'a batch whose inputs are incomplete',
      input: {
        request: erc20,
        markers: { completeOutputs: starts(), completeInputs: starts(0, 100, 200, 300) },
      },
      expected: false,
    },
  ];
  for (const { name, input, expected } of cases) {
    it(name, () => assert.equal(isEveryBatchReady(plan(input)), expected));
  }
});
