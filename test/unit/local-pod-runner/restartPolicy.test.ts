import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RestartPolicy } from '../../../devtools/local-pod-runner/restartPolicy.ts';
import {
  restartDelayMs,
  restartPolicyOf,
  shouldRestart,
} from '../../../devtools/local-pod-runner/restartPolicy.ts';

const restartCases: [RestartPolicy, number, boolean][] = [
  ['Always', 0, true],
  ['Always', 1, true],
  ['OnFailure', 0, false],
  ['OnFailure', 137, true],
  ['Never', 0, false],
  ['Never', 3, false],
];
for (const [policy, exitCode, expected] of restartCases) {
  test(`shouldRestart(${policy}, exit ${exitCode}) → ${expected}`, () => {
    assert.equal(shouldRestart(policy, exitCode), expected);
  });
}

test('restartPolicyOf defaults to Always, as the API server does', () => {
  assert.deepEqual([undefined, 'Always', 'OnFailure', 'Never'].map(restartPolicyOf), [
    'Always',
    'Always',
    'OnFailure',
    'Never',
  ]);
});

const delayCases: [number, number][] = [
  [1, 1_000],
  [2, 2_000],
  [3, 4_000],
  [5, 16_000],
  [6, 30_000],
  [60, 30_000],
  [10_000, 30_000],
];
for (const [restarts, delay] of delayCases) {
  test(`restartDelayMs(${restarts}) → ${delay}`, () => assert.equal(restartDelayMs(restarts), delay));
}
