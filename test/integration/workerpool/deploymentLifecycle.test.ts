// The pool's Deployment over its life: `kubectl scale` through the scale subresource when
// autoscaling is off (bounds enforced by the API server), a spec change rolled out, the spec
// of an autoscaled pool never written by the operator, and the Deployment gone with its pool.
// No pod runner: the pods stay Pending, only the objects matter here.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fieldManagerFor, WORKER_POOL } from '../../../crds/kinds.ts';
import { kubectl } from '../../support/crds.ts';
import { pollUntil } from '../../support/kube.ts';
import { PoolWorld } from './poolWorld.ts';

let world: PoolWorld;

before(async () => {
  world = await PoolWorld.create({ podRunner: false });
  await world.declare(world.queue());
});

after(async () => {
  await world?.cleanup();
});

test('without autoscaling, kubectl scale sets the workers through the scale subresource, within bounds', async () => {
  await world.createPool('manual', { replicas: 1, minReplicas: 0, maxReplicas: 3 });
  await world.waitForDecision('manual', 1, 30_000);

  const scaled = await kubectl(['scale', 'workerpool/manual', '--replicas', '3'], {
    namespace: world.namespace,
  });
  assert.equal(scaled.exitCode, 0, scaled.stderr);
  await world.waitForDecision('manual', 3, 30_000);
  await pollUntil(
    'status.desiredReplicas 3',
    async () => (await world.pool('manual')).status?.desiredReplicas === 3,
    {
      timeoutMs: 30_000,
      describe: () => world.describe('manual'),
    },
  );

  const tooMany = await kubectl(['scale', 'workerpool/manual', '--replicas', '4'], {
    namespace: world.namespace,
  });
  assert.notEqual(tooMany.exitCode, 0, tooMany.stdout);
  assert.match(tooMany.stderr, /spec\.replicas must be within/);
  assert.equal((await world.pool('manual')).spec.replicas, 3);
});

test('a spec change rolls out to the Deployment', async () => {
  await world.patchPool('manual', { env: [{ name: 'POOL_TEST_SETTING', value: 'changed' }] });
  await pollUntil(
    'the new env on the Deployment',
    async () => {
      const container = (await world.deployment('manual'))?.spec?.template.spec?.containers[0];
      return container?.env?.some((entry) => entry.name === 'POOL_TEST_SETTING' && entry.value === 'changed');
    },
    { timeoutMs: 30_000, describe: () => world.describe('manual') },
  );
});

test("with autoscaling the operator scales the Deployment and never writes the pool's spec", async () => {
  const created = await world.createPool('auto', {
    minReplicas: 2,
    maxReplicas: 3,
    autoscaling: { pollIntervalSeconds: 1 },
  });
  await world.waitForDecision('auto', 2, 30_000);
  await pollUntil(
    'status.desiredReplicas 2',
    async () => (await world.pool('auto')).status?.desiredReplicas === 2,
    {
      timeoutMs: 30_000,
      describe: () => world.describe('auto'),
    },
  );
  const pool = await world.pool('auto');
  assert.equal(pool.metadata?.generation, created.metadata?.generation);
  assert.deepEqual(pool.spec, created.spec);
  const specWriters = (pool.metadata?.managedFields ?? [])
    .filter((entry) => entry.subresource !== 'status')
    .map((entry) => entry.manager);
  assert.ok(!specWriters.includes(fieldManagerFor(WORKER_POOL)), specWriters.join(', '));
});

test('deleting the pool deletes its Deployment', async () => {
  await world.pools.delete(world.namespace, 'manual');
  await pollUntil(
    'the Deployment to be garbage-collected',
    async () => (await world.deployment('manual')) === undefined,
    {
      timeoutMs: 60_000,
      describe: () => world.describe('auto'),
    },
  );
});
