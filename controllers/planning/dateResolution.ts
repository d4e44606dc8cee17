// spec.dates → blocks, through the ingestion markers: the blocks of a UTC day are the blocks its
// complete ingestion parts record (each part holds the blocks of its own day). The range is
// final only once ingestion has passed the last day, so a run over today waits until tomorrow's
// first block is ingested, and says so.
import type { BlockRange } from '../../contract/apiConversions.ts';
import type { DayRange } from '../../dataplane/markers.ts';

export type DateResolution = { kind: 'resolved'; range: BlockRange } | { kind: 'waiting'; message: string };

export function resolveDates(
  dates: { start: string; end: string },
  days: readonly DayRange[],
): DateResolution {
  const inRange = days.filter((day) => day.dt >= dates.start && day.dt <= dates.end);
  const last = days.reduce<string | undefined>(
    (latest, day) => (latest === undefined || day.dt > latest ? day.dt : latest),
    undefined,
  );
  if (inRange.length === 0 && last !== undefined && last > dates.end) {
    // Ingestion went past these days without them (it started later): waiting alone would not help.
    return {
      kind: 'waiting',
      message: `ingestion holds no blocks of the days ${dates.start} to ${dates.end}, though it has reached ${last}: ingest those days first`,
    };
  }
  if (inRange.length === 0 || last === undefined || last <= dates.end) {
    return {
      kind: 'waiting',
      message:
        last === undefined
          ? `no ingested blocks from ${dates.start} on yet: the days resolve to blocks once ingestion has passed ${dates.end}`
          : `ingestion has reached ${last}; the days ${dates.start} to ${dates.end} resolve to blocks once it has passed ${dates.end}`,
    };
  }
  return {
    kind: 'resolved',
    range: {
      minBlock: Math.min(...inRange.map((day) => day.minBlock)),
      maxBlock: Math.max(...inRange.map((day) => day.maxBlock)),
    },
  };
}
