// Events written by the EventRecorder, as `kubectl get events` shows them: one Event per
// occurrence, a repeat bumping its series, and a write that fails logged, never thrown.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EventsV1Event, V1ConfigMap } from '@kubernetes/client-node';
import { EventRecorder } from '../../../adapters/kube/index.ts';
import { kubectlOk } from '../../support/crds.ts';
import { createTestNamespace, deleteTestNamespace, kubeClients, pollUntil } from '../../support/kube.ts';
import { capturedLog } from './support.ts';

let namespace: string;
let subject: V1ConfigMap;
before(async () => {
  namespace = await createTestNamespace('events');
  subject = await kubeClients().core.createNamespacedConfigMap({
    namespace,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject' }, data: { a: 'b' } },
  });
});
after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

async function eventsAbout(name: string): Promise<EventsV1Event[]> {
  const { items } = await kubeClients().events.listNamespacedEvent({ namespace });
  return items.filter((event) => event.regarding?.name === name);
}

test('an Event is written once, then a repeat bumps its series instead of adding another', async () => {
  const { log } = capturedLog();
  const recorder = new EventRecorder({
    events: kubeClients().events,
    reportingInstance: 'operator-test-0',
    log,
  });
  await recorder.normal(subject, 'BatchesDispatched', 'dispatched 3 batches to local_backfill', 'Dispatch');

  const table = await kubectlOk(['get', 'events', '--namespace', namespace]);
  assert.match(table, /BatchesDispatched/);
  assert.match(table, /configmap\/subject/);
  assert.match(table, /dispatched 3 batches to local_backfill/);

  const [event] = await eventsAbout('subject');
  assert.equal(event?.type, 'Normal');
  assert.equal(event?.reportingController, 'modelrunner.io/operator');
  assert.equal(event?.reportingInstance, 'operator-test-0');
  assert.equal(event?.action, 'Dispatch');
  assert.equal(event?.regarding?.uid, subject.metadata?.uid);
  assert.equal(event?.series, undefined);

  await recorder.normal(subject, 'BatchesDispatched', 'dispatched 3 batches to local_backfill', 'Dispatch');
  await recorder.normal(subject, 'BatchesDispatched', 'dispatched 3 batches to local_backfill', 'Dispatch');
  const events = await eventsAbout('subject');
  assert.equal(events.length, 1, 'repeats are one Event');
  assert.equal(events[0]?.series?.count, 3);

  await recorder.warning(subject, 'NoConsumers', 'no worker consumes local_backfill', 'Dispatch');
  const all = await pollUntil('the warning too', async () => {
    const found = await eventsAbout('subject');
    return found.length === 2 ? found : undefined;
  });
  assert.deepEqual(all.map((each) => `${each.type} ${each.reason}`).sort(), [
    'Normal BatchesDispatched',
    'Warning NoConsumers',
  ]);
  const wide = await kubectlOk([
    'get',
    'events',
    '--namespace',
    namespace,
    '--field-selector',
    'reason=NoConsumers',
  ]);
  assert.match(wide, /Warning\s+NoConsumers/);
});

test('a failed write is logged and never thrown', async () => {
  const { log, lines } = capturedLog();
  const recorder = new EventRecorder({
    events: kubeClients().events,
    reportingInstance: 'operator-test-0',
    log,
  });
  const elsewhere = { ...subject, metadata: { ...subject.metadata, namespace: 'no-such-namespace-4f1c' } };
  await recorder.warning(elsewhere, 'Failed', 'this namespace does not exist', 'Reconcile');
  await recorder.normal(subject, 'not camel case', 'rejected before any write', 'Reconcile');
  assert.deepEqual(
    lines().map((line) => line.msg),
    ['could not write an Event', 'event not recorded: invalid object, reason or action'],
  );
  assert.match(String(lines()[0]?.err), /^404 NotFound/);
});

test('a burst of Events is written a few at a time, and past the backlog new ones are dropped and logged once', async () => {
  const { log, lines } = capturedLog();
  const real = kubeClients().events;
  let inFlight = 0;
  let mostInFlight = 0;
  // The real API server, with the recorder's concurrent creates counted on the way.
  const counted = Object.create(real) as typeof real;
  counted.createNamespacedEvent = async (...args: Parameters<typeof real.createNamespacedEvent>) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    try {
      return await real.createNamespacedEvent(...args);
    } finally {
      inFlight--;
    }
  };
  const recorder = new EventRecorder({
    events: counted,
    reportingInstance: 'operator-test-0',
    log,
    maxConcurrentWrites: 2,
    maxBacklog: 6,
  });
  const subjects = Array.from({ length: 12 }, (_, index) => ({
    ...subject,
    metadata: { ...subject.metadata, name: `burst-${index}`, uid: `burst-uid-${index}` },
  }));
  await Promise.all(subjects.map((each) => recorder.normal(each, 'Burst', 'one of twelve', 'Reconcile')));

  assert.equal(mostInFlight, 2);
  const written = (await kubeClients().events.listNamespacedEvent({ namespace })).items.filter(
    (event) => event.reason === 'Burst',
  );
  // Two writing and six waiting; the last four found the backlog full.
  assert.deepEqual(
    written.map((event) => event.regarding?.name).sort(),
    subjects
      .slice(0, 8)
      .map((each) => each.metadata.name)
      .sort(),
  );
  const drops = lines().filter((line) => line.msg === 'Events dropped: too many waiting to be written');
  assert.equal(drops.length, 1, 'one log line for the drops of a minute');
  assert.equal(drops[0]?.dropped, 1);
});
