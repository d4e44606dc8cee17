// A schedule's cron times in its time zone, counted the way a CronJob counts them, without the
// CronJob controller's DST bugs. Pure: the expression, the zone and every instant come in.
//
// cron-parser steps through local wall-clock time and handles the zone's transitions: a fixed
// time that falls in the hour clocks skip (02:30 on a spring-forward night) fires once, right
// after the gap; one that falls in the hour clocks repeat (02:30 on a fall-back night) fires
// once, at its first occurrence; wildcard hours ("every 30 minutes") fire through both copies
// of the repeated hour, as real time passes. That holds while iterating from a point before
// the transition. Started INSIDE a repeated hour, the library yields the second occurrence of
// a fixed time as new, which is exactly kubernetes #121594 (a double run when clocks go back).
// So every enumeration here starts a margin before the instant it is asked about, longer than
// any zone's transition, and drops what precedes that instant: the same canonical sequence
// whatever the starting point.
import { CronExpressionParser } from 'cron-parser';

export interface CronSchedule {
  expression: string;
  /** IANA zone; UTC when the spec names none. */
  timeZone: string;
}

/** Longer than any DST shift (at most 2 h, historically), so enumeration starts outside it. */
const TRANSITION_MARGIN_MS = 3 * 3_600_000;

/** The last instant a Date can hold. */
const LAST_DATE = new Date(8.64e15);

/** Like a CronJob: counting more missed times than this is pointless; the most recent still runs. */
export const MAX_MISSED_TIMES = 100;

/** Why the expression or zone cannot be evaluated, or undefined when both are fine. */
export function cronScheduleProblem(schedule: CronSchedule): string | undefined {
  try {
    validTimeZone(schedule.timeZone);
    CronExpressionParser.parse(schedule.expression, {
      tz: schedule.timeZone,
      currentDate: new Date(0),
    }).next();
    return undefined;
  } catch (error) {
    return `schedule ${JSON.stringify(schedule.expression)} in time zone ${schedule.timeZone}: ${(error as Error).message}`;
  }
}

function validTimeZone(timeZone: string): void {
  // Intl knows every IANA zone the runtime's ICU has; it throws RangeError on an unknown one.
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** Fire times strictly after `after` and at or before `until`, at most `limit` of them, in order. */
export function cronTimesBetween(schedule: CronSchedule, after: Date, until: Date, limit: number): Date[] {
  const times: Date[] = [];
  if (limit <= 0 || until.getTime() <= after.getTime()) return times;
  const iterator = CronExpressionParser.parse(schedule.expression, {
    tz: schedule.timeZone,
    currentDate: new Date(after.getTime() - TRANSITION_MARGIN_MS),
  });
  for (;;) {
    const next = iterator.next().toDate();
    if (next.getTime() > until.getTime()) return times;
    if (next.getTime() <= after.getTime()) continue;
    times.push(next);
    if (times.length >= limit) return times;
  }
}

/** The first fire time strictly after `after`. */
export function nextCronTime(schedule: CronSchedule, after: Date): Date {
  const [next] = cronTimesBetween(schedule, after, LAST_DATE, 1);
  if (!next) throw new Error(`schedule ${schedule.expression} never fires again`);
  return next;
}

/** The latest fire time at or before `now` (undefined when the schedule never fired before it). */
function mostRecentCronTime(schedule: CronSchedule, now: Date): Date | undefined {
  const iterator = CronExpressionParser.parse(schedule.expression, {
    tz: schedule.timeZone,
    currentDate: new Date(now.getTime() + 1),
  });
  let candidate: Date;
  try {
    candidate = iterator.prev().toDate();
  } catch {
    return undefined;
  }
  // prev() may land on the second copy of a repeated hour; the canonical sequence around it decides.
  return cronTimesBetween(
    schedule,
    new Date(candidate.getTime() - TRANSITION_MARGIN_MS),
    now,
    Number.POSITIVE_INFINITY,
  ).at(-1);
}

export interface UnmetCronTimes {
  /** The newest unmet time within the starting deadline: the one to act on now. */
  due: Date | undefined;
  /** Unmet times counted within the deadline (capped at MAX_MISSED_TIMES + 1). */
  missed: number;
  /** More than MAX_MISSED_TIMES were missed (a CronJob's TooManyMissedTimes). */
  tooMany: boolean;
  /** Unmet times older than the starting deadline, given up (capped like `missed`). */
  pastDeadline: number;
  /** The newest time given up for the deadline: the cursor moves past it. */
  latestPastDeadline: Date | undefined;
}

export interface UnmetCronInput {
  schedule: CronSchedule;
  /** The last cron time acted on, or the schedule's creation. */
  since: Date;
  now: Date;
  startingDeadlineSeconds: number | undefined;
}

/**
 * The cron times since `since` that have not been acted on, as a CronJob's controller counts
 * them: from `since`, clipped to `now - startingDeadlineSeconds`; over a hundred counts as
 * too many, and the most recent still runs. Times before the deadline are reported apart, so
 * the caller can say they were skipped and move its cursor past them.
 */
export function unmetCronTimes(input: UnmetCronInput): UnmetCronTimes {
  const { schedule, since, now, startingDeadlineSeconds } = input;
  // A time exactly startingDeadlineSeconds old may still start (a CronJob's `scheduled + deadline < now`).
  const clipped =
    startingDeadlineSeconds !== undefined &&
    now.getTime() - startingDeadlineSeconds * 1000 > since.getTime() + 1;
  const earliest = clipped ? new Date(now.getTime() - startingDeadlineSeconds * 1000 - 1) : since;
  const late = clipped ? cronTimesBetween(schedule, since, earliest, MAX_MISSED_TIMES + 1) : [];
  const lateLatest = late.length > MAX_MISSED_TIMES ? mostRecentCronTime(schedule, earliest) : late.at(-1);
  const times = cronTimesBetween(schedule, earliest, now, MAX_MISSED_TIMES + 1);
  const tooMany = times.length > MAX_MISSED_TIMES;
  return {
    due: tooMany ? mostRecentCronTime(schedule, now) : times.at(-1),
    missed: times.length,
    tooMany,
    pastDeadline: late.length,
    latestPastDeadline: lateLatest,
  };
}
