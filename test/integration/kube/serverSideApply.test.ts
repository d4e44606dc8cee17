// Server-side apply, the way the operator writes objects and status: each writer
// owns the fields it applies, applying the same thing twice changes nothing, and a
// second writer touching an owned field gets a conflict unless it forces.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  apiStatusCode,
  createTestNamespace,
  deleteTestNamespace,
  kubeClients,
  serverSideApply,
} from '../../support/kube.ts';

let namespace: string;
before(async () => {
  namespace = await createTestNamespace('kube-apply');
});
after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

function configMap(name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

async function apply(name: string, data: Record<string, string>, fieldManager: string, force = false) {
  return kubeClients().core.patchNamespacedConfigMap(
    { namespace, name, body: configMap(name, data), fieldManager, ...(force ? { force } : {}) },
    serverSideApply,
  );
}

function appliedFields(object: {
  metadata?: { managedFields?: { manager?: string; operation?: string; fieldsV1?: object }[] };
}) {
  return Object.fromEntries(
    (object.metadata?.managedFields ?? [])
      .filter((entry) => entry.operation === 'Apply')
      .map((entry) => [
        entry.manager,
        Object.keys((entry.fieldsV1 as { 'f:data'?: object })['f:data'] ?? {}).sort(),
      ]),
  );
}

test('apply creates the object, records its manager, and a second identical apply is a no-op', async () => {
  const created = await apply('plan', { chain: 'op', lane: 'realtime' }, 'test-planner');
  assert.deepEqual(created.data, { chain: 'op', lane: 'realtime' });
  assert.deepEqual(appliedFields(created), { 'test-planner': ['f:chain', 'f:lane'] });

  const again = await apply('plan', { chain: 'op', lane: 'realtime' }, 'test-planner');
  assert.equal(again.metadata?.resourceVersion, created.metadata?.resourceVersion);
  assert.equal(again.metadata?.uid, created.metadata?.uid);
});

test('a field another manager owns is a conflict, unless the apply forces it', async () => {
  await apply('owned', { chain: 'op', lane: 'realtime' }, 'test-owner');

  await assert.rejects(apply('owned', { lane: 'backfill' }, 'test-intruder'), (error: unknown) => {
    assert.equal(apiStatusCode(error), 409);
    const status = JSON.parse(String((error as { body?: unknown }).body)) as {
      message: string;
      details: { causes: { reason: string; field: string }[] };
    };
    assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "test-owner": .data.lane');
    assert.deepEqual(
      status.details.causes.map((cause) => [cause.reason, cause.field]),
      [['FieldManagerConflict', '.data.lane']],
    );
    return true;
  });
  const untouched = await kubeClients().core.readNamespacedConfigMap({ namespace, name: 'owned' });
  assert.equal(untouched.data?.lane, 'realtime');

  const forced = await apply('owned', { lane: 'backfill' }, 'test-intruder', true);
  assert.deepEqual(forced.data, { chain: 'op', lane: 'backfill' });
  assert.deepEqual(appliedFields(forced), { 'test-owner': ['f:chain'], 'test-intruder': ['f:lane'] });
});

test('a manager that stops applying a field it alone owned removes it; shared fields stay', async () => {
  await apply('shrinking', { chain: 'op', lane: 'realtime', batch: '1000' }, 'test-first');
  await apply('shrinking', { chain: 'op' }, 'test-second');

  const shrunk = await apply('shrinking', { chain: 'op' }, 'test-first');
  assert.deepEqual(shrunk.data, { chain: 'op' });
  assert.deepEqual(appliedFields(shrunk), { 'test-first': ['f:chain'], 'test-second': ['f:chain'] });
});
