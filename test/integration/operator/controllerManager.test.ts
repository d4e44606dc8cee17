// A controller on the runtime, against the stack's API server. The primary kind is Ingress: a
// built-in kind with metadata.generation and a /status subresource that no controller of the
// stack writes, so the test controller's own status and annotation writes are the only
// non-spec changes. It checks that each key is reconciled once per spec change, never twice at
// once, that the controller's own writes do not wake it, and what errors and requeues do.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Ingress } from '@kubernetes/client-node';
import { listWatchClient } from '../../../adapters/kube/index.ts';
import {
  ControllerManager,
  createOperatorMetrics,
  Informer,
  parseObjectKey,
  startOperatorMetricsServer,
  type ReconcileOutcome,
} from '../../../operator/runtime/index.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeClients,
  kubeConfig,
  mergePatch,
  pollUntil,
} from '../../support/kube.ts';
import { capturedLog } from './support.ts';

let namespace: string;
before(async () => {
  namespace = await createTestNamespace('manager');
});
after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

function ingress(name: string, port: number): V1Ingress {
  return {
    metadata: { name },
    spec: { defaultBackend: { service: { name: 'backend', port: { number: port } } } },
  };
}

async function changeSpec(name: string, port: number): Promise<void> {
  await kubeClients().networking.patchNamespacedIngress(
    {
      namespace,
      name,
      body: { spec: { defaultBackend: { service: { name: 'backend', port: { number: port } } } } },
    },
    mergePatch,
  );
}

