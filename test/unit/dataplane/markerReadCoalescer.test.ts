import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlockRange } from '../../../dataplane/batches.ts';
import { MarkerReadCoalescer, mergeRanges, startsIn } from '../../../dataplane/markerReadCoalescer.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

const r = (minBlock: number, maxBlock: number): BlockRange => ({ minBlock, maxBlock });

describe('mergeRanges', () => {
  const cases: [string, BlockRange[], BlockRange[]][] = [
    ['none', [], []],
    ['one', [r(0, 100)], [r(0, 100)]],
    ['apart, out of order', [r(300, 400), r(0, 100)], [r(0, 100), r(300, 400)]],
    ['touching', [r(0, 100), r(100, 200)], [r(0, 200)]],
    ['overlapping', [r(0, 150), r(100, 200)], [r(0, 200)]],
    ['inside another', [r(0, 500), r(100, 200), r(600, 700)], [r(0, 500), r(600, 700)]],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(mergeRanges(input), expected));
  }
  it('leaves its input alone', () => {
    const input = [r(100, 200), r(0, 150)];
    mergeRanges(input);
    assert.deepEqual(input, [r(100, 200), r(0, 150)]);
  });
});

describe('startsIn', () => {
  const starts = [0, 100, 200, 300, 500, 900];
  const cases: [string, BlockRange[], number[]][] = [
    ['one range', [r(100, 300)], [100, 200]],
    ['a range between starts', [r(301, 499)], []],
    ['a start at the range end is out', [r(0, 100)], [0]],
    [
      'several, out of order and overlapping',
      [r(500, 1000), r(0, 150), r(100, 201)],
      [0, 100, 200, 500, 900],
    ],
    ['beyond every start', [r(1000, 2000)], []],
  ];
  for (const [name, ranges, expected] of cases) {
    it(name, () => assert.deepEqual(startsIn(starts, ranges), expected));
  }
});

/** A store whose queries the test answers by hand, recording what was asked. */
class HeldStore {
  readonly calls: {
    chain: string;
    rootPaths: readonly string[];
    ranges: readonly BlockRange[] | undefined;
  }[] = [];
  readonly #pending: { resolve(starts: number[]): void; reject(error: unknown): void }[] = [];

  batchesCompleteInAll(chain: string, rootPaths: readonly string[], ranges?: readonly BlockRange[]) {
    this.calls.push({ chain, rootPaths, ranges });
    return new Promise<number[]>((resolve, reject) => this.#pending.push({ resolve, reject }));
  }

  answer(index: number, starts: number[]): void {
    this.#pending[index]!.resolve(starts);
  }

  fail(index: number, error: unknown): void {
    this.#pending[index]!.reject(error);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const LOGS = ['ingestion/logs_v1'];

describe('MarkerReadCoalescer', () => {
  it('sends the first ask at once and the asks that came meanwhile as one query', async () => {
    const store = new HeldStore();
    const coalescer = new MarkerReadCoalescer(store);
    const first = coalescer.batchesCompleteInAll('local', LOGS, [r(0, 100)]);
    assert.equal(store.calls.length, 1);
    const second = coalescer.batchesCompleteInAll('local', LOGS, [r(300, 400)]);
    const third = coalescer.batchesCompleteInAll('local', LOGS, [r(100, 300)]);
    assert.equal(store.calls.length, 1, 'the later asks wait for the query out');
    store.answer(0, [0]);
    assert.deepEqual(await first, [0]);
    await tick();
    assert.equal(store.calls.length, 2);
    assert.deepEqual(store.calls[1]!.ranges, [r(100, 400)]);
    store.answer(1, [100, 200, 300]);
    assert.deepEqual(await second, [300]);
    assert.deepEqual(await third, [100, 200]);
  });

  it('never mixes chains or root path sets, and takes root paths in any order', async () => {
    const store = new HeldStore();
    const coalescer = new MarkerReadCoalescer(store);
    void coalescer.batchesCompleteInAll('local', ['b', 'a'], [r(0, 100)]);
    void coalescer.batchesCompleteInAll('local', ['a', 'b', 'a'], [r(100, 200)]);
    void coalescer.batchesCompleteInAll('other', ['a', 'b'], [r(0, 100)]);
    void coalescer.batchesCompleteInAll('local', ['a'], [r(0, 100)]);
    assert.deepEqual(
      store.calls.map((call) => [call.chain, call.rootPaths]),
      [
        ['local', ['a', 'b']],
        ['other', ['a', 'b']],
        ['local', ['a']],
      ],
    );
  });

  it('keeps each query within the range limit', async () => {
    const store = new HeldStore();
    const coalescer = new MarkerReadCoalescer(store, { maxRangesPerQuery: 2 });
    void coalescer.batchesCompleteInAll('local', LOGS, [r(0, 100)]);
    for (const start of [1000, 2000, 3000])
      void coalescer.batchesCompleteInAll('local', LOGS, [r(start, start + 100)]);
    store.answer(0, []);
    await tick();
    assert.deepEqual(store.calls[1]!.ranges, [r(1000, 1100), r(2000, 2100)]);
    store.answer(1, []);
    await tick();
    assert.deepEqual(store.calls[2]!.ranges, [r(3000, 3100)]);
  });

  it('lets one bad ask fail alone', async () => {
    const store = new HeldStore();
    const coalescer = new MarkerReadCoalescer(store);
    void coalescer.batchesCompleteInAll('local', LOGS, [r(0, 100)]);
    const good = coalescer.batchesCompleteInAll('local', LOGS, [r(100, 200)]);
    const bad = coalescer.batchesCompleteInAll('local', LOGS, [r(-1, 200)]);
    store.answer(0, []);
    await tick();
    store.fail(1, new InvalidValueError('invalid range minBlock -1'));
    await tick();
    assert.equal(store.calls.length, 4, 'each ask of the failed query went alone');
    store.answer(2, [100]);
    store.fail(3, new InvalidValueError('invalid range minBlock -1'));
    assert.deepEqual(await good, [100]);
    await assert.rejects(bad, InvalidValueError);
  });

  it('fails every ask of a query the store could not answer, and goes on after', async () => {
    const store = new HeldStore();
    const coalescer = new MarkerReadCoalescer(store);
    const first = coalescer.batchesCompleteInAll('local', LOGS, [r(0, 100)]);
    store.fail(0, new Error('connection refused'));
    await assert.rejects(first, /connection refused/);
    const later = coalescer.batchesCompleteInAll('local', LOGS, [r(0, 100)]);
    assert.equal(store.calls.length, 2);
    store.answer(1, [0]);
    assert.deepEqual(await later, [0]);
  });

  it('passes a read of everything straight through, and answers no ranges with nothing', async () => {
    const store = new HeldStore();
    const coalescer = new MarkerReadCoalescer(store);
    void coalescer.batchesCompleteInAll('local', LOGS, [r(0, 100)]);
    void coalescer.batchesCompleteInAll('local', LOGS);
    assert.equal(store.calls.length, 2);
    assert.equal(store.calls[1]!.ranges, undefined);
    assert.deepEqual(await coalescer.batchesCompleteInAll('local', LOGS, []), []);
    assert.equal(store.calls.length, 2);
  });
});
