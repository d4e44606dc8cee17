// Pure: how a batch is cut into sub-ranges for the SQL path. Each sub-range's answers are
// fetched while the one before is decoded, and its size follows the bytes per block seen so
// far, so a sub-range's JSON stays near `targetBytes` whatever the chain: DuckDB's memory
// for reading it is bounded, and small blocks are not read a handful at a time.
import type { BlockBatch } from '../../dataplane/batches.ts';
import type { SubRange } from './rawAnswers.ts';

export interface SubRangePolicy {
  /** Blocks of the first sub-range, before anything is known about their size. */
  firstBlocks: number;
  /** JSON bytes (blocks and receipts) a sub-range aims at. */
  targetBytes: number;
  maxBlocks: number;
}

export const DEFAULT_SUB_RANGE_POLICY: SubRangePolicy = {
  firstBlocks: 20,
  targetBytes: 12 * 1024 * 1024,
  maxBlocks: 500,
};

/**
 * The sub-range starting at `fromBlock`, or undefined at the batch's end. `bytesPerBlock`:
 * measured on the sub-ranges fetched so far (undefined before the first).
 */
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
