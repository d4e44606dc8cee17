import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outcomeChange } from '../../../adapters/redis/progressRules.ts';
import { describeCase, everyOutcomePair, OUTCOME_CASES } from '../../support/progressRuleCases.ts';

for (const outcomeCase of OUTCOME_CASES) {
  test(`outcomeChange(${describeCase(outcomeCase)})`, () => {
    assert.deepEqual(outcomeChange(outcomeCase.previous, outcomeCase.next), outcomeCase.change);
  });
}

test('the cases cover every (previous, next) pair exactly once', () => {
  const covered = OUTCOME_CASES.map(describeCase).sort();
  const expected = everyOutcomePair()
    .map(([previous, next]) => describeCase({ previous, next }))
    .sort();
  assert.deepEqual(covered, expected);
});
