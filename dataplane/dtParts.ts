// One file per day: a batch whose blocks straddle midnight (UTC) writes two parquet files,
// one under each `dt=`, and records `num_parts = 2` in each marker, each with the blocks of
// its own day. Every root path written from the same batch uses the same days and block
// ranges, those of the batch's blocks (ingestion takes them from the blocks it fetched, a
// model from its input markers), including days that happen to hold no output rows:
// `num_parts` and the ranges then agree across datasets, and a batch with no output rows
// still writes an (empty) file whose marker commits it.
import type { BlockBatch } from './batches.ts';
import type { DayRange } from './markers.ts';
import { dtOfTimestamp } from './paths.ts';
import { InvalidValueError, assertDt, assertNonNegativeInteger } from './validNames.ts';

export interface DtPart<Row> {
  day: DayRange;
  rows: Row[];
}

/**
 * The batch's days from its blocks (number and timestamp in seconds), in block order: each
 * day gets the half-open range of the batch's blocks whose timestamps fall on it. The blocks
 * must be exactly the batch's, in order, with timestamps that never go back a day.
 */
export function dayRangesOfBlocks(
  batch: BlockBatch,
  blocks: readonly { number: number; timestamp: number }[],
): DayRange[] {
  if (blocks.length !== batch.maxBlock - batch.minBlock) {
    throw new InvalidValueError(
      `batch [${batch.minBlock}, ${batch.maxBlock}) has ${batch.maxBlock - batch.minBlock} blocks, got ${blocks.length}`,
    );
  }
  const days: DayRange[] = [];
  blocks.forEach((block, index) => {
    if (block.number !== batch.minBlock + index) {
      throw new InvalidValueError(
        `block ${block.number} is out of place: expected ${batch.minBlock + index}`,
      );
    }
    const dt = dtOfTimestamp(block.timestamp);
    const current = days.at(-1);
    if (current?.dt === dt) {
      current.maxBlock = block.number + 1;
      return;
    }
    if (current && dt < current.dt) {
      throw new InvalidValueError(
        `block ${block.number} (${dt}) is dated before block ${block.number - 1} (${current.dt})`,
      );
    }
    days.push({ dt, minBlock: block.number, maxBlock: block.number + 1 });
  });
  return days;
}

/** Checks a batch's day list: at least one day, real days, in order, contiguous non-empty ranges. */
export function checkedDays(days: readonly DayRange[]): readonly DayRange[] {
  if (days.length === 0) throw new InvalidValueError('the batch needs at least one day');
  days.forEach((day, index) => {
    assertDt(day.dt);
    assertNonNegativeInteger('day minBlock', day.minBlock);
    assertNonNegativeInteger('day maxBlock', day.maxBlock);
    if (day.maxBlock <= day.minBlock) throw new InvalidValueError(`day ${day.dt} has no blocks`);
    const previous = days[index - 1];
    if (previous && (day.dt <= previous.dt || day.minBlock !== previous.maxBlock)) {
      throw new InvalidValueError(`days ${previous.dt} and ${day.dt} are not consecutive parts of one batch`);
    }
  });
  return days;
}

/**
 * Splits rows by the UTC day of their block timestamp (seconds), one part per day of the
 * batch (an empty one where no row falls), keeping row order within a day. A row on a day
 * the batch does not have is an error.
 */
export function splitRowsByDt<Row>(
  rows: readonly Row[],
  timestampOf: (row: Row) => number,
  days: readonly DayRange[],
): DtPart<Row>[] {
  const parts = new Map<string, DtPart<Row>>();
  for (const day of checkedDays(days)) parts.set(day.dt, { day, rows: [] });
  for (const row of rows) {
    const dt = dtOfTimestamp(timestampOf(row));
    const part = parts.get(dt);
    if (!part) {
      throw new InvalidValueError(
        `a row on ${dt} is outside the batch's days ${[...parts.keys()].join(', ')}`,
      );
    }
    part.rows.push(row);
  }
  return [...parts.values()];
}
