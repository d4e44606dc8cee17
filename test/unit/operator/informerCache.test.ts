import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  applyWatchEvent,
  failuresAfterError,
  replaceAll,
  type CacheChange,
} from '../../../operator/runtime/informerCache.ts';
import { controllerOwnerKeys, objectKey, parseObjectKey } from '../../../operator/runtime/objectKeys.ts';

function object(name: string, uid: string, resourceVersion: string, namespace = 'ns'): KubernetesObject {
  return { metadata: { name, namespace, uid, resourceVersion } };
}

/** A change as "type key uid@rv" for compact expectations. */
function describe(change: CacheChange<KubernetesObject>): string {
  const { metadata } = change.object;
  return `${change.type} ${objectKey(change.object)} ${metadata?.uid}@${metadata?.resourceVersion}`;
}

function cacheOf(...objects: KubernetesObject[]): Map<string, KubernetesObject> {
  return new Map(objects.map((each) => [objectKey(each), each]));
}

test('a watch event becomes add, update, delete or nothing', () => {
  const cases: {
    name: string;
    cached: KubernetesObject[];
    type: 'ADDED' | 'MODIFIED' | 'DELETED';
    event: KubernetesObject;
    changes: string[];
    after: string[];
  }[] = [
    {
      name: 'new object',
      cached: [],
      type: 'ADDED',
      event: object('a', 'u1', '1'),
      changes: ['add ns/a u1@1'],
      after: ['ns/a'],
    },
    {
      name: 'newer version',
      cached: [object('a', 'u1', '1')],
      type: 'MODIFIED',
      event: object('a', 'u1', '2'),
      changes: ['update ns/a u1@2'],
      after: ['ns/a'],
    },
    {
      name: 'same version again (a re-watch replaying it)',
      cached: [object('a', 'u1', '2')],
      type: 'MODIFIED',
      event: object('a', 'u1', '2'),
      changes: [],
      after: ['ns/a'],
    },
    {
      name: 'same name, new uid: the old object went and a new one came',
      cached: [object('a', 'u1', '2')],
      type: 'ADDED',
      event: object('a', 'u2', '5'),
      changes: ['delete ns/a u1@2', 'add ns/a u2@5'],
      after: ['ns/a'],
    },
    {
      name: 'delete of a cached object',
      cached: [object('a', 'u1', '2'), object('b', 'u3', '3')],
      type: 'DELETED',
      event: object('a', 'u1', '4'),
      changes: ['delete ns/a u1@4'],
      after: ['ns/b'],
    },
    {
      name: 'delete of an unknown object',
      cached: [],
      type: 'DELETED',
      event: object('a', 'u1', '4'),
      changes: [],
      after: [],
    },
  ];
  for (const { name, cached, type, event, changes, after } of cases) {
    const cache = cacheOf(...cached);
    assert.deepEqual(applyWatchEvent(cache, type, event).map(describe), changes, name);
    assert.deepEqual([...cache.keys()].sort(), after, `${name}: keys after`);
  }
});

test('an update and a delete carry the cached object as oldObject', () => {
  const cache = cacheOf(object('a', 'u1', '1'));
  const [update] = applyWatchEvent(cache, 'MODIFIED', object('a', 'u1', '2'));
  assert.equal(update?.type === 'update' && update.oldObject.metadata?.resourceVersion, '1');
  const [deletion] = applyWatchEvent(cache, 'DELETED', object('a', 'u1', '3'));
  assert.equal(deletion?.type === 'delete' && deletion.oldObject.metadata?.resourceVersion, '2');
});

