import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelayMs } from '../../../contract/backoff.ts';

test('with jitter, backoff doubles per retry, is capped, and draws within [cap/2, cap]', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000, jitter: true };
  const cases: { retry: number; random: number; expected: number }[] = [
    { retry: 1, random: 0, expected: 50 },
    { retry: 1, random: 0.999999, expected: 100 },
    { retry: 2, random: 0, expected: 100 },
    { retry: 3, random: 0.5, expected: 300 },
    { retry: 4, random: 0, expected: 400 },
    { retry: 5, random: 0, expected: 500 }, // cap 1000 reached
    { retry: 50, random: 0.999999, expected: 1000 },
    { retry: 5000, random: 0, expected: 500 }, // the exponent is bounded: no Infinity
  ];
  for (const { retry, random, expected } of cases) {
    assert.equal(
      backoffDelayMs(policy, retry, () => random),
      expected,
      `retry ${retry} random ${random}`,
    );
  }
});

test('without jitter, backoff is the cap itself: 1 s, 2 s, 4 s, … up to the maximum', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 30_000, jitter: false };
  const delays = [1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelayMs(policy, retry, () => 0.7));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
});

test('backoff refuses a retry number below 1 or not an integer', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000, jitter: true };
  assert.throws(() => backoffDelayMs(policy, 0), RangeError);
  assert.throws(() => backoffDelayMs(policy, 1.5), RangeError);
});
