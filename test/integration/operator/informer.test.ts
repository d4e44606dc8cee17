// The supervised informer against the stack's API server: it sees creates, updates and
// deletes with the old object; it survives an outage of the API server (through a proxy that
// cuts every connection and refuses new ones), the failure that stops client-node's own
// informer for good; it restarts a quiet watch and emits every object on resync.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { listWatchClient } from '../../../adapters/kube/index.ts';
import {
  createOperatorMetrics,
  Informer,
  informerRestartHook,
  type InformerOptions,
  type RestartReason,
} from '../../../operator/runtime/index.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeClients,
  kubeConfig,
  mergePatch,
  pollUntil,
} from '../../support/kube.ts';
import { TcpProxy } from '../worker/tcpProxy.ts';
import { apiServerAddress, capturedLog, kubeConfigThrough } from './support.ts';

let namespace: string;
const informers: Informer[] = [];
const proxies: TcpProxy[] = [];
before(async () => {
  namespace = await createTestNamespace('informer');
});
after(async () => {
  await Promise.all(informers.map((informer) => informer.stop()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  if (namespace) await deleteTestNamespace(namespace);
});

interface Seen {
  type: string;
  name: string;
  data: string | undefined;
  oldData: string | undefined;
}

function configMapInformer(options: Partial<InformerOptions> & { labelSelector?: string } = {}) {
  const seen: Seen[] = [];
  const restarts: RestartReason[] = [];
  const { log, lines } = capturedLog();
  const metrics = createOperatorMetrics({ defaultMetrics: false });
  const countRestart = informerRestartHook(metrics, 'configmaps');
  const informer = new Informer<V1ConfigMap>({
    name: 'configmaps',
    resource: {
      group: '',
      version: 'v1',
      plural: 'configmaps',
      namespace,
      labelSelector: options.labelSelector,
    },
    client: listWatchClient(kubeConfig()),
    log,
    onRestart: (reason) => {
      restarts.push(reason);
      countRestart(reason);
    },
    ...options,
  });
  for (const type of ['add', 'update', 'delete', 'resync'] as const) {
    informer.on(type, (object, oldObject) =>
      seen.push({
        type,
        name: object.metadata!.name!,
        data: object.data?.value,
        oldData: oldObject?.data?.value,
      }),
    );
  }
  informers.push(informer as unknown as Informer);
  return { informer, seen, restarts, lines, metrics };
}

async function createConfigMap(name: string, value: string, labels: Record<string, string>) {
  return kubeClients().core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name, labels }, data: { value } },
  });
}

test('the informer lists, then sees adds, updates (with the old object) and deletes', async () => {
  const labels = { suite: 'basic' };
  await createConfigMap('before-start', 'one', labels);
  const { informer, seen } = configMapInformer({ labelSelector: 'suite=basic' });
  informer.start();
  await pollUntil('the first list', () => informer.hasSynced(), { timeoutMs: 15_000 });
  assert.deepEqual(seen, [{ type: 'add', name: 'before-start', data: 'one', oldData: undefined }]);
  assert.equal(informer.get(namespace, 'before-start')?.data?.value, 'one');

  const created = await createConfigMap('after-start', 'two', labels);
  await kubeClients().core.patchNamespacedConfigMap(
    { namespace, name: 'after-start', body: { data: { value: 'three' } } },
    mergePatch,
  );
  await kubeClients().core.deleteNamespacedConfigMap({ namespace, name: 'before-start' });
  await createConfigMap('other-suite', 'x', { suite: 'other' });
  await pollUntil('add, update and delete events', () => seen.length >= 4, {
    timeoutMs: 15_000,
    describe: () => seen,
  });
  assert.deepEqual(seen.slice(1), [
    { type: 'add', name: 'after-start', data: 'two', oldData: undefined },
    { type: 'update', name: 'after-start', data: 'three', oldData: 'two' },
    { type: 'delete', name: 'before-start', data: 'one', oldData: 'one' },
  ]);
  assert.deepEqual(informer.keys(), [`${namespace}/after-start`], 'the label selector keeps other-suite out');
  const cached = informer.get(namespace, 'after-start')!;
  assert.equal(cached.metadata?.uid, created.metadata?.uid);
  assert.equal(cached.kind, 'ConfigMap', 'list items get their kind back');
  assert.equal(typeof cached.metadata?.creationTimestamp, 'string', 'dates stay as the server wrote them');
});

