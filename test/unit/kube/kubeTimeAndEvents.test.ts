import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventSeriesKey, nextEventWrite } from '../../../adapters/kube/eventSeries.ts';
import {
  kubeTime,
  microTime,
  normalizeDates,
  timeMs,
  wholeSecondTime,
} from '../../../adapters/kube/kubeTime.ts';

test('time fields in the API server formats', () => {
  const cases: { date: Date; time: string; micro: string }[] = [
    {
      date: new Date('2026-05-01T10:00:00Z'),
      time: '2026-05-01T10:00:00Z',
      micro: '2026-05-01T10:00:00.000000Z',
    },
    {
      date: new Date('2026-05-01T10:00:00.123Z'),
      time: '2026-05-01T10:00:00.123Z',
      micro: '2026-05-01T10:00:00.123000Z',
    },
  ];
  for (const { date, time, micro } of cases) {
    assert.equal(kubeTime(date), time);
    assert.equal(microTime(date), micro);
    assert.equal(timeMs(micro), date.getTime());
    assert.equal(timeMs(date), date.getTime());
  }
  assert.ok(Number.isNaN(timeMs(undefined)));
});

test('wholeSecondTime drops the fraction, as the API server stores metav1.Time', () => {
  assert.equal(wholeSecondTime(new Date('2024-10-01T00:00:00.999Z')), '2024-10-01T00:00:00Z');
  assert.equal(wholeSecondTime('2024-10-01T00:00:00.123Z'), '2024-10-01T00:00:00Z');
  assert.equal(wholeSecondTime('2024-10-01T00:00:00Z'), '2024-10-01T00:00:00Z');
});

test('normalizeDates turns every Date of a typed read into the string a watch would carry', () => {
  const created = new Date('2026-05-01T10:00:00Z');
  const typed = {
    metadata: { name: 'a', creationTimestamp: created, managedFields: [{ time: created, manager: 'm' }] },
    status: {
      conditions: [{ type: 'Ready', lastTransitionTime: created }],
      renewTime: '2026-05-01T10:00:00.000000Z',
    },
    spec: { count: 3, flag: false, nothing: null, gone: undefined },
  };
  const normalized = normalizeDates(typed);
  assert.deepEqual(normalized, {
    metadata: {
      name: 'a',
      creationTimestamp: '2026-05-01T10:00:00Z',
      managedFields: [{ time: '2026-05-01T10:00:00Z', manager: 'm' }],
    },
    status: {
      conditions: [{ type: 'Ready', lastTransitionTime: '2026-05-01T10:00:00Z' }],
      renewTime: '2026-05-01T10:00:00.000000Z',
    },
    spec: { count: 3, flag: false, nothing: null },
  });
  assert.ok(typed.metadata.creationTimestamp instanceof Date, 'the input is left alone');
});

test('a repeated Event bumps the series within the window and starts over after it', () => {
  const written = { namespace: 'ns', name: 'run.1', count: 1, lastObservedMs: 1_000 };
  const cases: {
    previous: typeof written | undefined;
    nowMs: number;
    expected: ReturnType<typeof nextEventWrite>;
  }[] = [
    { previous: undefined, nowMs: 1_000, expected: { kind: 'create' } },
    { previous: written, nowMs: 1_000, expected: { kind: 'bumpSeries', count: 2 } },
    { previous: { ...written, count: 2 }, nowMs: 301_000, expected: { kind: 'bumpSeries', count: 3 } },
    { previous: written, nowMs: 301_001, expected: { kind: 'create' } },
    { previous: written, nowMs: 999, expected: { kind: 'create' } }, // the clock went back
  ];
  for (const { previous, nowMs, expected } of cases)
    assert.deepEqual(nextEventWrite(previous, nowMs, 300_000), expected, JSON.stringify({ previous, nowMs }));
});

test('Events about another object, reason, note, action or type are separate series', () => {
  const base = {
    subject: 'uid-1',
    type: 'Normal' as const,
    reason: 'Dispatched',
    action: 'Dispatch',
    note: '3 batches',
  };
  const key = eventSeriesKey(base);
  assert.equal(eventSeriesKey({ ...base }), key);
  for (const change of [
    { subject: 'uid-2' },
    { type: 'Warning' as const },
    { reason: 'Waiting' },
    { action: 'Plan' },
    { note: '4 batches' },
  ])
    assert.notEqual(eventSeriesKey({ ...base, ...change }), key, JSON.stringify(change));
});
