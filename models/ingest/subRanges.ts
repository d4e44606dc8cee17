// How a batch is cut into sub-ranges for the SQL path. Each sub-range's answers are fetched
// while the one before is decoded, and its size follows the bytes per block seen so far, so a
// sub-range's JSON stays near `targetBytes` whatever the chain: DuckDB's memory for reading it
// is bounded, and small blocks are not read a handful at a time (each sub-range costs a few
// statements). One SubRangeSizes per chain carries what it learned from batch to batch.
import type { BlockBatch } from '../../dataplane/batches.ts';

/** Blocks [fromBlock, toBlock) of a batch. */
export interface SubRange {
  fromBlock: number;
  toBlock: number;
}

export interface SubRangePolicy {
  /** Blocks of the first sub-range, before anything is known about their size. */
  firstBlocks: number;
  /** JSON bytes (blocks and receipts) a sub-range aims at. */
  targetBytes: number;
  maxBlocks: number;
}

export const DEFAULT_SUB_RANGE_POLICY: SubRangePolicy = {
  firstBlocks: 20,
  targetBytes: 32 * 1024 * 1024,
  maxBlocks: 1_000,
};

/** Pure: the sub-range starting at `fromBlock`, or undefined at the batch's end. */
export function nextSubRange(
  batch: BlockBatch,
  fromBlock: number,
  bytesPerBlock: number | undefined,
  policy: SubRangePolicy = DEFAULT_SUB_RANGE_POLICY,
): SubRange | undefined {
  if (fromBlock >= batch.maxBlock) return undefined;
  const wanted =
    bytesPerBlock === undefined || bytesPerBlock <= 0
      ? policy.firstBlocks
      : Math.floor(policy.targetBytes / bytesPerBlock);
  const size = Math.min(policy.maxBlocks, Math.max(1, wanted));
  return { fromBlock, toBlock: Math.min(batch.maxBlock, fromBlock + size) };
}

export interface SubRangeSizer {
  next(batch: BlockBatch, fromBlock: number): SubRange | undefined;
  /** A sub-range was fetched: its answers took `bytes`. */
  observe(range: SubRange, bytes: number): void;
}

/**
 * Sizes from the bytes per block seen so far, cautious one way: larger blocks count at once,
 * smaller ones slowly, and a sub-range is at most `growth` times the last one, so a run of
 * empty blocks cannot make the next sub-range huge.
 */
export class SubRangeSizes implements SubRangeSizer {
  readonly #policy: SubRangePolicy;
  readonly #growth: number;
  #bytesPerBlock: number | undefined;
  #lastBlocks: number | undefined;

  constructor(policy: SubRangePolicy = DEFAULT_SUB_RANGE_POLICY, growth = 4) {
    this.#policy = policy;
    this.#growth = growth;
  }

  next(batch: BlockBatch, fromBlock: number): SubRange | undefined {
    const range = nextSubRange(batch, fromBlock, this.#bytesPerBlock, this.#policy);
    if (!range || this.#lastBlocks === undefined) return range;
    return { fromBlock, toBlock: Math.min(range.toBlock, fromBlock + this.#lastBlocks * this.#growth) };
  }

  observe(range: SubRange, bytes: number): void {
    const blocks = range.toBlock - range.fromBlock;
    if (blocks <= 0) return;
    this.#lastBlocks = blocks;
    const seen = bytes / blocks;
    const weight = Math.min(1, blocks / 2_000);
    this.#bytesPerBlock =
      this.#bytesPerBlock === undefined || seen > this.#bytesPerBlock
        ? seen
        : this.#bytesPerBlock * (1 - weight) + seen * weight;
  }
}
