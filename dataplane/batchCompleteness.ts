// When a batch is complete for a root path: the one rule, in the two forms the project needs
// it, side by side so they cannot drift apart. The marker store answers every completeness
// question in SQL (planning, the worker's skip check, its input check, coverage); writers
// check their own parts with the JS form before committing them. A shared table of cases
// (test/unit/dataplane/batchCompleteness.test.ts and the marker store's integration test on
// ClickHouse 18.16 and chdb) holds both forms to the same answers.
//
// The rule: take the latest marker of each data path of the batch (markers are append-only,
// the newest `updated_at` wins). The batch is complete when
//   - there are exactly `num_parts` of them, and every one announces the same `num_parts`;
//   - their block ranges `[min_block, max_block)` tile `[batch start, batch end)`: no gap,
//     no overlap, no empty part, nothing outside.
// A part is identified as the batch's by the batch's first block in its file name, and the
// batch's end follows from the chain's batch sizes, never from the markers themselves.
import type { BatchSizeDelimiter, BlockBatch } from './batches.ts';
import { sqlUInt } from './sqlLiteral.ts';
import { InvalidValueError } from './validNames.ts';

export interface BatchPart {
  minBlock: number;
  maxBlock: number;
  numParts: number;
}

/** Why `ranges` do not tile `batch` exactly, or undefined when they do. */
export function tilingProblem(
  ranges: readonly { minBlock: number; maxBlock: number }[],
  batch: BlockBatch,
): string | undefined {
  if (ranges.length === 0) return 'no parts';
  const sorted = [...ranges].sort((a, b) => a.minBlock - b.minBlock);
  let next = batch.minBlock;
  for (const range of sorted) {
    if (range.maxBlock <= range.minBlock) return `part [${range.minBlock}, ${range.maxBlock}) is empty`;
    if (range.minBlock > next) return `blocks [${next}, ${range.minBlock}) are in no part`;
    if (range.minBlock < next)
      return `part [${range.minBlock}, ${range.maxBlock}) overlaps blocks before ${next}`;
    next = range.maxBlock;
  }
  if (next !== batch.maxBlock) {
    return next < batch.maxBlock
      ? `blocks [${next}, ${batch.maxBlock}) are in no part`
      : `parts reach block ${next - 1}, past the batch's last block ${batch.maxBlock - 1}`;
  }
  return undefined;
}

/** The JS form: `parts` are the latest marker of each data path of the batch. */
export function isCompleteBatch(parts: readonly BatchPart[], batch: BlockBatch): boolean {
  return (
    parts.length > 0 &&
    parts.every((part) => part.numParts === parts.length) &&
    tilingProblem(parts, batch) === undefined
  );
}

/**
 * SQL for the end of the batch starting at `startSql` (an expression holding a batch's first
 * block): the start plus the batch size of the delimiter in force there.
 */
export function batchEndSql(delimiters: readonly BatchSizeDelimiter[], startSql: string): string {
  if (delimiters.length === 0) throw new InvalidValueError('batch sizes: at least one delimiter is needed');
  const size = (delimiter: BatchSizeDelimiter) => sqlUInt('batch size', delimiter.batchSize);
  if (delimiters.length === 1) return `toUInt64(${startSql} + ${size(delimiters[0]!)})`;
  // multiIf picks the first true branch: test the latest delimiter first.
  const branches = [...delimiters]
    .reverse()
    .slice(0, -1)
    .map((d) => `${startSql} >= ${sqlUInt('fromBlock', d.fromBlock)}, ${startSql} + ${size(d)}`);
  return `toUInt64(multiIf(${branches.join(', ')}, ${startSql} + ${size(delimiters[0]!)}))`;
}

/**
 * The SQL form, as a HAVING clause over the latest parts of one batch grouped together.
 * Columns: `batch_start`, `part_min_block`, `part_max_block`, `part_num_parts`. Tiling without
 * window functions (ClickHouse 18.16 has none): with every part non-empty, the parts tile
 * [start, end) exactly when the sorted starts equal [start] followed by the sorted ends
 * without the last, and the last end is `end` — the multiset {start} ∪ ends equals
 * starts ∪ {end}, and in a chain of strictly forward ranges that is one unbroken path.
 */
export function completeBatchHavingSql(delimiters: readonly BatchSizeDelimiter[]): string {
  const end = batchEndSql(delimiters, 'batch_start');
  return `count() = min(part_num_parts) AND count() = max(part_num_parts)
    AND min(part_max_block > part_min_block) = 1
    AND arrayConcat([batch_start], arraySort(groupArray(part_max_block)))
      = arrayConcat(arraySort(groupArray(part_min_block)), [${end}])`;
}
