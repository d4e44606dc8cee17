// A worker told to stop while its broker has stopped answering (a network partition, a broker
// hung in a restart): the consumer cancel never comes back, yet the grace period still counts
// from the stop. The in-flight batch is interrupted and handed back when the grace is over, not
// whenever the broker is noticed dead (two missed heartbeats, a minute), which would be after
// the pod's terminationGracePeriodSeconds and its SIGKILL.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { RabbitConnection } from '../../../adapters/rabbitmq/connection.ts';
import { RabbitConsumer } from '../../../adapters/rabbitmq/consumer.ts';
import { RabbitPublisher } from '../../../adapters/rabbitmq/publisher.ts';
import { assertWorkQueueTopology, deleteWorkQueueTopology } from '../../../adapters/rabbitmq/topology.ts';
import { workQueueName } from '../../../contract/queues.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueIdentifier, uniqueName } from '../../support/names.ts';
import { eventually, openTestConnection, quietLogger } from '../worker/support.ts';

const RETRY_DELAYS_MS = [300];

/** A TCP forwarder that can go silent: while frozen it forwards nothing and closes nothing. */
class FreezableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  frozen = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: { host: string; port: number }): Promise<FreezableProxy> {
    const server = createServer();
    const proxy = new FreezableProxy(server);
    server.on('connection', (client) => {
      const upstream = connect(target.port, target.host);
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.#sockets.add(from);
        from.on('data', (chunk: Buffer) => {
          if (!proxy.frozen) to.write(chunk);
        });
        from.on('error', () => undefined);
        from.on('close', () => {
          proxy.#sockets.delete(from);
          to.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

let proxy: FreezableProxy;
let admin: RabbitConnection;
/** The worker's connection, through the proxy. */
let connection: RabbitConnection | undefined;
const queue = workQueueName(uniqueIdentifier('wstop'), 'backfill', 'nonreads');

before(async () => {
  const broker = new URL(stackEnv().RABBITMQ_URL);
  proxy = await FreezableProxy.start({ host: broker.hostname, port: Number(broker.port) });
  admin = await openTestConnection(uniqueName('test-consumer-stop'));
  await admin.withChannel((channel) => assertWorkQueueTopology(channel, queue, RETRY_DELAYS_MS));
});

after(async () => {
  // When the test failed half-way: as at its end.
  void connection?.close().catch(() => undefined);
  await proxy?.close();
  await admin
    ?.withChannel((channel) => deleteWorkQueueTopology(channel, queue, RETRY_DELAYS_MS))
    .catch(() => undefined);
  await admin?.close();
});

test('stopped while the broker is silent: the in-flight batch is handed back once the grace is over', async () => {
  const routed = new URL(stackEnv().RABBITMQ_URL);
  routed.hostname = '127.0.0.1';
  routed.port = String(proxy.port);
  connection = await RabbitConnection.open({
    url: routed.toString(),
    connectionName: uniqueName('test-consumer-stop-worker'),
    logger: quietLogger(),
    initialConnectRetries: 2,
  });
  const consumer = new RabbitConsumer(connection, {
    queues: [queue],
    prefetch: 1,
    concurrency: 1,
    logger: quietLogger(),
  });
  let started = 0;
  let aborted = 0;
  await consumer.start(
    (_delivery, signal) =>
      new Promise((resolve) => {
        started += 1;
        signal.addEventListener('abort', () => {
          aborted += 1;
          resolve('requeue');
        });
      }),
  );
  const publisher = new RabbitPublisher(admin, quietLogger());
  await publisher.publishBatch(queue, {
    runId: { namespace: 'default', name: 'run', uid: 'uid-stop' },
    batchId: `${queue.replace(/_backfill_nonreads$/, '')}/ingest/0`,
    model: 'ingest',
    version: 1,
    chain: queue.replace(/_backfill_nonreads$/, ''),
    minBlock: 0,
    maxBlock: 100,
    force: false,
    maxRetriesPerBatch: 1,
    attempt: 1,
    enqueuedAt: new Date().toISOString(),
  });
  await eventually('the batch to start', () => (started === 1 ? true : undefined));

  proxy.frozen = true;
  let stopped = false;
  const stopping = consumer.stop(300).then(() => {
    stopped = true;
  });
  await eventually('the in-flight batch to be interrupted', () => (aborted === 1 ? true : undefined), 10_000);
  await eventually('stop to return', () => (stopped ? true : undefined), 10_000);
  await stopping;
  assert.equal(started, 1);
  await publisher.close();

  // The broker gets the batch back with the connection: it was never acknowledged.
  // (amqplib's close waits for a close-ok the frozen proxy never forwards; cutting the proxy
  // ends the connection, and a closed RabbitConnection does not reconnect.)
  void connection.close().catch(() => undefined);
  await proxy.close();
  const ready = await eventually('the batch back on the queue', async () => {
    const count = await admin.withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
    return count === 1 ? count : undefined;
  });
  assert.equal(ready, 1);
});
