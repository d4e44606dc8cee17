// One table of batch-completeness cases for both forms of the rule (dataplane/batchCompleteness.ts):
// the unit test runs the JS form over it, the marker store's integration test writes the same
// markers to ClickHouse 18.16 and to chdb and asks the SQL form. Every case is one batch of a
// chain with 100-block batches; `at` orders rewrites of one data path (the latest wins).

export interface CasePart {
  dt: string;
  minBlock: number;
  maxBlock: number;
  numParts: number;
  /** Seconds after a fixed moment: which marker of a data path is the latest. */
  at?: number;
}

export interface CompletenessCase {
  name: string;
  /** The batch's first block; its end is first + 100. */
  batchStart: number;
  parts: CasePart[];
  complete: boolean;
}

export const BATCH_SIZE = 100;

const day = (n: number) => `2024-10-0${n}`;

export const COMPLETENESS_CASES: CompletenessCase[] = [
  {
    name: 'one part holds the whole batch',
    batchStart: 0,
    parts: [{ dt: day(1), minBlock: 0, maxBlock: 100, numParts: 1 }],
    complete: true,
  },
  {
    name: 'three parts over three days tile the batch',
    batchStart: 100,
    parts: [
      { dt: day(1), minBlock: 100, maxBlock: 104, numParts: 3 },
      { dt: day(2), minBlock: 104, maxBlock: 180, numParts: 3 },
      { dt: day(3), minBlock: 180, maxBlock: 200, numParts: 3 },
    ],
    complete: true,
  },
  {
    name: 'the middle part of three is missing',
    batchStart: 200,
    parts: [
      { dt: day(1), minBlock: 200, maxBlock: 204, numParts: 3 },
      { dt: day(3), minBlock: 280, maxBlock: 300, numParts: 3 },
    ],
    complete: false,
  },
  {
    name: 'the last part of two is missing',
    batchStart: 300,
    parts: [{ dt: day(1), minBlock: 300, maxBlock: 350, numParts: 2 }],
    complete: false,
  },
  {
    name: 'the parts disagree on how many there are',
    batchStart: 400,
    parts: [
      { dt: day(1), minBlock: 400, maxBlock: 450, numParts: 2 },
      { dt: day(2), minBlock: 450, maxBlock: 500, numParts: 3 },
    ],
    complete: false,
  },
  {
    name: 'a gap between the parts',
    batchStart: 500,
    parts: [
      { dt: day(1), minBlock: 500, maxBlock: 550, numParts: 2 },
      { dt: day(2), minBlock: 551, maxBlock: 600, numParts: 2 },
    ],
    complete: false,
  },
  {
    name: 'an overlap and a gap of the same size (the block count adds up)',
    batchStart: 600,
    parts: [
      { dt: day(1), minBlock: 600, maxBlock: 650, numParts: 3 },
      { dt: day(2), minBlock: 645, maxBlock: 680, numParts: 3 },
      { dt: day(3), minBlock: 685, maxBlock: 700, numParts: 3 },
    ],
    complete: false,
  },
  {
    // The old SQL only asked the parts to agree on max_block; the worker compared it with the
    // batch's real end. Parts that agree on the wrong end are not complete for either now.
    name: 'the parts agree on an end that is not the batch end',
    batchStart: 700,
    parts: [
      { dt: day(1), minBlock: 700, maxBlock: 720, numParts: 2 },
      { dt: day(2), minBlock: 720, maxBlock: 750, numParts: 2 },
    ],
    complete: false,
  },
  {
    // Markers from before per-part ranges: every part carried the whole batch's range.
    name: 'two parts that each claim the whole batch (the old marker format)',
    batchStart: 800,
    parts: [
      { dt: day(1), minBlock: 800, maxBlock: 900, numParts: 2 },
      { dt: day(2), minBlock: 800, maxBlock: 900, numParts: 2 },
    ],
    complete: false,
  },
  {
    name: 'a stale part from an earlier run with other bounds is superseded',
    batchStart: 900,
    parts: [
      { dt: day(1), minBlock: 900, maxBlock: 930, numParts: 2, at: 1 },
      { dt: day(2), minBlock: 930, maxBlock: 1000, numParts: 2, at: 1 },
      { dt: day(1), minBlock: 900, maxBlock: 940, numParts: 2, at: 5 },
      { dt: day(2), minBlock: 940, maxBlock: 1000, numParts: 2, at: 5 },
    ],
    complete: true,
  },
  {
    name: 'a newer rewrite of one part breaks the tiling the older ones had',
    batchStart: 1000,
    parts: [
      { dt: day(1), minBlock: 1000, maxBlock: 1030, numParts: 2, at: 1 },
      { dt: day(2), minBlock: 1030, maxBlock: 1100, numParts: 2, at: 1 },
      { dt: day(1), minBlock: 1000, maxBlock: 1040, numParts: 2, at: 5 },
    ],
    complete: false,
  },
  {
    name: 'an empty part',
    batchStart: 1100,
    parts: [
      { dt: day(1), minBlock: 1100, maxBlock: 1100, numParts: 2 },
      { dt: day(2), minBlock: 1100, maxBlock: 1200, numParts: 2 },
    ],
    complete: false,
  },
];

/** The latest part of each day (a batch has one data path per day), as a reader sees them. */
export function latestParts(parts: readonly CasePart[]): CasePart[] {
  const latest = new Map<string, CasePart>();
  for (const part of parts) {
    const seen = latest.get(part.dt);
    if (!seen || (part.at ?? 0) >= (seen.at ?? 0)) latest.set(part.dt, part);
  }
  return [...latest.values()];
}
