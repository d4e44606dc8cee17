// The Redis progress rules as one list of cases: every (previous outcome or none, next outcome)
// pair and what outcomeChange must say about it. The unit test holds outcomeChange to this
// list and the Redis test drives the same pairs through the Lua script of progress.ts, so the
// table and the script cannot drift apart.
import { BATCH_OUTCOMES, type BatchOutcome, type OutcomeChange } from '../../adapters/redis/progressRules.ts';

export interface OutcomeCase {
  /** What the run recorded for the batch before (undefined: nothing yet). */
  previous: BatchOutcome | undefined;
  next: BatchOutcome;
  change: OutcomeChange;
}

export const OUTCOME_CASES: readonly OutcomeCase[] = [
  { previous: undefined, next: 'succeeded', change: { counted: true, increment: 'succeeded' } },
  { previous: undefined, next: 'skipped', change: { counted: true, increment: 'skipped' } },
  { previous: undefined, next: 'failed', change: { counted: true, increment: 'failed' } },
  { previous: 'succeeded', next: 'succeeded', change: { counted: false } },
  { previous: 'skipped', next: 'skipped', change: { counted: false } },
  { previous: 'failed', next: 'failed', change: { counted: false } },
  {
    previous: 'failed',
    next: 'succeeded',
    change: { counted: true, decrement: 'failed', increment: 'succeeded' },
  },
  {
    previous: 'failed',
    next: 'skipped',
    change: { counted: true, decrement: 'failed', increment: 'skipped' },
  },
  { previous: 'succeeded', next: 'failed', change: { counted: false } },
  { previous: 'succeeded', next: 'skipped', change: { counted: false } },
  {
    previous: 'skipped',
    next: 'succeeded',
    change: { counted: true, decrement: 'skipped', increment: 'succeeded' },
  },
  { previous: 'skipped', next: 'failed', change: { counted: false } },
];

/** Every pair the cases must cover: no outcome yet or any outcome, then any outcome. */
export function everyOutcomePair(): [BatchOutcome | undefined, BatchOutcome][] {
  return [undefined, ...BATCH_OUTCOMES].flatMap((previous) =>
    BATCH_OUTCOMES.map((next): [BatchOutcome | undefined, BatchOutcome] => [previous, next]),
  );
}

export function describeCase({ previous, next }: Pick<OutcomeCase, 'previous' | 'next'>): string {
  return `${previous ?? 'none'} → ${next}`;
}
