// The typed custom resource client on ModelRuns: get/list/create/delete, status by
// server-side apply under the controller's field manager, and finalizers that refuse to
// overwrite a concurrent change (409) instead of losing it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CustomResourceClient, customResourceType, isConflict } from '../../../adapters/kube/index.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { fieldManagerFor, MODEL_RUN } from '../../../crds/kinds.ts';
import { installCrds } from '../../support/crds.ts';
import { createTestNamespace, deleteTestNamespace, kubeClients, pollUntil } from '../../support/kube.ts';

let namespace: string;
let runs: CustomResourceClient<ModelRun>;
const FINALIZER = 'modelrunner.io/test-cleanup';

before(async () => {
  await installCrds();
  namespace = await createTestNamespace('crclient');
  runs = new CustomResourceClient<ModelRun>(kubeClients().customObjects, customResourceType(MODEL_RUN));
});
after(async () => {
  // Finalizers would keep the namespace from going.
  for (const run of (await runs.list({ namespace })).items)
    await runs.removeFinalizer(run, FINALIZER).catch(() => undefined);
  if (namespace) await deleteTestNamespace(namespace);
});

function modelRun(name: string, labels: Record<string, string> = {}): ModelRun {
  return {
    metadata: { name, labels },
    spec: { model: 'ingest', chain: 'local', blocks: { start: 0, end: 199 } },
  } as ModelRun;
}

test('create, get, list with selectors, and get of a missing run', async () => {
  const created = await runs.create(namespace, modelRun('run-a', { team: 'a' }));
  await runs.create(namespace, modelRun('run-b', { team: 'b' }));
  assert.equal(created.kind, 'ModelRun');
  assert.equal((await runs.get(namespace, 'run-a'))?.metadata?.uid, created.metadata?.uid);
  assert.equal(await runs.get(namespace, 'missing'), undefined);

  const all = await runs.list({ namespace });
  assert.deepEqual(all.items.map((run) => run.metadata?.name).sort(), ['run-a', 'run-b']);
  assert.match(all.resourceVersion, /^\d+$/);
  const teamA = await runs.list({ namespace, labelSelector: 'team=a' });
  assert.deepEqual(
    teamA.items.map((run) => run.metadata?.name),
    ['run-a'],
  );
  const clusterWide = await runs.list({ labelSelector: 'team=b' });
  assert.ok(
    clusterWide.items.some((run) => run.metadata?.namespace === namespace && run.metadata?.name === 'run-b'),
  );
  assert.equal(typeof created.metadata?.creationTimestamp, 'string');
});

test('applyStatus writes only status, under the field manager, without touching spec or generation', async () => {
  const created = await runs.create(namespace, modelRun('run-status'));
  const manager = fieldManagerFor(MODEL_RUN);
  const updated = await runs.applyStatus(
    created,
    { phase: 'Running', progress: '0/2', observedGeneration: 1 },
    manager,
  );
  assert.equal(updated.status?.phase, 'Running');
  assert.equal(
    updated.metadata?.generation,
    created.metadata?.generation,
    'a status write leaves generation alone',
  );
  assert.deepEqual(updated.spec, created.spec);
  const managers = (updated.metadata?.managedFields ?? []).filter((entry) => entry.subresource === 'status');
  assert.deepEqual(
    managers.map((entry) => `${entry.manager} ${entry.operation}`),
    [`${manager} Apply`],
  );

  // A later apply without `progress` drops the field this manager owned.
  const again = await runs.applyStatus(updated, { phase: 'Succeeded', observedGeneration: 1 }, manager);
  assert.equal(again.status?.phase, 'Succeeded');
  assert.equal(again.status?.progress, undefined);
});

test('finalizers: added once, removed, and a stale object gets 409 rather than a lost update', async () => {
  const created = await runs.create(namespace, modelRun('run-finalizer'));
  const withFinalizer = await runs.addFinalizer(created, FINALIZER);
  assert.deepEqual(withFinalizer.metadata?.finalizers, [FINALIZER]);
  assert.equal(await runs.addFinalizer(withFinalizer, FINALIZER), withFinalizer, 'already there: no write');

  // Another writer adds theirs; our copy is now stale.
  const other = await runs.addFinalizer(withFinalizer, 'example.com/other');
  await assert.rejects(runs.removeFinalizer(withFinalizer, FINALIZER), (error) => isConflict(error));
  const fresh = (await runs.get(namespace, 'run-finalizer'))!;
  assert.deepEqual(fresh.metadata?.finalizers, other.metadata?.finalizers);
  const removed = await runs.removeFinalizer(fresh, FINALIZER);
  assert.deepEqual(removed?.metadata?.finalizers, ['example.com/other']);
  await runs.removeFinalizer(removed!, 'example.com/other');
});

test('delete with a uid precondition spares a recreated object; a second delete is false', async () => {
  const first = await runs.create(namespace, modelRun('run-delete'));
  assert.equal(await runs.delete(namespace, 'run-delete', { uid: first.metadata?.uid }), true);
  await pollUntil('run-delete gone', async () => (await runs.get(namespace, 'run-delete')) === undefined);
  assert.equal(await runs.delete(namespace, 'run-delete'), false);

  const second = await runs.create(namespace, modelRun('run-delete'));
  await assert.rejects(
    runs.delete(namespace, 'run-delete', { uid: first.metadata?.uid, propagationPolicy: 'Background' }),
    (error) => isConflict(error),
  );
  assert.equal((await runs.get(namespace, 'run-delete'))?.metadata?.uid, second.metadata?.uid);
});