test('an API server outage (connections cut, new ones refused) is survived, and what changed meanwhile arrives', async () => {
  const labels = { suite: 'outage' };
  const proxy = await TcpProxy.create(apiServerAddress(), true);
  proxies.push(proxy);
  const { informer, seen, restarts, lines, metrics } = configMapInformer({
    labelSelector: 'suite=outage',
    client: listWatchClient(kubeConfigThrough(proxy.port)),
    restartBackoff: { baseDelayMs: 200, maxDelayMs: 1_000, jitter: true },
  });
  informer.start();
  await pollUntil('the first list through the proxy', () => informer.hasSynced(), { timeoutMs: 15_000 });
  await createConfigMap('before-outage', 'a', labels);
  await pollUntil('before-outage', () => informer.get(namespace, 'before-outage'), { timeoutMs: 15_000 });

  await proxy.close();
  const closedAt = Date.now();
  await createConfigMap('during-outage', 'b', labels);
  await kubeClients().core.deleteNamespacedConfigMap({ namespace, name: 'before-outage' });
  // Long enough for several refused reconnects, which is where client-node's informer gives up.
  await pollUntil(
    'two failed restarts during the outage',
    () => restarts.filter((r) => r === 'error').length >= 2,
    {
      timeoutMs: 15_000,
      describe: () => restarts,
    },
  );
  await sleep(Math.max(0, 3_000 - (Date.now() - closedAt))); // an outage of a few seconds
  await proxy.open();

  await pollUntil('the object created during the outage', () => informer.get(namespace, 'during-outage'), {
    timeoutMs: 30_000,
    describe: () => ({ seen, restarts, health: informer.health() }),
  });
  await pollUntil('the delete made during the outage', () => !informer.get(namespace, 'before-outage'), {
    timeoutMs: 15_000,
  });
  assert.ok(seen.some((event) => event.type === 'add' && event.name === 'during-outage'));
  assert.ok(seen.some((event) => event.type === 'delete' && event.name === 'before-outage'));
  assert.ok(
    lines().some((line) => line.msg === 'list or watch failed; restarting after a backoff'),
    'the failures were logged',
  );
  const counted = await metrics.informerRestarts.get();
  const errors = counted.values.find((value) => value.labels.reason === 'error')?.value ?? 0;
  assert.ok(errors >= 2, `informer_restarts_total{reason="error"} is ${errors}`);
  await pollUntil('watching again', () => informer.health().watching, { timeoutMs: 15_000 });
  assert.equal(informer.health().stuck, false);

  // And it keeps working after the outage.
  await createConfigMap('after-outage', 'c', labels);
  await pollUntil('after-outage', () => informer.get(namespace, 'after-outage'), { timeoutMs: 15_000 });
});

test('a watch quiet for longer than the bound is restarted, and keeps delivering', async () => {
  const { informer, restarts } = configMapInformer({
    labelSelector: 'suite=quiet',
    watchQuietTimeoutMs: 1_000,
  });
  informer.start();
  await pollUntil('two quiet restarts', () => restarts.filter((r) => r === 'quiet').length >= 2, {
    timeoutMs: 20_000,
    describe: () => restarts,
  });
  assert.ok(!restarts.includes('error'), `no error restarts: ${restarts}`);
  await createConfigMap('after-quiet', 'q', { suite: 'quiet' });
  await pollUntil('after-quiet', () => informer.get(namespace, 'after-quiet'), { timeoutMs: 15_000 });
});

test('each resync lists again and emits every object', async () => {
  await createConfigMap('resynced', 'r', { suite: 'resync' });
  const { informer, seen } = configMapInformer({ labelSelector: 'suite=resync', resyncIntervalMs: 500 });
  informer.start();
  await pollUntil(
    'two resyncs of the object',
    () => seen.filter((event) => event.type === 'resync' && event.name === 'resynced').length >= 2,
    { timeoutMs: 20_000, describe: () => seen },
  );
  assert.equal(seen.filter((event) => event.type === 'add').length, 1, 'a resync is not an add');
});
