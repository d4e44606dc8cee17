import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DateResolution, resolveDates } from '../../../controllers/planning/dateResolution.ts';
import type { DayRange } from '../../../dataplane/markers.ts';

// Ingestion holds four days; days do not end on batch boundaries (the 100-block batch 300-399
// holds the end of 03-02 and the start of 03-03), and each part records its own day's blocks.
const INGESTED: DayRange[] = [
  { dt: '2025-03-01', minBlock: 0, maxBlock: 180 },
  { dt: '2025-03-02', minBlock: 180, maxBlock: 350 },
  { dt: '2025-03-03', minBlock: 350, maxBlock: 500 },
  { dt: '2025-03-04', minBlock: 500, maxBlock: 610 },
];

describe('resolveDates: UTC days to blocks through the ingestion markers', () => {
  const cases: { name: string; dates: [string, string]; days: DayRange[]; expected: DateResolution }[] = [
    {
      name: 'one day: exactly its blocks',
      dates: ['2025-03-02', '2025-03-02'],
      days: INGESTED,
      expected: { kind: 'resolved', range: { minBlock: 180, maxBlock: 350 } },
    },
    {
      name: 'several days: from the first block of the first to the last of the last',
      dates: ['2025-03-01', '2025-03-03'],
      days: INGESTED,
      expected: { kind: 'resolved', range: { minBlock: 0, maxBlock: 500 } },
    },
    {
      name: 'the order of the marker rows does not matter',
      dates: ['2025-03-02', '2025-03-03'],
      days: [...INGESTED].reverse(),
      expected: { kind: 'resolved', range: { minBlock: 180, maxBlock: 500 } },
    },
    {
      name: 'a day split over several parts (batches) takes all of them',
      dates: ['2025-03-02', '2025-03-02'],
      days: [
        { dt: '2025-03-02', minBlock: 200, maxBlock: 300 },
        { dt: '2025-03-02', minBlock: 180, maxBlock: 200 },
        { dt: '2025-03-02', minBlock: 300, maxBlock: 350 },
        { dt: '2025-03-03', minBlock: 350, maxBlock: 400 },
      ],
      expected: { kind: 'resolved', range: { minBlock: 180, maxBlock: 350 } },
    },
    {
      name: 'a range starting before ingestion does: the days it has',
      dates: ['2025-02-20', '2025-03-01'],
      days: INGESTED,
      expected: { kind: 'resolved', range: { minBlock: 0, maxBlock: 180 } },
    },
    {
      name: 'the last day ingested is not over until the next one starts: wait',
      dates: ['2025-03-03', '2025-03-04'],
      days: INGESTED,
      expected: {
        kind: 'waiting',
        message:
          'ingestion has reached 2025-03-04; the days 2025-03-03 to 2025-03-04 resolve to blocks once it has passed 2025-03-04',
      },
    },
    {
      name: 'days ingestion has not reached: wait',
      dates: ['2025-03-10', '2025-03-11'],
      days: INGESTED,
      expected: {
        kind: 'waiting',
        message:
          'ingestion has reached 2025-03-04; the days 2025-03-10 to 2025-03-11 resolve to blocks once it has passed 2025-03-11',
      },
    },
    {
      name: 'nothing ingested: wait',
      dates: ['2025-03-01', '2025-03-01'],
      days: [],
      expected: {
        kind: 'waiting',
        message:
          'no ingested blocks from 2025-03-01 on yet: the days resolve to blocks once ingestion has passed 2025-03-01',
      },
    },
    {
      name: 'days ingestion skipped (it holds later days only): wait, and say they are missing',
      dates: ['2025-02-20', '2025-02-21'],
      days: INGESTED,
      expected: {
        kind: 'waiting',
        message:
          'ingestion holds no blocks of the days 2025-02-20 to 2025-02-21, though it has reached 2025-03-04: ingest those days first',
      },
    },
  ];
  for (const { name, dates, days, expected } of cases) {
    it(name, () => assert.deepEqual(resolveDates({ start: dates[0], end: dates[1] }, days), expected));
  }
});