test('reconciles once per change, never a key twice at once, and is not woken by its own writes', async () => {
  const { networking } = kubeClients();
  const { log, lines } = capturedLog();
  const metrics = createOperatorMetrics({ defaultMetrics: false });
  const informer = new Informer<V1Ingress>({
    name: 'ingresses',
    resource: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace },
    client: listWatchClient(kubeConfig()),
    log,
  });

  const reconciles = new Map<string, number>();
  const inFlight = new Set<string>();
  const seenMissing: string[] = [];
  let overlaps = 0;
  let slowMs = 0;
  const failOnce = new Set([`${namespace}/flaky`]);
  const count = (name: string) => reconciles.get(`${namespace}/${name}`) ?? 0;

  async function reconcile(key: string): Promise<ReconcileOutcome | void> {
    if (inFlight.has(key)) overlaps++;
    inFlight.add(key);
    reconciles.set(key, (reconciles.get(key) ?? 0) + 1);
    try {
      if (slowMs) await sleep(slowMs);
      const { name } = parseObjectKey(key);
      const current = informer.get(namespace, name);
      if (!current) {
        seenMissing.push(name);
        return;
      }
      if (failOnce.delete(key)) throw new Error('a transient failure');
      // The controller's own writes: status, and an annotation (metadata only).
      const ip = `10.0.0.${reconciles.get(key)}`;
      await networking.patchNamespacedIngressStatus(
        { namespace, name, body: { status: { loadBalancer: { ingress: [{ ip }] } } } },
        mergePatch,
      );
      await networking.patchNamespacedIngress(
        {
          namespace,
          name,
          body: {
            metadata: { annotations: { 'test/observed-generation': String(current.metadata?.generation) } },
          },
        },
        mergePatch,
      );
      if (name === 'zero-requeue') return { requeueAfterMs: 0 };
      if (name === 'poller' && (reconciles.get(key) ?? 0) < 3) return { requeueAfterMs: 50 };
    } finally {
      inFlight.delete(key);
    }
  }

  const manager = new ControllerManager({ log, metrics });
  manager.register({ name: 'ingress-test', primary: informer, reconcile, concurrency: 3 });
  for (const name of ['alpha', 'beta', 'gamma', 'fence', 'flaky', 'zero-requeue', 'poller'])
    await networking.createNamespacedIngress({ namespace, body: ingress(name, 80) });

  const server = await startOperatorMetricsServer({
    metrics,
    port: 0,
    health: () => manager.health(),
    ready: () => manager.readiness(),
  });
  const leadership = new AbortController();
  manager.startInformers();
  const leading = manager.lead(leadership.signal);
  try {
    const allWritten = async () => {
      const { items } = await networking.listNamespacedIngress({ namespace });
      return items.every((each) => each.status?.loadBalancer?.ingress?.length) && inFlight.size === 0;
    };
    await pollUntil('every ingress reconciled and its status written', allWritten, {
      timeoutMs: 20_000,
      describe: () => Object.fromEntries(reconciles),
    });
    await pollUntil('the poller requeued itself twice', () => count('poller') >= 3, { timeoutMs: 10_000 });

    // A fence: a spec change of another key. Events arrive in order, so by the time the fence is
    // reconciled any wake-up by the earlier own writes would have been queued before it.
    const fenceBefore = count('fence');
    await changeSpec('fence', 81);
    await pollUntil('the fence reconciled', () => count('fence') === fenceBefore + 1 && inFlight.size === 0, {
      timeoutMs: 10_000,
    });
    assert.deepEqual(
      ['alpha', 'beta', 'gamma', 'zero-requeue', 'flaky', 'poller'].map((name) => [name, count(name)]),
      [
        ['alpha', 1],
        ['beta', 1],
        ['gamma', 1],
        ['zero-requeue', 1], // requeueAfterMs 0 is a bug: logged, treated as done, no loop
        ['flaky', 2], // threw once, retried once with backoff
        ['poller', 3], // asked twice to be looked at again
      ],
    );
    assert.ok(
      lines().some((line) => line.msg === 'reconcile asked to requeue after ≤ 0 ms (a bug); treated as done'),
    );
    const failure = lines().find((line) => line.msg === 'reconcile failed; retrying with backoff');
    assert.equal(failure?.namespace, namespace);
    assert.equal(failure?.name, 'flaky');
    assert.equal(failure?.controller, 'ingress-test');

    // One spec change: exactly one more reconcile of that key.
    await changeSpec('alpha', 82);
    await pollUntil('alpha reconciled again', () => count('alpha') === 2 && inFlight.size === 0, {
      timeoutMs: 10_000,
    });
    await changeSpec('fence', 83);
    await pollUntil('the fence again', () => count('fence') === fenceBefore + 2 && inFlight.size === 0, {
      timeoutMs: 10_000,
    });
    assert.equal(count('alpha'), 2);

    // Changes while the key is being reconciled fold into one more reconcile, never a parallel one.
    slowMs = 400;
    await changeSpec('beta', 84);
    await pollUntil('beta in progress', () => inFlight.has(`${namespace}/beta`), { timeoutMs: 10_000 });
    await changeSpec('beta', 85);
    await changeSpec('beta', 86);
    await changeSpec('beta', 87);
    await pollUntil(
      'beta settled',
      async () => {
        const beta = await networking.readNamespacedIngress({ namespace, name: 'beta' });
        return (
          inFlight.size === 0 &&
          beta.metadata?.annotations?.['test/observed-generation'] === String(beta.metadata?.generation)
        );
      },
      { timeoutMs: 15_000 },
    );
    slowMs = 0;
    assert.ok(count('beta') >= 2 && count('beta') <= 5, `beta reconciled ${count('beta')} times`);
    assert.equal(overlaps, 0, 'never two reconciles of one key at once');

    // A delete wakes it; the object is gone from the cache.
    await networking.deleteNamespacedIngress({ namespace, name: 'gamma' });
    await pollUntil('gamma reconciled after its delete', () => seenMissing.includes('gamma'), {
      timeoutMs: 10_000,
    });

    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(
      text,
      /model_runner_operator_reconciles_total\{controller="ingress-test",result="success"\} \d+/,
    );
    assert.match(
      text,
      /model_runner_operator_reconciles_total\{controller="ingress-test",result="error"\} 1/,
    );
    assert.match(text, /model_runner_operator_reconcile_errors_total\{controller="ingress-test"\} 1/);
    assert.match(text, /model_runner_operator_workqueue_retries_total\{controller="ingress-test"\} 1/);
    assert.match(text, /model_runner_operator_workqueue_depth\{controller="ingress-test"\} 0/);
    assert.match(
      text,
      /model_runner_operator_reconcile_duration_seconds_count\{controller="ingress-test"\} \d+/,
    );
    const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    assert.equal(ready.status, 200);
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { leading: boolean }).leading, true);
  } finally {
    leadership.abort();
    await leading;
    await manager.stopInformers();
    await server.close();
  }
  assert.equal(manager.isLeading(), false);
});

test('without leadership nothing is reconciled, while the caches still fill', async () => {
  const { log } = capturedLog();
  const informer = new Informer<V1Ingress>({
    name: 'ingresses',
    resource: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace },
    client: listWatchClient(kubeConfig()),
    log,
  });
  let reconciled = 0;
  const manager = new ControllerManager({ log });
  manager.register({
    name: 'standby',
    primary: informer,
    reconcile: async () => {
      reconciled++;
    },
  });
  assert.equal(manager.readiness().healthy, false);
  manager.startInformers();
  try {
    assert.equal(await manager.waitForCacheSync(), true);
    assert.equal(manager.readiness().healthy, true);
    await kubeClients().networking.createNamespacedIngress({ namespace, body: ingress('standby-only', 80) });
    await pollUntil('the cache has it', () => informer.get(namespace, 'standby-only'), { timeoutMs: 10_000 });
    assert.equal(reconciled, 0);

    const leadership = new AbortController();
    const leading = manager.lead(leadership.signal);
    await pollUntil('reconciled once leading', () => reconciled >= informer.keys().length, {
      timeoutMs: 10_000,
    });
    leadership.abort();
    await leading;
  } finally {
    await manager.stopInformers();
  }
});
