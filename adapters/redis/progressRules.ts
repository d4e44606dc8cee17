// How one batch outcome changes a run's counters. Delivery is at-least-once, so the same batch
// can report twice (a redelivery after a crash, a retry that races a slow ack): a batch is
// counted once, under its latest outcome, and a success is final. The Lua script in
// progress.ts applies exactly this table atomically; test/support/progressRuleCases.ts holds
// the cases that both the table and the Lua (on a real Redis) are tested against.

import type { BatchOutcome } from '../../contract/batchOutcomes.ts';

export { BATCH_OUTCOMES, type BatchOutcome } from '../../contract/batchOutcomes.ts';

export interface OutcomeChange {
  /** Whether the report changes anything at all. */
  counted: boolean;
  /** Counter to decrement (the batch's earlier outcome), if any. */
  decrement?: BatchOutcome;
  /** Counter to increment. */
  increment?: BatchOutcome;
}

/**
 * `previous` is what the run recorded for the batch so far (undefined: nothing yet).
 * - first report: count it;
 * - the same outcome again: nothing (idempotent);
 * - failed, then succeeded or skipped (the operator re-enqueued it): move it;
 * - skipped, then succeeded: move it. Two attempts overlapped (a Job pod replaced while its
 *   batch was being committed): the second found the markers complete and said so first, but
 *   this run's attempt did write the batch, and the run's modeled blocks say so;
 * - succeeded or skipped, then anything else: nothing (its markers are written; a late failure
 *   report from a duplicate delivery must not undo that).
 */
export function outcomeChange(previous: BatchOutcome | undefined, next: BatchOutcome): OutcomeChange {
  if (previous === undefined) return { counted: true, increment: next };
  if (previous === next) return { counted: false };
  if (previous === 'failed') return { counted: true, decrement: 'failed', increment: next };
  if (previous === 'skipped' && next === 'succeeded')
    return { counted: true, decrement: 'skipped', increment: 'succeeded' };
  return { counted: false };
}
