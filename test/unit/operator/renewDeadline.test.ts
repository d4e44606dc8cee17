// The renew deadline's timer steps a leader down once the deadline has passed since its last
// renewal, also when the timer fires before the clock says the time is up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchRenewDeadline } from '../../../operator/runtime/renewDeadline.ts';
import { FakeClock } from './fakeClock.ts';

/**
 * Its first timer fires `earlyMs` before its time by `now()`, as Node's may against Date.now()
 * when armed late in a busy turn of the event loop (later ones are armed on time).
 */
class EarlyClock extends FakeClock {
  #earlyMs: number;

  constructor(earlyMs: number) {
    super();
    this.#earlyMs = earlyMs;
  }

  override setTimer(callback: () => void, delayMs: number): () => void {
    const early = this.#earlyMs;
    this.#earlyMs = 0;
    return super.setTimer(callback, delayMs - early);
  }
}

test('missed: the deadline passed since the last renewal, onMissed once', () => {
  const clock = new FakeClock();
  const renewedAt = clock.now();
  let missed = 0;
  watchRenewDeadline(
    clock,
    () => renewedAt,
    2_000,
    () => missed++,
  );
  clock.advance(1_999);
  assert.equal(missed, 0);
  clock.advance(1);
  assert.equal(missed, 1);
  clock.advance(10_000);
  assert.equal(missed, 1, 'once');
});

test('a timer that fires early waits for the rest, then steps down', () => {
  const clock = new EarlyClock(3);
  const renewedAt = clock.now();
  let missedAt: number | undefined;
  watchRenewDeadline(
    clock,
    () => renewedAt,
    2_000,
    () => (missedAt = clock.now()),
  );
  clock.advance(1_997);
  assert.equal(missedAt, undefined, 'not before the deadline');
  clock.advance(10_000);
  assert.ok(missedAt !== undefined, 'the early timer did not end the watch');
  assert.ok(missedAt >= renewedAt + 2_000, `stepped down at +${missedAt - renewedAt} ms`);
});

test('a renewal meanwhile moves the deadline; cancelled, nothing fires', () => {
  const clock = new FakeClock();
  let renewedAt = clock.now();
  let missed = 0;
  const cancel = watchRenewDeadline(
    clock,
    () => renewedAt,
    2_000,
    () => missed++,
  );
  clock.advance(1_500);
  renewedAt = clock.now(); // renewed, but the watch was not re-armed: it checks the latest renewal
  clock.advance(1_000);
  assert.equal(missed, 0, 'the deadline counts from the latest renewal');
  cancel();
  clock.advance(10_000);
  assert.equal(missed, 0);
});
