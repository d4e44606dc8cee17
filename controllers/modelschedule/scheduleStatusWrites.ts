// When a schedule's status is written. A realtime schedule looks every couple of seconds and its
// numbers (lag, head, pending, coverage) move nearly every time; those are written at most once
// per interval. Anything else (runs created, active runs, a condition turning, the cron cursor)
// is written at once. Nothing is written when nothing changed. The last status written is
// remembered because the informer's copy may not show it yet.
import type { Condition, ModelScheduleStatus } from '../../crds/generated/types.ts';
import { StatusWriteMemory, type WriteDecision, canonicalJson } from '../modelrun/statusThrottle.ts';

const NUMBERS: readonly (keyof ModelScheduleStatus)[] = [
  'processedThroughBlock',
  'ingestedThroughBlock',
  'headBlock',
  'pendingBatches',
  'lag',
  'coverage',
  'message',
];

/** The status without its moving numbers, conditions reduced to what they say (not their wording). */
function significant(status: ModelScheduleStatus): string {
  const kept: Record<string, unknown> = { ...status };
  for (const key of NUMBERS) delete kept[key];
  kept.conditions = (status.conditions ?? []).map((condition: Condition) => [
    condition.type,
    condition.status,
    condition.reason,
  ]);
  return canonicalJson(kept);
}

export class ScheduleStatusWrites extends StatusWriteMemory<ModelScheduleStatus> {
  decide(
    uid: string,
    current: ModelScheduleStatus | undefined,
    next: ModelScheduleStatus,
    now: Date,
  ): WriteDecision {
    const last = this.lastWritten(uid);
    const nextJson = canonicalJson(next);
    if (canonicalJson(last?.status ?? current ?? {}) === nextJson) return 'unchanged';
    if (!last || significant(last.status) !== significant(next)) return 'write';
    return this.intervalPassed(uid, now) ? 'write' : 'later';
  }
}
