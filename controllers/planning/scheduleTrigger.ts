// When a schedule may create runs: always while realtime, else at a cron time that has not been
// acted on. Pure: the spec, the cron cursor (status.lastCronTime), creation and now come in.
//
// The cursor moves like a CronJob's lastScheduleTime: to a due time once the schedule acted on
// it, and past times given up for the starting deadline. A due time at which every stream with
// work was held back by Forbid is not acted on: it stays due, and runs when the active run
// finishes if that is still within startingDeadlineSeconds (a CronJob's Forbid counts the time
// as missed the same way).
import type { ModelScheduleSpec } from '../../crds/generated/types.ts';
import { type CronSchedule, type UnmetCronTimes, nextCronTime, unmetCronTimes } from './cronTimes.ts';

export interface CronTrigger {
  schedule: CronSchedule;
  unmet: UnmetCronTimes;
  /** The next fire time after now. */
  next: Date;
}

export function cronScheduleOf(spec: ModelScheduleSpec): CronSchedule | undefined {
  const expression = spec.trigger.schedule;
  return expression ? { expression, timeZone: spec.trigger.timeZone ?? 'UTC' } : undefined;
}

/** The cron side of the trigger, or undefined without a cron schedule. */
export function cronTriggerOf(
  spec: ModelScheduleSpec,
  lastCronTime: Date | undefined,
  createdAt: Date,
  now: Date,
): CronTrigger | undefined {
  const schedule = cronScheduleOf(spec);
  if (!schedule) return undefined;
  return {
    schedule,
    unmet: unmetCronTimes({
      schedule,
      since: lastCronTime ?? createdAt,
      now,
      startingDeadlineSeconds: spec.startingDeadlineSeconds,
    }),
    next: nextCronTime(schedule, now),
  };
}

/** The cron cursor after this reconcile: `acted` says the due time was acted on. */
export function nextCronCursor(
  trigger: CronTrigger | undefined,
  previous: Date | undefined,
  acted: boolean,
): Date | undefined {
  if (!trigger) return previous;
  let cursor = previous;
  const later = (candidate: Date | undefined) => {
    if (candidate && (!cursor || candidate.getTime() > cursor.getTime())) cursor = candidate;
  };
  later(trigger.unmet.latestPastDeadline);
  if (acted) later(trigger.unmet.due);
  return cursor;
}
