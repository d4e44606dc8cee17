// Cron times in a time zone across DST, and missed times counted like a CronJob's controller
// (kubernetes #121594: no double run when clocks go back, whatever instant the count starts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_MISSED_TIMES,
  cronScheduleProblem,
  cronTimesBetween,
  nextCronTime,
  unmetCronTimes,
} from '../../../controllers/planning/cronTimes.ts';

const at = (iso: string) => new Date(iso);
const isoList = (dates: Date[]) => dates.map((d) => d.toISOString().replace('.000Z', 'Z'));
const berlin = (expression: string) => ({ expression, timeZone: 'Europe/Berlin' });
const newYork = (expression: string) => ({ expression, timeZone: 'America/New_York' });

// Europe/Berlin 2026: clocks go forward 29 Mar 02:00 CET → 03:00 CEST, back 25 Oct 03:00 CEST → 02:00 CET.
// America/New_York 2026: back 1 Nov 02:00 EDT → 01:00 EST.
const betweenCases = [
  {
    name: 'a fixed time in the repeated hour fires once, at its first occurrence',
    schedule: berlin('30 2 * * *'),
    after: '2026-10-24T00:00:00Z',
    until: '2026-10-27T00:00:00Z',
    want: ['2026-10-24T00:30:00Z', '2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z'],
  },
  {
    name: 'counting from inside the repeated hour does not fire its second copy (#121594)',
    schedule: berlin('30 2 * * *'),
    after: '2026-10-25T01:10:00Z',
    until: '2026-10-27T00:00:00Z',
    want: ['2026-10-26T01:30:00Z'],
  },
  {
    name: 'counting from just after the first copy does not fire the second either',
    schedule: newYork('30 1 * * *'),
    after: '2026-11-01T05:31:00Z',
    until: '2026-11-02T12:00:00Z',
    want: ['2026-11-02T06:30:00Z'],
  },
  {
    name: 'a wildcard hour fires through both copies of the repeated hour, as real time passes',
    schedule: berlin('0 * * * *'),
    after: '2026-10-24T23:30:00Z',
    until: '2026-10-25T03:00:00Z',
    want: ['2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00Z', '2026-10-25T03:00:00Z'],
  },
  {
    name: 'a fixed time in the skipped hour fires once, right after the gap',
    schedule: berlin('30 2 * * *'),
    after: '2026-03-28T00:00:00Z',
    until: '2026-03-30T12:00:00Z',
    want: ['2026-03-28T01:30:00Z', '2026-03-29T01:30:00Z', '2026-03-30T00:30:00Z'],
  },
  {
    name: 'a UTC schedule ignores every zone DST (no stampede around a change, #121763)',
    schedule: { expression: '0 3 * * *', timeZone: 'UTC' },
    after: '2026-10-24T00:00:00Z',
    until: '2026-10-27T00:00:00Z',
    want: ['2026-10-24T03:00:00Z', '2026-10-25T03:00:00Z', '2026-10-26T03:00:00Z'],
  },
  {
    name: 'a daily macro in UTC',
    schedule: { expression: '@daily', timeZone: 'UTC' },
    after: '2026-01-01T00:00:00Z',
    until: '2026-01-03T00:00:00Z',
    want: ['2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'],
  },
  {
    name: 'strictly after `after`, up to and including `until`',
    schedule: { expression: '*/10 * * * *', timeZone: 'UTC' },
    after: '2026-01-01T00:00:00Z',
    until: '2026-01-01T00:30:00Z',
    want: ['2026-01-01T00:10:00Z', '2026-01-01T00:20:00Z', '2026-01-01T00:30:00Z'],
  },
];

for (const { name, schedule, after, until, want } of betweenCases) {
  test(`cronTimesBetween: ${name}`, () => {
    assert.deepEqual(isoList(cronTimesBetween(schedule, at(after), at(until), 100)), want);
  });
}

test('nextCronTime skips the second copy of a repeated fixed time', () => {
  assert.equal(
    nextCronTime(berlin('30 2 * * *'), at('2026-10-25T00:30:00Z')).toISOString(),
    '2026-10-26T01:30:00.000Z',
  );
  assert.equal(
    nextCronTime(berlin('30 2 * * *'), at('2026-10-25T01:10:00Z')).toISOString(),
    '2026-10-26T01:30:00.000Z',
  );
  assert.equal(
    nextCronTime(newYork('30 1 * * *'), at('2026-11-01T06:00:00Z')).toISOString(),
    '2026-11-02T06:30:00.000Z',
  );
});

