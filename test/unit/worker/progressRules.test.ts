import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  outcomeChange,
  type BatchOutcome,
  type OutcomeChange,
} from '../../../adapters/redis/progressRules.ts';

const table: [BatchOutcome | undefined, BatchOutcome, OutcomeChange][] = [
  [undefined, 'succeeded', { counted: true, increment: 'succeeded' }],
  [undefined, 'skipped', { counted: true, increment: 'skipped' }],
  [undefined, 'failed', { counted: true, increment: 'failed' }],
  ['succeeded', 'succeeded', { counted: false }],
  ['skipped', 'skipped', { counted: false }],
  ['failed', 'failed', { counted: false }],
  ['failed', 'succeeded', { counted: true, decrement: 'failed', increment: 'succeeded' }],
  ['failed', 'skipped', { counted: true, decrement: 'failed', increment: 'skipped' }],
  ['succeeded', 'failed', { counted: false }],
  ['succeeded', 'skipped', { counted: false }],
  ['skipped', 'succeeded', { counted: false }],
  ['skipped', 'failed', { counted: false }],
];

for (const [previous, next, expected] of table) {
  test(`outcomeChange(${previous ?? 'none'} → ${next})`, () => {
    assert.deepEqual(outcomeChange(previous, next), expected);
  });
}
