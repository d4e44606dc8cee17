// One file per day: a batch whose blocks straddle midnight (UTC) writes two parquet files,
// one under each `dt=`, and records `num_parts = 2` in each marker. Every root path written
// from the same batch uses the same days, those of the batch's blocks (ingestion takes them
// from the blocks it fetched, a model from its input markers), including days that happen
// to hold no output rows: `num_parts` then agrees across datasets, and a batch with no
// output rows still writes an (empty) file whose marker commits it.
import { dtOfTimestamp } from './paths.ts';
import { InvalidValueError, assertDt } from './validNames.ts';

export interface DtPart<Row> {
  dt: string;
  rows: Row[];
}

/**
 * Splits rows by the UTC day of their block timestamp (seconds), sorted by day, keeping
 * row order within a day. With `dts` (the batch's days, e.g. from its input markers),
 * every listed day gets a part, even an empty one, and a row on another day is an error.
 */
export function splitRowsByDt<Row>(
  rows: readonly Row[],
  timestampOf: (row: Row) => number,
  dts?: readonly string[],
): DtPart<Row>[] {
  const parts = new Map<string, Row[]>();
  for (const dt of dts ?? []) {
    assertDt(dt);
    parts.set(dt, []);
  }
  for (const row of rows) {
    const dt = dtOfTimestamp(timestampOf(row));
    let bucket = parts.get(dt);
    if (!bucket) {
      if (dts) throw new InvalidValueError(`a row on ${dt} is outside the batch's days ${dts.join(', ')}`);
      bucket = [];
      parts.set(dt, bucket);
    }
    bucket.push(row);
  }
  return [...parts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([dt, rows]) => ({ dt, rows }));
}