test('a full list replaces the cache: adds, updates, uid changes and deletes of what is gone', () => {
  const cache = cacheOf(
    object('kept', 'u1', '1'),
    object('changed', 'u2', '1'),
    object('gone', 'u3', '1'),
    object('recreated', 'u4', '1'),
  );
  const changes = replaceAll(cache, [
    object('kept', 'u1', '1'),
    object('changed', 'u2', '7'),
    object('recreated', 'u5', '8'),
    object('new', 'u6', '9', 'other'),
  ]);
  assert.deepEqual(changes.map(describe), [
    'update ns/changed u2@7',
    'delete ns/recreated u4@1',
    'add ns/recreated u5@8',
    'add other/new u6@9',
    'delete ns/gone u3@1',
  ]);
  assert.deepEqual([...cache.keys()].sort(), ['ns/changed', 'ns/kept', 'ns/recreated', 'other/new']);
  assert.deepEqual(
    replaceAll(cache, []).map((change) => change.type),
    ['delete', 'delete', 'delete', 'delete'],
  );
  assert.equal(cache.size, 0);
});

test('the restart backoff starts over only after a healthy stretch', () => {
  const cases: { previous: number; healthySince: number | undefined; now: number; expected: number }[] = [
    { previous: 0, healthySince: undefined, now: 0, expected: 1 },
    { previous: 3, healthySince: undefined, now: 0, expected: 4 }, // never got healthy: keep growing
    { previous: 3, healthySince: 1_000, now: 1_500, expected: 4 }, // a watch that opened and broke at once
    { previous: 3, healthySince: 1_000, now: 120_999, expected: 4 },
    { previous: 3, healthySince: 1_000, now: 121_000, expected: 1 }, // healthy for 2 min: start over
  ];
  for (const { previous, healthySince, now, expected } of cases)
    assert.equal(
      failuresAfterError(previous, healthySince, now, 120_000),
      expected,
      JSON.stringify({ previous, healthySince, now }),
    );
});

test('object keys: namespace/name, name alone when cluster-scoped, and back', () => {
  assert.equal(objectKey(object('a', 'u', '1')), 'ns/a');
  assert.equal(objectKey({ metadata: { name: 'node-1' } }), 'node-1');
  assert.deepEqual(parseObjectKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.deepEqual(parseObjectKey('node-1'), { namespace: '', name: 'node-1' });
  for (const bad of ['', '/a', 'ns/', 'a/b/c'])
    assert.throws(() => parseObjectKey(bad), /invalid object key/);
  assert.throws(() => objectKey({ kind: 'Job', metadata: {} }), /without metadata.name/);
});

test('an owned object maps to its controller owner key when the owner is of the expected kind', () => {
  const toRun = controllerOwnerKeys({ apiVersion: 'modelrunner.io/v1alpha1', kind: 'ModelRun' });
  const owned = (references: object[]): KubernetesObject =>
    ({ metadata: { name: 'job-1', namespace: 'ns', ownerReferences: references } }) as KubernetesObject;
  const run = { apiVersion: 'modelrunner.io/v1alpha1', kind: 'ModelRun', name: 'run-1', uid: 'u' };
  assert.deepEqual(toRun(owned([{ ...run, controller: true }])), ['ns/run-1']);
  assert.deepEqual(toRun(owned([run])), [], 'an owner that is not the controller');
  assert.deepEqual(toRun(owned([{ ...run, kind: 'ModelSchedule', controller: true }])), [], 'another kind');
  assert.deepEqual(toRun(owned([])), []);
});

test('the cache keeps no managedFields, from a watch event or a list', () => {
  const withFields = (name: string): KubernetesObject => ({
    metadata: {
      ...object(name, `u-${name}`, '1').metadata,
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1' }],
      labels: { team: 'data' },
    },
  });
  const cache = new Map<string, KubernetesObject>();
  applyWatchEvent(cache, 'ADDED', withFields('a'));
  replaceAll(cache, [withFields('a'), withFields('b')]);
  for (const cached of cache.values()) {
    assert.equal(cached.metadata?.managedFields, undefined, objectKey(cached));
    assert.deepEqual(cached.metadata?.labels, { team: 'data' });
  }
  assert.equal(cache.size, 2);
});
