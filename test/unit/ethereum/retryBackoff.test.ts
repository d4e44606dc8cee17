import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryAfterMs } from '../../../adapters/ethereum/retryBackoff.ts';
import { RequestRateLimiter, type RateLimiterClock } from '../../../adapters/ethereum/requestRateLimiter.ts';

const policy = { baseDelayMs: 100, maxDelayMs: 1000, jitter: true };

test('Retry-After in seconds or as a date, capped by the policy', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const cases: { header: string | null; expected: number | undefined }[] = [
    { header: null, expected: undefined },
    { header: '', expected: undefined },
    { header: '0', expected: 0 },
    { header: '0.5', expected: 500 },
    { header: '30', expected: 1000 },
    { header: 'Thu, 01 Jan 2026 00:00:00 GMT', expected: 0 },
    { header: 'not a date', expected: undefined },
  ];
  for (const { header, expected } of cases)
    assert.equal(retryAfterMs(header, now, policy), expected, String(header));
});

function fakeClock(): RateLimiterClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

test('the token bucket lets a burst through, then paces calls at the rate', async () => {
  const clock = fakeClock();
  const limiter = new RequestRateLimiter(10, 2, clock); // 10/s, burst 2
  await limiter.acquire(1);
  await limiter.acquire(1);
  assert.deepEqual(clock.slept, []);
  await limiter.acquire(1);
  assert.deepEqual(clock.slept, [100]);
  await limiter.acquire(1);
  assert.deepEqual(clock.slept, [100, 100]);
});

test('a batch larger than the bucket waits for a full bucket and leaves a debt', async () => {
  const clock = fakeClock();
  const limiter = new RequestRateLimiter(10, 5, clock);
  await limiter.acquire(5); // empties the bucket
  await limiter.acquire(20); // waits for 5 tokens (500 ms), then owes 15
  assert.deepEqual(clock.slept, [500]);
  await limiter.acquire(1); // must pay back 15 + 1 tokens: 1600 ms
  assert.deepEqual(clock.slept, [500, 1600]);
});

test('a rate of 0 means no limit', async () => {
  const clock = fakeClock();
  const limiter = new RequestRateLimiter(0, undefined, clock);
  for (let i = 0; i < 100; i++) await limiter.acquire(10);
  assert.equal(limiter.isUnlimited, true);
  assert.deepEqual(clock.slept, []);
});
