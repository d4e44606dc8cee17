// The API server's basic contract, as controllers use it: create a namespaced
// object, see it on a watch, change it with a merge patch, see the change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeClients,
  mergePatch,
  pollUntil,
} from '../../support/kube.ts';

let namespace: string;
before(async () => {
  namespace = await createTestNamespace('kube-watch');
});
after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

test('a watch sees a ConfigMap ADDED, then MODIFIED by a merge patch', async () => {
  const { config, core } = kubeClients();
  const events: { type: string; object: V1ConfigMap }[] = [];
  let watchError: unknown;
  // List, then watch from the list's version, as every informer does. The list comes
  // from the watch cache ("0"): a watch from etcd's newest revision can stall on a
  // quiet resource until the cache catches up (the stack's etcd 3.4 rarely reports progress).
  const listed = await core.listNamespacedConfigMap({ namespace, resourceVersion: '0' });
  const watch = await new Watch(config).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { fieldSelector: 'metadata.name=settings', resourceVersion: listed.metadata?.resourceVersion },
    (type, object: V1ConfigMap) => events.push({ type, object }),
    (error) => (watchError = error ?? watchError),
  );
  try {
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: 'settings', labels: { app: 'kube-test' } },
        data: { chain: 'op', lane: 'realtime' },
      },
    });
    assert.equal(created.metadata?.namespace, namespace);
    assert.ok(created.metadata?.uid);

    const patched = await core.patchNamespacedConfigMap(
      { namespace, name: 'settings', body: { data: { lane: 'backfill', batch: '1000' } } },
      mergePatch,
    );
    assert.deepEqual(patched.data, { chain: 'op', lane: 'backfill', batch: '1000' });
    assert.notEqual(patched.metadata?.resourceVersion, created.metadata?.resourceVersion);

    await pollUntil('ADDED and MODIFIED events', () => events.length >= 2, {
      timeoutMs: 10_000,
      describe: () => ({ events: events.map((event) => event.type), watchError: String(watchError) }),
    });
    assert.deepEqual(
      events.map((event) => event.type),
      ['ADDED', 'MODIFIED'],
    );
    assert.deepEqual(events[0]?.object.data, { chain: 'op', lane: 'realtime' });
    assert.equal(events[0]?.object.metadata?.uid, created.metadata?.uid);
    assert.deepEqual(events[1]?.object.data, { chain: 'op', lane: 'backfill', batch: '1000' });
    assert.equal(events[1]?.object.metadata?.resourceVersion, patched.metadata?.resourceVersion);
  } finally {
    watch.abort();
  }
});

test('a watch from a resourceVersion replays what happened after it, including DELETED', async () => {
  const { config, core } = kubeClients();
  const created = await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'replayed' }, data: { step: '1' } },
  });
  await core.patchNamespacedConfigMap(
    { namespace, name: 'replayed', body: { data: { step: '2' } } },
    mergePatch,
  );
  await core.deleteNamespacedConfigMap({ namespace, name: 'replayed' });

  const events: { type: string; step: string | undefined }[] = [];
  const watch = await new Watch(config).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { fieldSelector: 'metadata.name=replayed', resourceVersion: created.metadata?.resourceVersion },
    (type, object: V1ConfigMap) => events.push({ type, step: object.data?.step }),
    () => undefined,
  );
  try {
    await pollUntil('MODIFIED and DELETED replayed', () => events.length >= 2, {
      timeoutMs: 10_000,
      describe: () => events,
    });
    assert.deepEqual(events, [
      { type: 'MODIFIED', step: '2' },
      { type: 'DELETED', step: '2' },
    ]);
  } finally {
    watch.abort();
  }
});
