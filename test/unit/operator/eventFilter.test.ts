import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { annotationChanged, primaryUpdateTrigger } from '../../../operator/runtime/eventFilter.ts';

interface Run extends KubernetesObject {
  spec?: { blocks?: string };
  status?: { phase?: string };
}

function run(metadata: V1ObjectMeta, spec = { blocks: '0-99' }, status = {}): Run {
  return { metadata: { name: 'r', namespace: 'ns', uid: 'u', ...metadata }, spec, status };
}

const PAUSE = 'modelrunner.io/paused';

test('which updates of a primary object wake its controller', () => {
  const base = run({ generation: 1, resourceVersion: '10' });
  const cases: { name: string; oldObject: Run; object: Run; expected: string | undefined }[] = [
    {
      name: 'spec changed: generation moved',
      oldObject: base,
      object: run({ generation: 2, resourceVersion: '11' }, { blocks: '0-199' }),
      expected: 'generation',
    },
    {
      name: 'our own status write: generation unchanged',
      oldObject: base,
      object: run({ generation: 1, resourceVersion: '11' }, { blocks: '0-99' }, { phase: 'Running' }),
      expected: undefined,
    },
    {
      name: 'our own finalizer write: generation unchanged',
      oldObject: base,
      object: run({ generation: 1, resourceVersion: '11', finalizers: ['modelrunner.io/cleanup'] }),
      expected: undefined,
    },
    {
      name: 'a label or an unrelated annotation changed',
      oldObject: base,
      object: run({
        generation: 1,
        resourceVersion: '11',
        labels: { team: 'data' },
        annotations: { note: 'x' },
      }),
      expected: undefined,
    },
    {
      name: 'deletion started',
      oldObject: run({ generation: 1, resourceVersion: '10', finalizers: ['f'] }),
      object: run({ generation: 1, resourceVersion: '11', finalizers: ['f'], deletionTimestamp: new Date() }),
      expected: 'deletion',
    },
    {
      name: 'already being deleted: a finalizer removed',
      oldObject: run({
        generation: 1,
        resourceVersion: '11',
        finalizers: ['f', 'g'],
        deletionTimestamp: new Date(0),
      }),
      object: run({
        generation: 1,
        resourceVersion: '12',
        finalizers: ['g'],
        deletionTimestamp: new Date(0),
      }),
      expected: undefined,
    },
    {
      name: 'the named exception: pause annotation set',
      oldObject: base,
      object: run({ generation: 1, resourceVersion: '11', annotations: { [PAUSE]: 'true' } }),
      expected: 'pauseAnnotation',
    },
    {
      name: 'a kind without generation (ConfigMap): nothing wakes it but exceptions',
      oldObject: { metadata: { name: 'c', resourceVersion: '1' } },
      object: { metadata: { name: 'c', resourceVersion: '2' } },
      expected: undefined,
    },
  ];
  for (const { name, oldObject, object, expected } of cases)
    assert.equal(
      primaryUpdateTrigger(object, oldObject, { pauseAnnotation: annotationChanged<Run>(PAUSE) }),
      expected,
      name,
    );
});

test('without exceptions, an annotation change does not wake the controller', () => {
  const oldObject = run({ generation: 3 });
  const object = run({ generation: 3, annotations: { [PAUSE]: 'true' } });
  assert.equal(primaryUpdateTrigger(object, oldObject), undefined);
});
