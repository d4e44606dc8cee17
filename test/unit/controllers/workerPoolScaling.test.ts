import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AutoscaleDecision,
  type AutoscaleInput,
  type AutoscalingSettings,
  decideAutoscale,
  describeDepth,
  replicasForDepth,
  scaleReason,
} from '../../../controllers/planning/workerPoolScaling.ts';

const settings: AutoscalingSettings = {
  targetMessagesPerReplica: 5,
  activationThreshold: 0,
  cooldownMs: 60_000,
};
const bounds = { min: 0, max: 10 };

test('replicasForDepth: ceil((ready + unacked) / target), zero at or below the activation threshold when idle', () => {
  const cases: [string, { ready: number; unacked: number }, Partial<AutoscalingSettings>, number][] = [
    ['empty', { ready: 0, unacked: 0 }, {}, 0],
    ['one message wakes a pool with threshold 0', { ready: 1, unacked: 0 }, {}, 1],
    ['exactly the target', { ready: 5, unacked: 0 }, {}, 1],
    ['one over the target', { ready: 6, unacked: 0 }, {}, 2],
    ['unacked counts as work', { ready: 0, unacked: 3 }, {}, 1],
    ['ready and unacked add up', { ready: 20, unacked: 3 }, {}, 5],
    ['at the threshold, nothing worked: asleep', { ready: 20, unacked: 0 }, { activationThreshold: 20 }, 0],
    ['above the threshold wakes', { ready: 21, unacked: 0 }, { activationThreshold: 20 }, 5],
    [
      'below the threshold but a batch in flight: stays up',
      { ready: 2, unacked: 1 },
      { activationThreshold: 20 },
      1,
    ],
    ['target 1', { ready: 7, unacked: 2 }, { targetMessagesPerReplica: 1 }, 9],
  ];
  for (const [name, depth, overrides, expected] of cases) {
    assert.equal(replicasForDepth(depth, { ...settings, ...overrides }), expected, name);
  }
});

test('describeDepth says what the decision saw', () => {
  assert.equal(
    describeDepth({ ready: 20, unacked: 3 }, settings),
    '23 messages (20 ready, 3 unacknowledged) at 5 per worker',
  );
  assert.equal(
    describeDepth({ ready: 4, unacked: 0 }, { ...settings, activationThreshold: 10 }),
    '4 messages (4 ready, 0 unacknowledged) at 5 per worker, not above the activation threshold 10',
  );
});

function decide(overrides: Partial<AutoscaleInput>): AutoscaleDecision {
  return decideAutoscale({
    bounds,
    settings,
    depth: { ready: 0, unacked: 0 },
    current: 0,
    window: [],
    nowMs: 1_000_000,
    ...overrides,
  });
}

test('decideAutoscale: scale-up is immediate and bounded', () => {
  const cases: [string, Partial<AutoscaleInput>, Partial<AutoscaleDecision>][] = [
    [
      'wakes from zero',
      { depth: { ready: 12, unacked: 0 } },
      { replicas: 3, recommended: 3, limitedBy: undefined },
    ],
    ['grows at once', { depth: { ready: 40, unacked: 5 }, current: 2 }, { replicas: 9, recommended: 9 }],
    [
      'capped at max',
      { depth: { ready: 500, unacked: 0 }, current: 2 },
      { replicas: 10, limitedBy: 'maxReplicas' },
    ],
    [
      'raised to min',
      { depth: { ready: 0, unacked: 0 }, current: 2, bounds: { min: 2, max: 10 } },
      { replicas: 2, recommended: 2, limitedBy: 'minReplicas' },
    ],
    ['steady', { depth: { ready: 8, unacked: 2 }, current: 2 }, { replicas: 2, heldUntilMs: undefined }],
    [
      'a count above a lowered max comes down to it at once, the rest after the cooldown',
      { depth: { ready: 0, unacked: 0 }, current: 8, bounds: { min: 0, max: 4 }, window: undefined },
      { replicas: 4, heldUntilMs: 1_060_000 },
    ],
  ];
  for (const [name, input, expected] of cases) {
    const decision = decide(input);
    for (const [field, value] of Object.entries(expected)) {
      assert.deepEqual(decision[field as keyof AutoscaleDecision], value, `${name}: ${field}`);
    }
  }
});