const unmetCases = [
  {
    name: 'nothing due before the first time',
    schedule: { expression: '0 * * * *', timeZone: 'UTC' },
    since: '2026-01-01T00:00:00Z',
    now: '2026-01-01T00:59:59Z',
    deadline: undefined,
    want: { due: undefined, missed: 0, tooMany: false, pastDeadline: 0, latestPastDeadline: undefined },
  },
  {
    name: 'an operator outage of three hours: three missed, the most recent is due',
    schedule: { expression: '0 * * * *', timeZone: 'UTC' },
    since: '2026-01-01T00:00:00Z',
    now: '2026-01-01T03:20:00Z',
    deadline: undefined,
    want: {
      due: '2026-01-01T03:00:00Z',
      missed: 3,
      tooMany: false,
      pastDeadline: 0,
      latestPastDeadline: undefined,
    },
  },
  {
    name: 'the starting deadline clips the count; older times are given up',
    schedule: { expression: '0 * * * *', timeZone: 'UTC' },
    since: '2026-01-01T00:00:00Z',
    now: '2026-01-01T03:20:00Z',
    deadline: 1800,
    want: {
      due: '2026-01-01T03:00:00Z',
      missed: 1,
      tooMany: false,
      pastDeadline: 2,
      latestPastDeadline: '2026-01-01T02:00:00Z',
    },
  },
  {
    name: 'a deadline shorter than the time since the last fire: nothing due, the time is given up',
    schedule: { expression: '0 * * * *', timeZone: 'UTC' },
    since: '2026-01-01T00:00:00Z',
    now: '2026-01-01T01:20:00Z',
    deadline: 600,
    want: {
      due: undefined,
      missed: 0,
      tooMany: false,
      pastDeadline: 1,
      latestPastDeadline: '2026-01-01T01:00:00Z',
    },
  },
  {
    name: 'more than a hundred missed: too many, and the most recent still runs',
    schedule: { expression: '* * * * *', timeZone: 'UTC' },
    since: '2026-01-01T00:00:00Z',
    now: '2026-01-02T00:00:30Z',
    deadline: undefined,
    want: {
      due: '2026-01-02T00:00:00Z',
      missed: MAX_MISSED_TIMES + 1,
      tooMany: true,
      pastDeadline: 0,
      latestPastDeadline: undefined,
    },
  },
  {
    name: 'after acting on the first copy of 01:30, the second copy is not due',
    schedule: newYork('30 1 * * *'),
    since: '2026-11-01T05:30:00Z',
    now: '2026-11-01T07:00:00Z',
    deadline: undefined,
    want: { due: undefined, missed: 0, tooMany: false, pastDeadline: 0, latestPastDeadline: undefined },
  },
  {
    name: 'a schedule created inside the repeated hour does not fire the second copy',
    schedule: newYork('30 1 * * *'),
    since: '2026-11-01T06:10:00Z',
    now: '2026-11-01T07:00:00Z',
    deadline: undefined,
    want: { due: undefined, missed: 0, tooMany: false, pastDeadline: 0, latestPastDeadline: undefined },
  },
  {
    name: 'too many missed across a fall-back night: the most recent is the canonical one',
    schedule: newYork('30 1 * * *'),
    since: '2026-06-01T00:00:00Z',
    now: '2026-11-01T07:00:00Z',
    deadline: undefined,
    want: {
      due: '2026-11-01T05:30:00Z',
      missed: MAX_MISSED_TIMES + 1,
      tooMany: true,
      pastDeadline: 0,
      latestPastDeadline: undefined,
    },
  },
];

for (const { name, schedule, since, now, deadline, want } of unmetCases) {
  test(`unmetCronTimes: ${name}`, () => {
    const got = unmetCronTimes({
      schedule,
      since: at(since),
      now: at(now),
      startingDeadlineSeconds: deadline,
    });
    assert.deepEqual(
      {
        ...got,
        due: got.due && isoList([got.due])[0],
        latestPastDeadline: got.latestPastDeadline && isoList([got.latestPastDeadline])[0],
      },
      want,
    );
  });
}

const problemCases = [
  { expression: '*/10 * * * *', timeZone: 'UTC', problem: false },
  { expression: '@hourly', timeZone: 'Europe/Berlin', problem: false },
  { expression: '0 0 ? * MON', timeZone: 'UTC', problem: false },
  { expression: '0 0 31 2 *', timeZone: 'UTC', problem: true },
  { expression: '0 * * * *', timeZone: 'Mars/Olympus', problem: true },
];

for (const { expression, timeZone, problem } of problemCases) {
  test(`cronScheduleProblem: ${expression} in ${timeZone} is ${problem ? 'refused' : 'fine'}`, () => {
    const found = cronScheduleProblem({ expression, timeZone });
    assert.equal(found !== undefined, problem, found);
    if (found) assert.match(found, new RegExp(timeZone));
  });
}
