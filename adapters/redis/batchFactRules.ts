// How one report changes a batch's facts. Reports come at least once and from several workers
// (a redelivery after a crash, a duplicate delivery of a finished batch), so:
// - a succeeded or skipped batch is final: nothing changes it (its markers are written);
// - a report from an older attempt than the one recorded is stale and changes nothing;
// - a start opens an attempt: state running, its worker and start time, the last error kept;
// - an end closes it: its state, end time, rows and error, the attempt's start time kept.
// The Lua script in batchFacts.ts applies exactly this function atomically; the unit tests
// hold its table and the integration test runs the same table through Redis.
import { type BatchFact, type BatchFactEvent, FINAL_BATCH_FACT_STATES } from '../../contract/batchFacts.ts';

/** The facts after `event`, or undefined when the event changes nothing. */
export function nextBatchFact(previous: BatchFact | undefined, event: BatchFactEvent): BatchFact | undefined {
  if (previous && FINAL_BATCH_FACT_STATES.includes(previous.state)) return undefined;
  if (previous && event.attempt < previous.attempts) return undefined;
  const fact: BatchFact = {
    minBlock: event.minBlock,
    maxBlock: event.maxBlock,
    state: 'running',
    attempts: event.attempt,
    worker: event.worker,
  };
  if (event.kind === 'started') {
    fact.startedAt = event.at;
    if (previous?.lastError !== undefined) fact.lastError = previous.lastError;
    return fact;
  }
  fact.state = event.state;
  if (previous?.startedAt !== undefined) fact.startedAt = previous.startedAt;
  fact.finishedAt = event.at;
  if (event.rows !== undefined) fact.rows = event.rows;
  const lastError = event.error ?? previous?.lastError;
  if (lastError !== undefined) fact.lastError = lastError;
  return fact;
}