test('decideAutoscale: scale-down waits until the depth has asked for fewer for the whole cooldown', () => {
  // Polls every 5 s; the backlog is gone at t=10 s; cooldown 60 s.
  let window: AutoscaleDecision['window'] | undefined = [];
  let current = 0;
  const seen: [number, number, number | undefined][] = [];
  for (let t = 0; t <= 80_000; t += 5_000) {
    const depth = t < 10_000 ? { ready: 20, unacked: 0 } : { ready: 0, unacked: 0 };
    const decision = decideAutoscale({ bounds, settings, depth, current, window, nowMs: t });
    window = decision.window;
    current = decision.replicas;
    seen.push([t, decision.replicas, decision.heldUntilMs]);
  }
  assert.deepEqual(
    seen.map(([t, replicas]) => [t, replicas]),
    [
      [0, 4],
      [5_000, 4],
      ...[10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 55_000, 60_000].map((t) => [
        t,
        4,
      ]),
      [65_000, 0],
      [70_000, 0],
      [75_000, 0],
      [80_000, 0],
    ],
  );
  // While held, it says from when it may scale down: the last poll that asked for 4, plus the cooldown.
  assert.equal(seen.find(([t]) => t === 30_000)![2], 65_000);
});

test('decideAutoscale: a dip between polls keeps the highest recommendation of the window', () => {
  let decision = decide({ depth: { ready: 30, unacked: 0 }, current: 0, nowMs: 0 });
  assert.equal(decision.replicas, 6);
  decision = decide({ depth: { ready: 10, unacked: 0 }, current: 6, window: decision.window, nowMs: 20_000 });
  assert.equal(decision.replicas, 6);
  assert.equal(decision.recommended, 2);
  decision = decide({ depth: { ready: 15, unacked: 0 }, current: 6, window: decision.window, nowMs: 61_000 });
  // The 6 of t=0 has left the window; 2 (t=20 s) and 3 (now) remain: the highest is 3.
  assert.equal(decision.replicas, 3);
  assert.deepEqual(
    decision.window.map((entry) => entry.replicas),
    [3],
  );
});

test('decideAutoscale: with no window yet (a new leader) the current count stands for one cooldown', () => {
  const first = decide({ depth: { ready: 0, unacked: 0 }, current: 5, window: undefined, nowMs: 0 });
  assert.equal(first.replicas, 5);
  assert.equal(first.heldUntilMs, 60_000);
  const later = decide({ depth: { ready: 0, unacked: 0 }, current: 5, window: first.window, nowMs: 60_000 });
  assert.equal(later.replicas, 0);
});

test('decideAutoscale: cooldown 0 scales down at once', () => {
  const decision = decide({
    depth: { ready: 1, unacked: 0 },
    current: 6,
    window: [{ atMs: 999_999, replicas: 6 }],
    settings: { ...settings, cooldownMs: 0 },
  });
  assert.equal(decision.replicas, 1);
});

test('decideAutoscale: without a depth nothing changes and the window is kept', () => {
  const window = [{ atMs: 1, replicas: 4 }];
  const decision = decide({ depth: undefined, current: 3, window });
  assert.equal(decision.replicas, 3);
  assert.equal(decision.recommended, undefined);
  assert.deepEqual(decision.window, window);
  assert.equal(decide({ depth: undefined, current: 30 }).replicas, 10, 'still within the bounds');
});

test('scaleReason names the change', () => {
  const cases: [number, number, boolean, ReturnType<typeof scaleReason>][] = [
    [2, 2, true, undefined],
    [0, 3, true, 'Activated'],
    [3, 0, true, 'ScaledToZero'],
    [2, 5, true, 'ScaledUp'],
    [5, 2, true, 'ScaledDown'],
    [1, 3, false, 'Replicas'],
    [3, 3, false, undefined],
  ];
  for (const [from, to, autoscaled, expected] of cases) {
    assert.equal(scaleReason(from, to, autoscaled), expected, `${from} → ${to}`);
  }
});
