import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalFacts, PodFacts } from '../../../devtools/local-pod-runner/podDecision.ts';
import { decidePodActions } from '../../../devtools/local-pod-runner/podDecision.ts';

const NODE = 'local-pod-runner';
const pod = (overrides: Partial<PodFacts>): PodFacts => ({
  uid: 'u1',
  schedulerName: NODE,
  nodeName: NODE,
  phase: 'Pending',
  deleting: false,
  graceSeconds: 30,
  ...overrides,
});
const nothingLocal: LocalFacts = { runtimeUid: undefined, finalized: false };
const runningLocally: LocalFacts = { runtimeUid: 'u1', finalized: false };

// [case, pod, local, expected action kinds]
const cases: [string, PodFacts | undefined, LocalFacts, string[]][] = [
  ['unbound pod for this runner', pod({ nodeName: undefined }), nothingLocal, ['bind']],
  [
    'unbound pod for another scheduler',
    pod({ nodeName: undefined, schedulerName: 'default-scheduler' }),
    nothingLocal,
    ['none'],
  ],
  ['unbound pod being deleted', pod({ nodeName: undefined, deleting: true }), nothingLocal, ['none']],
  ['pod bound to another node', pod({ nodeName: 'elsewhere' }), nothingLocal, ['none']],
  ['bound pod not yet running', pod({}), nothingLocal, ['start']],
  ['bound pod in phase Running after a runner restart', pod({ phase: 'Running' }), nothingLocal, ['start']],
  ['bound pod already running', pod({ phase: 'Running' }), runningLocally, ['none']],
  ['finished pod', pod({ phase: 'Succeeded' }), nothingLocal, ['none']],
  ['failed pod', pod({ phase: 'Failed' }), nothingLocal, ['none']],
  [
    'pod being deleted while running',
    pod({ phase: 'Running', deleting: true }),
    runningLocally,
    ['finalize'],
  ],
  [
    'pod deleted while the runner was down',
    pod({ phase: 'Running', deleting: true }),
    nothingLocal,
    ['finalize'],
  ],
  ['finished pod being deleted', pod({ phase: 'Succeeded', deleting: true }), nothingLocal, ['finalize']],
  [
    'deletion already completed here',
    pod({ deleting: true }),
    { runtimeUid: undefined, finalized: true },
    ['none'],
  ],
  ['pod gone, processes still running', undefined, runningLocally, ['stop-local']],
  ['pod gone, nothing local', undefined, nothingLocal, ['none']],
  ['pod replaced by one with a new uid', pod({ uid: 'u2' }), runningLocally, ['stop-local', 'start']],
];
for (const [name, facts, local, expected] of cases) {
  test(`decidePodActions: ${name} → ${expected.join(', ')}`, () => {
    assert.deepEqual(
      decidePodActions(facts, local, NODE).map((action) => action.kind),
      expected,
    );
  });
}

test('finalize carries the deletion grace period', () => {
  assert.deepEqual(decidePodActions(pod({ deleting: true, graceSeconds: 7 }), runningLocally, NODE), [
    { kind: 'finalize', graceSeconds: 7 },
  ]);
});
