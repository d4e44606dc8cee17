import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RATE_LIMITER, RateLimiter, TokenBucket } from '../../../operator/runtime/rateLimiter.ts';
import { WorkQueue } from '../../../operator/runtime/workQueue.ts';
import { FakeClock } from './fakeClock.ts';

/** Takes every key get() hands out right now, without waiting. */
async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) keys.push((await queue.get())!);
  return keys;
}

/** True when the promise has settled (after the microtasks queued so far ran). */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

test('adds of one key fold into one queued entry, in first-added order', async () => {
  const cases: { adds: string[]; handedOut: string[] }[] = [
    { adds: [], handedOut: [] },
    { adds: ['a'], handedOut: ['a'] },
    { adds: ['a', 'a', 'a'], handedOut: ['a'] },
    { adds: ['a', 'b', 'a', 'c', 'b'], handedOut: ['a', 'b', 'c'] },
  ];
  for (const { adds, handedOut } of cases) {
    const queue = new WorkQueue({ clock: new FakeClock() });
    for (const key of adds) queue.add(key);
    assert.equal(queue.len(), handedOut.length, `len after ${adds}`);
    assert.deepEqual(await drain(queue), handedOut, `adds ${adds}`);
  }
});

test('a key being processed is not handed out again until done(), then exactly once more', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add('a');
  assert.equal(await queue.get(), 'a');
  queue.add('a');
  queue.add('a');
  assert.equal(queue.len(), 0, 'an add during processing does not queue the key beside itself');
  const next = queue.get();
  assert.equal(await isSettled(next), false, 'get() waits while the only key is in progress');
  queue.done('a');
  assert.equal(await next, 'a', 'done() queues the key added meanwhile');
  queue.done('a');
  assert.equal(queue.len(), 0, 'no third run: the two adds folded into one');
});

test('done() of a key that was not re-added leaves the queue empty', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add('a');
  await queue.get();
  queue.done('a');
  assert.equal(queue.len(), 0);
});

test('a waiting get() receives the next key added', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const first = queue.get();
  const second = queue.get();
  queue.add('x');
  queue.add('y');
  assert.deepEqual(await Promise.all([first, second]), ['x', 'y']);
});

test('per-key backoff doubles from 5 ms and is capped at 1,000 s', () => {
  const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITER, burst: 1_000 }, () => 0);
  const delays = Array.from({ length: 21 }, () => limiter.when('a'));
  assert.deepEqual(delays.slice(0, 6), [5, 10, 20, 40, 80, 160]);
  assert.equal(delays[17], 5 * 2 ** 17); // 655,360 ms, still below the cap
  assert.equal(delays[18], 1_000_000); // 5 * 2^18 = 1,310,720 ms, capped
  assert.equal(delays[20], 1_000_000);
  assert.equal(limiter.numRequeues('a'), 21);
  assert.equal(limiter.when('b'), 5, 'another key has its own backoff');
});

test('forget() starts a key backoff over', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  for (let i = 0; i < 4; i++) queue.addRateLimited('a');
  assert.equal(queue.numRequeues('a'), 4);
  queue.forget('a');
  assert.equal(queue.numRequeues('a'), 0);
  queue.addRateLimited('a');
  clock.advance(4);
  assert.equal(queue.len(), 0, 'not before 5 ms');
  clock.advance(1);
  assert.equal(queue.len(), 1, 'due at 5 ms: the first step again');
});

test('the shared token bucket lets a burst of 100 through, then 10 per second', () => {
  const cases: { reservations: number; expectedLastDelay: number }[] = [
    { reservations: 1, expectedLastDelay: 0 },
    { reservations: 100, expectedLastDelay: 0 },
    { reservations: 101, expectedLastDelay: 100 },
    { reservations: 105, expectedLastDelay: 500 },
  ];
  for (const { reservations, expectedLastDelay } of cases) {
    const bucket = new TokenBucket(10, 100, () => 0);
    let last = -1;
    for (let i = 0; i < reservations; i++) last = bucket.reserve();
    assert.equal(last, expectedLastDelay, `${reservations} reservations at once`);
  }
  let now = 0;
  const bucket = new TokenBucket(10, 100, () => now);
  for (let i = 0; i < 100; i++) bucket.reserve();
  now = 1_000;
  const afterOneSecond = Array.from({ length: 11 }, () => bucket.reserve());
  assert.deepEqual(afterOneSecond.slice(0, 10), Array(10).fill(0), 'one second refills 10 tokens');
  assert.equal(afterOneSecond[10], 100);
});

