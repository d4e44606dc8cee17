// assessWindow: pending batches, heads, lag and coverage of a schedule's window from the
// complete batches the markers show. Batches of 10 blocks throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type WindowFacts, assessWindow } from '../../../controllers/planning/scheduleWindow.ts';

const TEN = [{ fromBlock: 0, batchSize: 10 }];
const starts = (...blocks: number[]) => new Set(blocks);
const batches = (...blocks: number[]) => blocks.map((minBlock) => ({ minBlock, maxBlock: minBlock + 10 }));

function facts(overrides: Partial<WindowFacts>): WindowFacts {
  return {
    delimiters: TEN,
    windowStart: 0,
    scanFrom: 0,
    completeInputs: starts(),
    completeOutputs: starts(),
    ...overrides,
  };
}

const cases: { name: string; facts: WindowFacts; want: Partial<ReturnType<typeof assessWindow>> }[] = [
  {
    name: 'a model: ready batches without outputs are pending, holes in ingestion are not',
    facts: facts({ completeInputs: starts(0, 10, 20, 40, 50), completeOutputs: starts(0, 20) }),
    want: {
      pending: batches(10, 40, 50),
      waitingForInputs: 1,
      windowEnd: 60,
      completeThrough: 10,
      processedThroughBlock: 9,
      ingestedThroughBlock: 59,
      headBlock: 59,
      lagBlocks: 50,
      expectedBlocks: 50,
      coveredBlocks: 20,
    },
  },
  {
    name: 'a model caught up: nothing pending, lag 0, a hole does not hold processedThrough back',
    facts: facts({ completeInputs: starts(0, 20), completeOutputs: starts(0, 20) }),
    want: {
      pending: [],
      waitingForInputs: 1,
      completeThrough: 10,
      processedThroughBlock: 29,
      ingestedThroughBlock: 29,
      lagBlocks: 0,
      expectedBlocks: 20,
      coveredBlocks: 20,
    },
  },
  {
    name: 'a window starting later ignores the batches before it',
    facts: facts({
      windowStart: 20,
      scanFrom: 20,
      completeInputs: starts(0, 10, 20, 30),
      completeOutputs: starts(30),
    }),
    want: {
      pending: batches(20),
      processedThroughBlock: undefined,
      lagBlocks: 20,
      expectedBlocks: 20,
      coveredBlocks: 10,
    },
  },
  {
    name: 'a tail scan counts the known-complete part before it as covered',
    facts: facts({
      windowStart: 0,
      scanFrom: 100,
      completeInputs: starts(100, 110),
      completeOutputs: starts(100),
    }),
    want: {
      pending: batches(110),
      completeThrough: 110,
      processedThroughBlock: 109,
      ingestedThroughBlock: 119,
      lagBlocks: 10,
      expectedBlocks: 120,
      coveredBlocks: 110,
    },
  },
  {
    name: 'a tail scan with nothing new: the head is the end of the known-complete part',
    facts: facts({ windowStart: 0, scanFrom: 100, completeInputs: starts(), completeOutputs: starts() }),
    want: {
      pending: [],
      processedThroughBlock: 99,
      ingestedThroughBlock: 99,
      lagBlocks: 0,
      expectedBlocks: 100,
    },
  },
  {
    name: 'a model with no ingestion at all yet',
    facts: facts({}),
    want: {
      pending: [],
      windowEnd: 0,
      processedThroughBlock: undefined,
      ingestedThroughBlock: undefined,
      headBlock: undefined,
      lagBlocks: undefined,
      expectedBlocks: 0,
    },
  },
  {
    name: 'ingest: batches whole at or below the safe tip are pending, the one the tip is inside is not',
    facts: facts({ completeInputs: undefined, completeOutputs: starts(0), lastSafeBlock: 35 }),
    want: {
      pending: batches(10, 20),
      windowEnd: 30,
      completeThrough: 10,
      processedThroughBlock: 9,
      ingestedThroughBlock: 9,
      headBlock: 35,
      lagBlocks: 26,
      expectedBlocks: 30,
      coveredBlocks: 10,
    },
  },
  {
    name: 'ingest caught up: the lag is the part of a batch the tip has reached',
    facts: facts({ completeInputs: undefined, completeOutputs: starts(0, 10, 20), lastSafeBlock: 35 }),
    want: { pending: [], processedThroughBlock: 29, ingestedThroughBlock: 29, headBlock: 35, lagBlocks: 6 },
  },
  {
    name: 'ingest with the tip on a batch boundary: that batch is whole and pending',
    facts: facts({ completeInputs: undefined, completeOutputs: starts(0), lastSafeBlock: 19 }),
    want: { pending: batches(10), windowEnd: 20, headBlock: 19, lagBlocks: 10 },
  },
  {
    name: 'ingest without a known tip: nothing can be pending, no head',
    facts: facts({ completeInputs: undefined, completeOutputs: starts(0, 10) }),
    want: {
      pending: [],
      windowEnd: 20,
      headBlock: undefined,
      lagBlocks: undefined,
      ingestedThroughBlock: 19,
    },
  },
  {
    name: 'ingest on a chain shorter than its safety distance',
    facts: facts({ completeInputs: undefined, completeOutputs: starts(), lastSafeBlock: -1 }),
    want: { pending: [], headBlock: undefined, lagBlocks: undefined, processedThroughBlock: undefined },
  },
];

for (const { name, facts: input, want } of cases) {
  test(`assessWindow: ${name}`, () => {
    const got = assessWindow(input);
    const picked = Object.fromEntries(Object.keys(want).map((key) => [key, got[key as keyof typeof got]]));
    assert.deepEqual(picked, want);
  });
}

test('assessWindow: batch sizes that change inside the window', () => {
  const delimiters = [
    { fromBlock: 0, batchSize: 100 },
    { fromBlock: 200, batchSize: 50 },
  ];
  const got = assessWindow({
    delimiters,
    windowStart: 0,
    scanFrom: 0,
    completeInputs: starts(0, 100, 200, 250),
    completeOutputs: starts(0, 200),
  });
  assert.deepEqual(got.pending, [
    { minBlock: 100, maxBlock: 200 },
    { minBlock: 250, maxBlock: 300 },
  ]);
  assert.equal(got.expectedBlocks, 300);
  assert.equal(got.coveredBlocks, 150);
});
