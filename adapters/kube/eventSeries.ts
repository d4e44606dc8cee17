// When a repeated Event becomes a series: the same note about the same object within a window
// bumps `series.count` on the Event already written instead of writing a new one, as client-go's
// events library does, so a reconcile that keeps finding the same problem leaves one Event.

export interface EventOccurrence {
  /** Which object incarnation the Event is about (uid, else namespace/name). */
  subject: string;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

/** The Event last written for a key. */
export interface WrittenEvent {
  namespace: string;
  name: string;
  /** 1 for a single Event; series.count after that. */
  count: number;
  lastObservedMs: number;
}

export type EventWrite = { kind: 'create' } | { kind: 'bumpSeries'; count: number };

/** Two occurrences with the same key are the same Event repeated. */
export function eventSeriesKey(occurrence: EventOccurrence): string {
  return JSON.stringify([
    occurrence.subject,
    occurrence.type,
    occurrence.reason,
    occurrence.action,
    occurrence.note,
  ]);
}

/**
 * Create a new Event, or bump the series of the one written before when it was last seen
 * within `windowMs`. A series starts at count 2 (the API rejects a series with count < 2).
 */
export function nextEventWrite(
  previous: WrittenEvent | undefined,
  nowMs: number,
  windowMs: number,
): EventWrite {
  if (!previous || nowMs - previous.lastObservedMs > windowMs || nowMs < previous.lastObservedMs) {
    return { kind: 'create' };
  }
  return { kind: 'bumpSeries', count: previous.count + 1 };
}
