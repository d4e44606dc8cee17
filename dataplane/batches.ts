// Block batches: the unit of work, of files and of markers.
//
// A chain's batch size is plain data: a list of delimiters, each saying "from this block
// on, batches hold this many blocks". Busy chains need smaller batches as they grow, so
// the size may change, but only at a block that is already a batch boundary under the
// previous size. That way a batch, once written, never moves: every later plan cuts the
// chain at exactly the same blocks, and a batch's first block names its file forever.
//
// Ranges and batches are half-open everywhere in the data plane: `minBlock` is the first
// block in, `maxBlock` the first block out (as in the markers, where a batch covers
// `max_block - min_block` blocks).
import { InvalidValueError, assertNonNegativeInteger } from './validNames.ts';

/** From `fromBlock` on (until the next delimiter), batches hold `batchSize` blocks. */
export interface BatchSizeDelimiter {
  fromBlock: number;
  batchSize: number;
}

/** Blocks `minBlock` (inclusive) to `maxBlock` (exclusive). */
export interface BlockRange {
  minBlock: number;
  maxBlock: number;
}

/** One batch: a range that starts and ends on the chain's fixed batch boundaries. */
export type BlockBatch = BlockRange;

export interface PlanBatchesOptions {
  /** The chain head (latest block number, inclusive). Without it nothing is held back. */
  tip?: number;
  /** Blocks to stay behind the tip (reorg safety). Default 0. */
  safety?: number;
  /** Refuse plans larger than this, so a typo cannot allocate millions of batches. */
  maxBatches?: number;
}

const DEFAULT_MAX_BATCHES = 1_000_000;

/**
 * Checks a batch-size schedule: starts at block 0, strictly increasing, positive sizes,
 * and each delimiter on a boundary of the size before it (so boundaries never move).
 */
export function validateDelimiters(delimiters: readonly BatchSizeDelimiter[]): void {
  if (delimiters.length === 0) throw new InvalidValueError('batch sizes: at least one delimiter is needed');
  delimiters.forEach((delimiter, index) => {
    assertNonNegativeInteger(`delimiter ${index} fromBlock`, delimiter.fromBlock);
    assertNonNegativeInteger(`delimiter ${index} batchSize`, delimiter.batchSize);
    if (delimiter.batchSize === 0)
      throw new InvalidValueError(`delimiter ${index}: batchSize must be positive`);
    if (index === 0) {
      if (delimiter.fromBlock !== 0) {
        throw new InvalidValueError(`delimiter 0 must start at block 0, not ${delimiter.fromBlock}`);
      }
      return;
    }
    const previous = delimiters[index - 1]!;
    if (delimiter.fromBlock <= previous.fromBlock) {
      throw new InvalidValueError(
        `delimiter ${index} (block ${delimiter.fromBlock}) must come after block ${previous.fromBlock}`,
      );
    }
    if ((delimiter.fromBlock - previous.fromBlock) % previous.batchSize !== 0) {
      throw new InvalidValueError(
        `delimiter ${index} (block ${delimiter.fromBlock}) is not on a boundary of the previous ` +
          `batch size ${previous.batchSize} starting at block ${previous.fromBlock}`,
      );
    }
  });
}

/** The delimiter in force at `block` (the last one starting at or before it). */
function delimiterAt(delimiters: readonly BatchSizeDelimiter[], block: number): BatchSizeDelimiter {
  let found = delimiters[0]!;
  for (const delimiter of delimiters) {
    if (delimiter.fromBlock > block) break;
    found = delimiter;
  }
  return found;
}

/** The one batch that holds `block`. Assumes validated delimiters. */
export function batchContaining(delimiters: readonly BatchSizeDelimiter[], block: number): BlockBatch {
  assertNonNegativeInteger('block', block);
  const delimiter = delimiterAt(delimiters, block);
  // Modulo, not division: exact for every safe integer.
  const offset = block - delimiter.fromBlock;
  const minBlock = block - (offset % delimiter.batchSize);
  const maxBlock = minBlock + delimiter.batchSize;
  if (!Number.isSafeInteger(maxBlock)) {
    throw new InvalidValueError(`the batch holding block ${block} ends beyond the largest safe integer`);
  }
  return { minBlock, maxBlock };
}

/**
 * The last block that may be processed: `tip - safety`, or -1 when the chain is still shorter
 * than the safety distance (nothing is safe yet). Blocks nearer the tip can be reorganised
 * away, so models only read below it and what they write never has to be undone.
 */
export function lastSafeBlock(tip: number, safety = 0): number {
  assertNonNegativeInteger('tip', tip);
  assertNonNegativeInteger('safety', safety);
  return Math.max(tip - safety, -1);
}

/**
 * The batches that cover `range`, in block order. A range that starts or ends mid-batch
 * yields the whole covering batches. With a `tip`, a batch is planned only once its last
 * block is at or below `tip - safety`; later (partial) batches are left for a later plan.
 */
export function planBatches(
  range: BlockRange,
  delimiters: readonly BatchSizeDelimiter[],
  options: PlanBatchesOptions = {},
): BlockBatch[] {
  validateDelimiters(delimiters);
  assertNonNegativeInteger('range minBlock', range.minBlock);
  assertNonNegativeInteger('range maxBlock', range.maxBlock);
  if (range.maxBlock < range.minBlock) {
    throw new InvalidValueError(`block range ${range.minBlock}-${range.maxBlock} ends before it starts`);
  }
  const limit = options.tip === undefined ? Infinity : lastSafeBlock(options.tip, options.safety ?? 0) + 1;
  const maxBatches = options.maxBatches ?? DEFAULT_MAX_BATCHES;

  const batches: BlockBatch[] = [];
  if (range.minBlock === range.maxBlock) return batches;
  let batch = batchContaining(delimiters, range.minBlock);
  while (batch.maxBlock <= limit) {
    if (batches.length >= maxBatches) {
      throw new InvalidValueError(
        `block range ${range.minBlock}-${range.maxBlock} needs more than ${maxBatches} batches`,
      );
    }
    batches.push(batch);
    if (batch.maxBlock >= range.maxBlock) break;
    // Delimiters sit on boundaries, so the next batch starts exactly where this one ends.
    batch = batchContaining(delimiters, batch.maxBlock);
  }
  return batches;
}
