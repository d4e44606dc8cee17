import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  afterFailure,
  assertRetryDelays,
  parseRetryDelays,
  retryDelayFor,
  type AfterFailure,
} from '../../../contract/retryPolicy.ts';

const tiers = [1_000, 5_000, 30_000];

const schedule: [number, number, boolean, AfterFailure][] = [
  // attempt, maxRetries, retryable → next step
  [1, 3, true, { kind: 'retry', delayMs: 1_000, nextAttempt: 2 }],
  [2, 3, true, { kind: 'retry', delayMs: 5_000, nextAttempt: 3 }],
  [3, 3, true, { kind: 'retry', delayMs: 30_000, nextAttempt: 4 }],
  [4, 3, true, { kind: 'deadLetter', reason: 'retriesExhausted' }],
  [1, 0, true, { kind: 'deadLetter', reason: 'retriesExhausted' }],
  [5, 10, true, { kind: 'retry', delayMs: 30_000, nextAttempt: 6 }],
  [1, 3, false, { kind: 'deadLetter', reason: 'notRetryable' }],
];

for (const [attempt, maxRetries, retryable, expected] of schedule) {
  test(`afterFailure(attempt ${attempt}, maxRetries ${maxRetries}, retryable ${retryable})`, () => {
    assert.deepEqual(afterFailure(attempt, maxRetries, retryable, tiers), expected);
  });
}

test('the last tier repeats; attempt 0 or less uses the first', () => {
  assert.equal(retryDelayFor(0, tiers), 1_000);
  assert.equal(retryDelayFor(3, tiers), 30_000);
  assert.equal(retryDelayFor(99, tiers), 30_000);
});

const tierLists: [string, string, readonly number[] | RegExp][] = [
  ['one tier', '5000', [5_000]],
  ['spaces', ' 100, 200 ,300', [100, 200, 300]],
  ['empty', '', /invalid retry delay/],
  ['zero', '0,100', /invalid retry delay 0/],
  ['not increasing', '100,100', /strictly increasing/],
  ['decreasing', '200,100', /strictly increasing/],
  ['negative', '-5', /invalid retry delay/],
  ['a word', 'soon', /invalid retry delay/],
];

for (const [name, text, expected] of tierLists) {
  test(`parseRetryDelays: ${name}`, () => {
    if (expected instanceof RegExp) assert.throws(() => parseRetryDelays(text), expected);
    else assert.deepEqual(parseRetryDelays(text), expected);
  });
}

test('assertRetryDelays refuses an empty list', () => {
  assert.throws(() => assertRetryDelays([]), /must not be empty/);
});