test('the bucket throttles rate-limited retries only: a burst of new keys is queued at once', () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  for (let i = 0; i < 250; i++) queue.add(`new-${i}`);
  assert.equal(queue.len(), 250, 'add() never waits');

  const retries = new WorkQueue({ clock });
  for (let i = 0; i < 102; i++) retries.addRateLimited(`failed-${i}`);
  clock.advance(5);
  assert.equal(retries.len(), 100, 'the burst of 100 retries after its 5 ms backoff');
  clock.advance(94);
  assert.equal(retries.len(), 100);
  clock.advance(1);
  assert.equal(retries.len(), 101, 'the 101st waits for a token: 100 ms');
  clock.advance(100);
  assert.equal(retries.len(), 102);
});

test('addAfter hands keys out in due order; an earlier due time for a key wins', async () => {
  const cases: { adds: [string, number][]; advanceMs: number; handedOut: string[] }[] = [
    {
      adds: [
        ['c', 30],
        ['a', 10],
        ['b', 20],
      ],
      advanceMs: 30,
      handedOut: ['a', 'b', 'c'],
    },
    {
      adds: [
        ['c', 30],
        ['a', 10],
        ['b', 20],
      ],
      advanceMs: 20,
      handedOut: ['a', 'b'],
    },
    {
      adds: [
        ['a', 100],
        ['a', 10],
      ],
      advanceMs: 10,
      handedOut: ['a'],
    },
    {
      adds: [
        ['a', 10],
        ['a', 100],
      ],
      advanceMs: 10,
      handedOut: ['a'],
    },
    {
      adds: [
        ['a', 0],
        ['b', -5],
      ],
      advanceMs: 0,
      handedOut: ['a', 'b'],
    },
    { adds: [['a', 50]], advanceMs: 49, handedOut: [] },
  ];
  for (const { adds, advanceMs, handedOut } of cases) {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    for (const [key, delay] of adds) queue.addAfter(key, delay);
    clock.advance(advanceMs);
    assert.deepEqual(await drain(queue), handedOut, JSON.stringify(adds));
  }
});

test('a delayed key that is added meanwhile is queued once', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.addAfter('a', 10);
  queue.add('a');
  clock.advance(10);
  assert.deepEqual(await drain(queue), ['a']);
});

test('shutDown: waiting gets return undefined, adds are ignored, it resolves after the last done()', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.add('a');
  queue.add('b');
  queue.addAfter('c', 10);
  assert.equal(await queue.get(), 'a');
  const stopped = queue.shutDown();
  assert.equal(await queue.get(), undefined, 'queued keys are dropped');
  queue.add('d');
  queue.addRateLimited('e');
  clock.advance(1_000);
  assert.equal(queue.len(), 0);
  assert.equal(clock.pendingTimers(), 0, 'no timer left behind');
  assert.equal(await isSettled(stopped), false, 'a is still in progress');
  queue.add('a');
  queue.done('a');
  assert.equal(await isSettled(stopped), true);
  assert.equal(queue.len(), 0, 'a key re-added during shutdown is not queued again');
});

test('shutDown with nothing in progress resolves at once and wakes every waiting get()', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const waiting = [queue.get(), queue.get()];
  await queue.shutDown();
  assert.deepEqual(await Promise.all(waiting), [undefined, undefined]);
});

test('hooks report depth, adds, retries and time in queue', async () => {
  const clock = new FakeClock();
  const seen = { depth: [] as number[], added: 0, retried: 0, waited: [] as number[] };
  const queue = new WorkQueue({
    clock,
    hooks: {
      depth: (depth) => seen.depth.push(depth),
      added: () => seen.added++,
      retried: () => seen.retried++,
      waited: (ms) => seen.waited.push(ms),
    },
  });
  queue.add('a');
  queue.add('a');
  queue.add('b');
  clock.advance(7);
  await queue.get();
  queue.addRateLimited('c');
  clock.advance(5);
  assert.equal(seen.added, 3, 'a, b and the retried c; the repeated a is no add');
  assert.equal(seen.retried, 1);
  assert.deepEqual(seen.waited, [7]);
  assert.equal(seen.depth.at(-1), 2, 'b and c wait');
});
