import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decideLeaseAction,
  hasMissedRenewDeadline,
  observeLease,
  type LeaseAction,
  type LeaseRecord,
} from '../../../operator/runtime/leaseDecision.ts';

const ME = 'operator-a';
const OTHER = 'operator-b';
const T0 = 1_000_000;

test('what a candidate does with the Lease it read', () => {
  const cases: {
    name: string;
    lease: LeaseRecord | undefined;
    observedAtMs?: number;
    nowMs: number;
    expected: LeaseAction;
  }[] = [
    { name: 'no Lease yet', lease: undefined, nowMs: T0, expected: { action: 'create' } },
    {
      name: 'held by me: renew, however old',
      lease: { holderIdentity: ME, leaseDurationSeconds: 15 },
      observedAtMs: T0,
      nowMs: T0 + 60_000,
      expected: { action: 'renew' },
    },
    {
      name: 'released (empty holder): take it at once',
      lease: { holderIdentity: '', leaseDurationSeconds: 1 },
      observedAtMs: T0,
      nowMs: T0,
      expected: { action: 'acquire', why: 'free' },
    },
    {
      name: 'no holder field at all',
      lease: { leaseDurationSeconds: 15 },
      nowMs: T0,
      expected: { action: 'acquire', why: 'free' },
    },
    {
      name: 'held by another, unchanged for less than its duration: wait',
      lease: { holderIdentity: OTHER, leaseDurationSeconds: 15 },
      observedAtMs: T0,
      nowMs: T0 + 14_999,
      expected: { action: 'wait', holder: OTHER, expiresAtMs: T0 + 15_000 },
    },
    {
      name: 'held by another, unchanged for its full duration: expired',
      lease: { holderIdentity: OTHER, leaseDurationSeconds: 15 },
      observedAtMs: T0,
      nowMs: T0 + 15_000,
      expected: { action: 'acquire', why: 'expired' },
    },
    {
      name: 'first sight of another holder: wait a full duration from now (skew-proof)',
      lease: { holderIdentity: OTHER, leaseDurationSeconds: 15, renewTime: '2001-01-01T00:00:00.000000Z' },
      nowMs: T0,
      expected: { action: 'wait', holder: OTHER, expiresAtMs: T0 + 15_000 },
    },
    {
      name: 'no duration in the Lease: the default (10 s here) applies',
      lease: { holderIdentity: OTHER },
      observedAtMs: T0,
      nowMs: T0 + 10_000,
      expected: { action: 'acquire', why: 'expired' },
    },
  ];
  for (const { name, lease, observedAtMs, nowMs, expected } of cases) {
    const observation = observedAtMs === undefined ? undefined : { fingerprint: 'x', observedAtMs };
    assert.deepEqual(
      decideLeaseAction({ lease, observation, identity: ME, nowMs, defaultLeaseDurationMs: 10_000 }),
      expected,
      name,
    );
  }
});

test('the observation clock restarts only when the Lease changed', () => {
  const renewed = {
    holderIdentity: OTHER,
    leaseDurationSeconds: 15,
    renewTime: '2026-05-01T10:00:00.000000Z',
  };
  const first = observeLease(undefined, renewed, T0);
  assert.equal(first.observedAtMs, T0);
  assert.equal(observeLease(first, { ...renewed }, T0 + 5_000), first, 'same Lease read again');
  const again = observeLease(first, { ...renewed, renewTime: '2026-05-01T10:00:02.000000Z' }, T0 + 5_000);
  assert.equal(again.observedAtMs, T0 + 5_000, 'a renewal restarts the wait');
  const takenOver = observeLease(again, { ...renewed, holderIdentity: 'operator-c' }, T0 + 6_000);
  assert.equal(takenOver.observedAtMs, T0 + 6_000, 'a new holder restarts the wait');
  const asDate = observeLease(
    again,
    { ...renewed, renewTime: new Date('2026-05-01T10:00:02.000Z') },
    T0 + 7_000,
  );
  assert.equal(asDate.observedAtMs, T0 + 7_000);
});

test('a leader misses its renew deadline exactly when the deadline has passed since the last renewal', () => {
  const cases: { lastRenewedAtMs: number; nowMs: number; expected: boolean }[] = [
    { lastRenewedAtMs: T0, nowMs: T0, expected: false },
    { lastRenewedAtMs: T0, nowMs: T0 + 9_999, expected: false },
    { lastRenewedAtMs: T0, nowMs: T0 + 10_000, expected: true },
    { lastRenewedAtMs: T0, nowMs: T0 + 60_000, expected: true },
  ];
  for (const { lastRenewedAtMs, nowMs, expected } of cases)
    assert.equal(
      hasMissedRenewDeadline(lastRenewedAtMs, nowMs, 10_000),
      expected,
      `${nowMs - lastRenewedAtMs} ms`,
    );
});
