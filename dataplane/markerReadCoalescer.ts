// Many reconciles at once each ask which of their few batches are complete. A marker query
// costs ClickHouse about 10 ms of CPU however small its range, so 1,000 new runs meant 1,000
// queries competing with everything else on the machine. The coalescer keeps at most one query
// per (chain, root paths) out at a time: asks that arrive meanwhile wait for it, then go
// together as one query over all their ranges, and each gets the answer for its own ranges.
// An idle operator sees no delay; a busy one sends fewer, larger queries.
import type { BlockRange } from './batches.ts';
import type { MarkerStore } from './markers.ts';
import { InvalidValueError } from './validNames.ts';

type CompleteReads = Pick<MarkerStore, 'batchesCompleteInAll'>;

/** Ranges per query: keeps the SQL a few kilobytes. */
const DEFAULT_MAX_RANGES_PER_QUERY = 200;

interface Ask {
  ranges: readonly BlockRange[];
  resolve(starts: number[]): void;
  reject(error: unknown): void;
}

interface Lane {
  chain: string;
  rootPaths: readonly string[];
  waiting: Ask[];
  busy: boolean;
}

/** The ranges sorted, with overlapping and touching ones joined. */
export function mergeRanges(ranges: readonly BlockRange[]): BlockRange[] {
  const sorted = [...ranges].sort((a, b) => a.minBlock - b.minBlock);
  const merged: BlockRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.minBlock <= last.maxBlock) last.maxBlock = Math.max(last.maxBlock, range.maxBlock);
    else merged.push({ ...range });
  }
  return merged;
}

/** The sorted starts that fall in any of `ranges`, sorted, each once. */
export function startsIn(sortedStarts: readonly number[], ranges: readonly BlockRange[]): number[] {
  const found: number[] = [];
  for (const range of mergeRanges(ranges)) {
    let low = 0;
    let high = sortedStarts.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (sortedStarts[middle]! < range.minBlock) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < sortedStarts.length && sortedStarts[i]! < range.maxBlock; i++) {
      found.push(sortedStarts[i]!);
    }
  }
  return found;
}

export class MarkerReadCoalescer implements CompleteReads {
  readonly #store: CompleteReads;
  readonly #maxRangesPerQuery: number;
  readonly #lanes = new Map<string, Lane>();

  constructor(store: CompleteReads, options: { maxRangesPerQuery?: number } = {}) {
    this.#store = store;
    this.#maxRangesPerQuery = options.maxRangesPerQuery ?? DEFAULT_MAX_RANGES_PER_QUERY;
  }

  batchesCompleteInAll(
    chain: string,
    rootPaths: readonly string[],
    ranges?: readonly BlockRange[],
  ): Promise<number[]> {
    // A read of everything gains nothing from company.
    if (ranges === undefined) return this.#store.batchesCompleteInAll(chain, rootPaths);
    if (ranges.length === 0) return Promise.resolve([]);
    const distinctRootPaths = [...new Set(rootPaths)].sort();
    const key = JSON.stringify([chain, distinctRootPaths]);
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { chain, rootPaths: distinctRootPaths, waiting: [], busy: false };
      this.#lanes.set(key, lane);
    }
    const asked = new Promise<number[]>((resolve, reject) => lane.waiting.push({ ranges, resolve, reject }));
    this.#send(key, lane);
    return asked;
  }

  #send(key: string, lane: Lane): void {
    if (lane.busy) return;
    if (lane.waiting.length === 0) {
      this.#lanes.delete(key);
      return;
    }
    const asks: Ask[] = [];
    let rangeCount = 0;
    while (lane.waiting.length > 0) {
      const next = lane.waiting[0]!;
      if (asks.length > 0 && rangeCount + next.ranges.length > this.#maxRangesPerQuery) break;
      asks.push(lane.waiting.shift()!);
      rangeCount += next.ranges.length;
    }
    lane.busy = true;
    void this.#answer(lane, asks).finally(() => {
      lane.busy = false;
      this.#send(key, lane);
    });
  }

  async #answer(lane: Lane, asks: readonly Ask[]): Promise<void> {
    const ranges = mergeRanges(asks.flatMap((ask) => ask.ranges));
    try {
      const starts = await this.#store.batchesCompleteInAll(lane.chain, lane.rootPaths, ranges);
      for (const ask of asks) ask.resolve(startsIn(starts, ask.ranges));
    } catch (error) {
      if (error instanceof InvalidValueError && asks.length > 1) {
        // One ask's bad range must not fail the others: each goes alone.
        await Promise.all(asks.map((ask) => this.#answer(lane, [ask])));
        return;
      }
      for (const ask of asks) ask.reject(error);
    }
  }
}
