import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batchEndSql,
  completeBatchHavingSql,
  isCompleteBatch,
  tilingProblem,
} from '../../../dataplane/batchCompleteness.ts';
import { BATCH_SIZE, COMPLETENESS_CASES, latestParts } from '../../support/batchCompletenessCases.ts';

describe('isCompleteBatch over the shared cases (the SQL form runs the same table on ClickHouse)', () => {
  for (const testCase of COMPLETENESS_CASES) {
    it(`${testCase.name}: ${testCase.complete ? 'complete' : 'not complete'}`, () => {
      const batch = { minBlock: testCase.batchStart, maxBlock: testCase.batchStart + BATCH_SIZE };
      assert.equal(isCompleteBatch(latestParts(testCase.parts), batch), testCase.complete);
    });
  }
});

describe('tilingProblem says what is wrong', () => {
  const batch = { minBlock: 100, maxBlock: 200 };
  const cases: [string, { minBlock: number; maxBlock: number }[], string | undefined][] = [
    [
      'a tiling, given out of order',
      [
        { minBlock: 150, maxBlock: 200 },
        { minBlock: 100, maxBlock: 150 },
      ],
      undefined,
    ],
    ['nothing', [], 'no parts'],
    ['a hole at the start', [{ minBlock: 101, maxBlock: 200 }], 'blocks [100, 101) are in no part'],
    ['a hole at the end', [{ minBlock: 100, maxBlock: 199 }], 'blocks [199, 200) are in no part'],
    [
      'past the end',
      [{ minBlock: 100, maxBlock: 201 }],
      "parts reach block 200, past the batch's last block 199",
    ],
    [
      'an overlap',
      [
        { minBlock: 100, maxBlock: 160 },
        { minBlock: 150, maxBlock: 200 },
      ],
      'part [150, 200) overlaps blocks before 160',
    ],
    [
      'an empty part',
      [
        { minBlock: 100, maxBlock: 100 },
        { minBlock: 100, maxBlock: 200 },
      ],
      'part [100, 100) is empty',
    ],
  ];
  for (const [name, ranges, expected] of cases) {
    it(name, () => assert.equal(tilingProblem(ranges, batch), expected));
  }
});

describe('the SQL form', () => {
  it('ends a batch by the delimiter in force at its start, latest delimiter first', () => {
    assert.equal(batchEndSql([{ fromBlock: 0, batchSize: 100 }], 's'), 'toUInt64(s + 100)');
    assert.equal(
      batchEndSql(
        [
          { fromBlock: 0, batchSize: 10000 },
          { fromBlock: 10000000, batchSize: 1000 },
          { fromBlock: 18000000, batchSize: 500 },
        ],
        's',
      ),
      'toUInt64(multiIf(s >= 18000000, s + 500, s >= 10000000, s + 1000, s + 10000))',
    );
  });

  it('checks the part count, non-empty parts and the tiling against the batch end', () => {
    const sql = completeBatchHavingSql([{ fromBlock: 0, batchSize: 100 }]);
    assert.match(sql, /count\(\) = min\(part_num_parts\) AND count\(\) = max\(part_num_parts\)/);
    assert.match(sql, /min\(part_max_block > part_min_block\) = 1/);
    assert.match(
      sql,
      /arrayConcat\(arraySort\(groupArray\(part_min_block\)\), \[toUInt64\(batch_start \+ 100\)\]\)/,
    );
  });
});
