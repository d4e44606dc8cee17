import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BatchSizeDelimiter,
  batchContaining,
  lastSafeBlock,
  planBatches,
  validateDelimiters,
} from '../../../dataplane/batches.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

// 1000-block batches until block 10_000, then 400 (as a busy chain would shrink them).
const SCHEDULE: BatchSizeDelimiter[] = [
  { fromBlock: 0, batchSize: 1000 },
  { fromBlock: 10_000, batchSize: 400 },
];

/** Batches as compact `min-max` strings, for readable tables. */
function plan(min: number, max: number, options = {}, delimiters = SCHEDULE): string[] {
  return planBatches({ minBlock: min, maxBlock: max }, delimiters, options).map(
    (b) => `${b.minBlock}-${b.maxBlock}`,
  );
}

describe('planBatches', () => {
  const cases: { name: string; range: [number, number]; options?: object; expected: string[] }[] = [
    { name: 'empty range', range: [500, 500], expected: [] },
    { name: 'exactly one batch', range: [0, 1000], expected: ['0-1000'] },
    { name: 'a single block', range: [1234, 1235], expected: ['1000-2000'] },
    { name: 'starts mid-batch', range: [1500, 3000], expected: ['1000-2000', '2000-3000'] },
    { name: 'ends mid-batch', range: [2000, 3001], expected: ['2000-3000', '3000-4000'] },
    { name: 'starts and ends mid-batch', range: [999, 1001], expected: ['0-1000', '1000-2000'] },
    {
      name: 'crosses the delimiter',
      range: [8500, 10_900],
      expected: ['8000-9000', '9000-10000', '10000-10400', '10400-10800', '10800-11200'],
    },
    { name: 'starts at the delimiter', range: [10_000, 10_400], expected: ['10000-10400'] },
    { name: 'after the delimiter, mid-batch', range: [10_401, 10_402], expected: ['10400-10800'] },
    {
      name: 'tip inside the last batch holds it back',
      range: [0, 3000],
      options: { tip: 2500 },
      expected: ['0-1000', '1000-2000'],
    },
    {
      name: 'tip on the last block of a batch releases it',
      range: [0, 3000],
      options: { tip: 2999 },
      expected: ['0-1000', '1000-2000', '2000-3000'],
    },
    {
      name: 'safety distance holds back one more',
      range: [0, 3000],
      options: { tip: 2999, safety: 1 },
      expected: ['0-1000', '1000-2000'],
    },
    {
      name: 'safety exactly reaching a batch end',
      range: [0, 3000],
      options: { tip: 3009, safety: 10 },
      expected: ['0-1000', '1000-2000', '2000-3000'],
    },
    {
      name: 'tip below the range start plans nothing',
      range: [5000, 6000],
      options: { tip: 4000 },
      expected: [],
    },
    {
      name: 'safety larger than the tip plans nothing',
      range: [0, 1000],
      options: { tip: 5, safety: 10 },
      expected: [],
    },
    {
      name: 'tip far ahead changes nothing',
      range: [0, 2000],
      options: { tip: 1_000_000, safety: 64 },
      expected: ['0-1000', '1000-2000'],
    },
  ];
  for (const { name, range, options, expected } of cases) {
    it(name, () => assert.deepEqual(plan(range[0], range[1], options), expected));
  }

  it('handles block numbers near the largest safe integer', () => {
    const huge = [{ fromBlock: 0, batchSize: 1 }];
    const max = Number.MAX_SAFE_INTEGER;
    assert.deepEqual(plan(max - 2, max, {}, huge), [`${max - 2}-${max - 1}`, `${max - 1}-${max}`]);
    const big = [{ fromBlock: 0, batchSize: 1000 }];
    assert.deepEqual(plan(9_000_000_000_000_500, 9_000_000_000_001_000, {}, big), [
      '9000000000000000-9000000000001000',
    ]);
  });

  it('refuses a batch that would end beyond the safe integers', () => {
    assert.throws(
      () =>
        plan(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER, {}, [{ fromBlock: 0, batchSize: 1000 }]),
      InvalidValueError,
    );
  });

  const badRanges: [string, number, number][] = [
    ['backwards', 10, 5],
    ['negative', -1, 5],
    ['fractional', 1.5, 5],
    ['NaN', Number.NaN, 5],
    ['unsafe', 0, 2 ** 60],
  ];
  for (const [name, min, max] of badRanges) {
    it(`refuses a ${name} range`, () => assert.throws(() => plan(min, max), InvalidValueError));
  }

  it('refuses plans larger than maxBatches', () => {
    assert.throws(() => plan(0, 10_000, { maxBatches: 5 }), /more than 5 batches/);
    assert.equal(plan(0, 5000, { maxBatches: 5 }).length, 5);
  });

  it('never moves a boundary when a delimiter is appended later', () => {
    const before = plan(0, 20_000);
    const after = plan(0, 20_000, {}, [...SCHEDULE, { fromBlock: 20_000, batchSize: 100 }]);
    assert.deepEqual(after, before);
  });
});

