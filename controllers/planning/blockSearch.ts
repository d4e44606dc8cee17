// The first block of a UTC day, found by bisection over block timestamps (they never decrease
// along the chain): about log2(head) lookups, e.g. 27 for 100M blocks. The lookup is injected,
// so the search is a table in the unit tests and a chain's JSON-RPC endpoint in the operator.
// Ingest's backfill.sinceDate needs it: its own markers cannot say where a day starts before
// that day is ingested.

/** The first block at or below `head` whose timestamp is ≥ `targetSeconds`; undefined when none is. */
export async function firstBlockAtOrAfter(
  targetSeconds: number,
  head: number,
  timestampOf: (block: number) => Promise<number>,
): Promise<number | undefined> {
  if (head < 0 || (await timestampOf(head)) < targetSeconds) return undefined;
  let low = 0;
  let high = head;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if ((await timestampOf(middle)) >= targetSeconds) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Seconds since the epoch of a UTC day's midnight. */
export function dayStartSeconds(dt: string): number {
  return Date.parse(`${dt}T00:00:00Z`) / 1000;
}
