import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SubRangeSizes, nextSubRange } from '../../../models/ingest/subRanges.ts';

const POLICY = { firstBlocks: 20, targetBytes: 12_000_000, maxBlocks: 1_000 };
const BATCH = { minBlock: 1_000, maxBlock: 2_000 };

describe('nextSubRange', () => {
  const cases: { name: string; from: number; bytesPerBlock: number | undefined; expected: unknown }[] = [
    {
      name: 'nothing known: the first blocks',
      from: 1_000,
      bytesPerBlock: undefined,
      expected: { fromBlock: 1_000, toBlock: 1_020 },
    },
    {
      name: 'heavy blocks: the target in bytes',
      from: 1_000,
      bytesPerBlock: 550_000,
      expected: { fromBlock: 1_000, toBlock: 1_021 },
    },
    {
      name: 'light blocks: up to the batch end',
      from: 1_900,
      bytesPerBlock: 45_000,
      expected: { fromBlock: 1_900, toBlock: 2_000 },
    },
    {
      name: 'empty blocks: at most maxBlocks',
      from: 0,
      bytesPerBlock: 10,
      expected: { fromBlock: 0, toBlock: 1_000 },
    },
    {
      name: 'a block larger than the target: one block',
      from: 1_500,
      bytesPerBlock: 50_000_000,
      expected: { fromBlock: 1_500, toBlock: 1_501 },
    },
    { name: 'the batch end: none', from: 2_000, bytesPerBlock: 1, expected: undefined },
  ];
  for (const { name, from, bytesPerBlock, expected } of cases) {
    it(name, () => {
      const batch = from === 0 ? { minBlock: 0, maxBlock: 5_000 } : BATCH;
      assert.deepEqual(nextSubRange(batch, from, bytesPerBlock, POLICY), expected);
    });
  }
});

describe('SubRangeSizes', () => {
  it('learns from one batch for the next, larger blocks at once, smaller ones slowly', () => {
    const sizes = new SubRangeSizes(POLICY);
    const first = sizes.next(BATCH, 1_000)!;
    assert.deepEqual(first, { fromBlock: 1_000, toBlock: 1_020 });
    sizes.observe(first, 20 * 600_000); // 600 kB per block
    assert.deepEqual(sizes.next(BATCH, 1_020), { fromBlock: 1_020, toBlock: 1_040 });
    sizes.observe({ fromBlock: 1_020, toBlock: 1_040 }, 20 * 1_200_000); // larger: taken at once
    assert.deepEqual(sizes.next(BATCH, 1_040), { fromBlock: 1_040, toBlock: 1_050 });
    sizes.observe({ fromBlock: 1_040, toBlock: 1_050 }, 10 * 1_000); // tiny: barely moves it
    assert.deepEqual(sizes.next(BATCH, 1_050), { fromBlock: 1_050, toBlock: 1_060 });
  });

  it('grows a sub-range at most fourfold after a run of empty blocks', () => {
    const sizes = new SubRangeSizes(POLICY);
    sizes.observe({ fromBlock: 0, toBlock: 20 }, 20 * 100); // empty blocks: 100 bytes each
    assert.deepEqual(sizes.next({ minBlock: 0, maxBlock: 5_000 }, 20), { fromBlock: 20, toBlock: 100 });
  });
});