describe('batchContaining', () => {
  const cases: [number, string][] = [
    [0, '0-1000'],
    [999, '0-1000'],
    [1000, '1000-2000'],
    [9999, '9000-10000'],
    [10_000, '10000-10400'],
    [10_399, '10000-10400'],
    [123_456, '123200-123600'],
  ];
  for (const [block, expected] of cases) {
    it(`block ${block} is in ${expected}`, () => {
      const batch = batchContaining(SCHEDULE, block);
      assert.equal(`${batch.minBlock}-${batch.maxBlock}`, expected);
    });
  }

  it('counts batches from the delimiter, which need not be a multiple of its own size', () => {
    const schedule = [
      { fromBlock: 0, batchSize: 1000 },
      { fromBlock: 3000, batchSize: 700 },
    ];
    assert.deepEqual(batchContaining(schedule, 3700), { minBlock: 3700, maxBlock: 4400 });
    assert.deepEqual(batchContaining(schedule, 4399), { minBlock: 3700, maxBlock: 4400 });
  });
});

describe('validateDelimiters', () => {
  const bad: [string, BatchSizeDelimiter[], RegExp][] = [
    ['empty', [], /at least one/],
    ['not starting at 0', [{ fromBlock: 10, batchSize: 10 }], /start at block 0/],
    ['zero size', [{ fromBlock: 0, batchSize: 0 }], /positive/],
    ['negative size', [{ fromBlock: 0, batchSize: -5 }], /batchSize/],
    [
      'not increasing',
      [
        { fromBlock: 0, batchSize: 10 },
        { fromBlock: 100, batchSize: 5 },
        { fromBlock: 100, batchSize: 2 },
      ],
      /must come after/,
    ],
    [
      'off the previous boundary',
      [
        { fromBlock: 0, batchSize: 1000 },
        { fromBlock: 1500, batchSize: 100 },
      ],
      /not on a boundary/,
    ],
    [
      'off a boundary relative to the previous delimiter',
      [
        { fromBlock: 0, batchSize: 100 },
        { fromBlock: 1000, batchSize: 300 },
        { fromBlock: 2000, batchSize: 100 },
      ],
      /not on a boundary/,
    ],
  ];
  for (const [name, delimiters, message] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => validateDelimiters(delimiters), message));
  }

  it('accepts an aligned schedule', () => {
    assert.doesNotThrow(() => validateDelimiters(SCHEDULE));
    assert.equal(planBatches({ minBlock: 0, maxBlock: 1 }, SCHEDULE).length, 1);
  });
});

describe('lastSafeBlock', () => {
  // One rule for the worker (ingest's tip check) and the planner; below zero they used to differ.
  const cases: [tip: number, safety: number | undefined, expected: number][] = [
    [100, 10, 90],
    [100, undefined, 100],
    [100, 0, 100],
    [64, 64, 0],
    [63, 64, -1],
    [5, 10, -1],
    [0, 10, -1],
  ];
  for (const [tip, safety, expected] of cases) {
    it(`tip ${tip}, safety ${safety ?? 'none'} → ${expected}`, () =>
      assert.equal(lastSafeBlock(tip, safety), expected));
  }
  it('refuses a negative safety distance', () =>
    assert.throws(() => lastSafeBlock(1, -1), InvalidValueError));
});
