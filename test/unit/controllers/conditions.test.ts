import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition } from '../../../crds/generated/types.ts';
import {
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
} from '../../../controllers/planning/conditions.ts';

const T1 = new Date('2025-03-01T12:00:00.250Z');
const T2 = new Date('2025-03-01T12:05:00.000Z');

const existing: Condition[] = [
  {
    type: 'Planned',
    status: 'True',
    reason: 'Planned',
    message: '5 batches',
    observedGeneration: 1,
    lastTransitionTime: '2025-03-01T11:00:00Z',
  },
  {
    type: 'WaitingForInputs',
    status: 'True',
    reason: 'InputsIncomplete',
    message: 'batches 0-99 wait',
    observedGeneration: 1,
    lastTransitionTime: '2025-03-01T11:30:00Z',
  },
];

describe('setCondition', () => {
  const cases: {
    name: string;
    conditions: Condition[] | undefined;
    update: Parameters<typeof setCondition>[1];
    generation?: number;
    now?: Date;
    expected: Condition[];
  }[] = [
    {
      name: 'a first condition on no list: its time is now, at second precision',
      conditions: undefined,
      update: { type: 'Planned', status: 'False', reason: 'WaitingForDates', message: 'not yet' },
      expected: [
        {
          type: 'Planned',
          status: 'False',
          reason: 'WaitingForDates',
          message: 'not yet',
          observedGeneration: 3,
          lastTransitionTime: '2025-03-01T12:00:00Z',
        },
      ],
    },
    {
      name: 'same status, new reason and message: the time stays, the rest follows',
      conditions: existing,
      update: {
        type: 'WaitingForInputs',
        status: 'True',
        reason: 'InputsIncomplete',
        message: 'batches 100-199 wait',
      },
      expected: [existing[0]!, { ...existing[1]!, message: 'batches 100-199 wait', observedGeneration: 3 }],
    },
    {
      name: 'a status flip moves the time',
      conditions: existing,
      update: {
        type: 'WaitingForInputs',
        status: 'False',
        reason: 'InputsComplete',
        message: 'all complete',
      },
      now: T2,
      expected: [
        existing[0]!,
        {
          type: 'WaitingForInputs',
          status: 'False',
          reason: 'InputsComplete',
          message: 'all complete',
          observedGeneration: 3,
          lastTransitionTime: '2025-03-01T12:05:00Z',
        },
      ],
    },
    {
      name: 'True to Unknown is a flip too',
      conditions: existing,
      update: { type: 'Planned', status: 'Unknown', reason: 'ChainUnreachable', message: '?' },
      expected: [
        {
          ...existing[0]!,
          status: 'Unknown',
          reason: 'ChainUnreachable',
          message: '?',
          observedGeneration: 3,
          lastTransitionTime: '2025-03-01T12:00:00Z',
        },
        existing[1]!,
      ],
    },
    {
      name: 'a new type joins the others, sorted by type',
      conditions: existing,
      update: { type: 'Complete', status: 'True', reason: 'AllBatchesComplete', message: 'done' },
      expected: [
        {
          type: 'Complete',
          status: 'True',
          reason: 'AllBatchesComplete',
          message: 'done',
          observedGeneration: 3,
          lastTransitionTime: '2025-03-01T12:00:00Z',
        },
        ...existing,
      ],
    },
    {
      name: 'a message longer than the API allows is cut to 32,768 characters',
      conditions: [],
      update: { type: 'Failed', status: 'True', reason: 'BatchesFailed', message: 'x'.repeat(40_000) },
      expected: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BatchesFailed',
          message: 'x'.repeat(32_768),
          observedGeneration: 3,
          lastTransitionTime: '2025-03-01T12:00:00Z',
        },
      ],
    },
  ];
  for (const { name, conditions, update, generation, now, expected } of cases) {
    it(name, () => {
      const before = structuredClone(conditions);
      assert.deepEqual(setCondition(conditions, update, generation ?? 3, now ?? T1), expected);
      assert.deepEqual(conditions, before, 'the input list is not changed');
    });
  }
});

describe('finding and removing conditions', () => {
  it('findCondition, isConditionTrue and removeCondition', () => {
    assert.equal(findCondition(existing, 'Planned'), existing[0]);
    assert.equal(findCondition(existing, 'Complete'), undefined);
    assert.equal(findCondition(undefined, 'Planned'), undefined);
    assert.equal(isConditionTrue(existing, 'WaitingForInputs'), true);
    assert.equal(
      isConditionTrue(
        setCondition(existing, { type: 'Planned', status: 'False', reason: 'X', message: '' }, 1, T1),
        'Planned',
      ),
      false,
    );
    assert.equal(isConditionTrue(undefined, 'Planned'), false);
    assert.deepEqual(removeCondition(existing, 'Planned'), [existing[1]]);
    assert.deepEqual(removeCondition(existing, 'Complete'), existing);
    assert.deepEqual(removeCondition(undefined, 'Planned'), []);
  });
});
