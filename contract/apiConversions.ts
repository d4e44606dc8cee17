// Where the API's shapes meet the rest of the system, converted in exactly this one place.
//
// Block ranges: people write "blocks 0 to 999", so every range in the custom resources
// (spec.blocks, status.blocks, status.failedBatches, a schedule's backfill.sinceBlock and
// processedThroughBlock) is inclusive. Everything behind the API (plans, batches, messages,
// markers) is half-open: `minBlock` is the first block in, `maxBlock` the first block out,
// so a marker covers `max_block - min_block` blocks and adjacent ranges share an end.
//
// Model versions: the API writes `v1` (the suffix of the output root path `…_v1`); messages,
// manifests and root paths carry the number.
import { MODEL_VERSION, requireName } from './names.ts';

/** Blocks `minBlock` (inclusive) to `maxBlock` (exclusive). */
export interface BlockRange {
  minBlock: number;
  maxBlock: number;
}

/** An API range: both ends inclusive. */
export interface InclusiveBlockRange {
  start: number;
  end: number;
}

function assertBlock(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} ${value} is not a block number (a non-negative safe integer)`);
  }
}

/** `{start: 0, end: 999}` → `{minBlock: 0, maxBlock: 1000}`. */
export function blockRangeFromApi(range: InclusiveBlockRange): BlockRange {
  assertBlock('start', range.start);
  assertBlock('end', range.end);
  if (range.end < range.start)
    throw new RangeError(`block range ${range.start}-${range.end} ends before it starts`);
  return { minBlock: range.start, maxBlock: range.end + 1 };
}

/** `{minBlock: 0, maxBlock: 1000}` → `{start: 0, end: 999}`; an empty range has no inclusive form. */
export function blockRangeToApi(range: BlockRange): InclusiveBlockRange {
  assertBlock('minBlock', range.minBlock);
  assertBlock('maxBlock', range.maxBlock);
  if (range.maxBlock <= range.minBlock) {
    throw new RangeError(
      `block range [${range.minBlock}, ${range.maxBlock}) is empty: it has no inclusive form`,
    );
  }
  return { start: range.minBlock, end: range.maxBlock - 1 };
}

/** `v12` → 12. */
export function modelVersionFromApi(version: string): number {
  requireName(MODEL_VERSION, version, (message) => new RangeError(message));
  return Number(version.slice(1));
}

/** 12 → `v12`. */
export function modelVersionToApi(version: number): string {
  if (!Number.isSafeInteger(version) || version < 1 || version > 9999) {
    throw new RangeError(`model version ${version} must be a whole number from 1 to 9999`);
  }
  return `v${version}`;
}
