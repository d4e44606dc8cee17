// The RabbitMQ adapter against the stack's broker: topology, confirms, consume/ack, dead
// letters, retry tiers, queue depth, reconnection and shutdown. Each test owns its queues.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { GetMessage } from 'amqplib';
import { batchIdOf, parseBatchMessage, type BatchMessage } from '../../../contract/batchMessage.ts';
import type { RabbitConnection } from '../../../adapters/rabbitmq/connection.ts';
import { RabbitConsumer, type Delivery } from '../../../adapters/rabbitmq/consumer.ts';
import { RabbitPublisher } from '../../../adapters/rabbitmq/publisher.ts';
import { queueDepth } from '../../../adapters/rabbitmq/queueDepth.ts';
import { workQueueName } from '../../../contract/queues.ts';
import { assertWorkQueueTopology, DEAD_LETTER_EXCHANGE } from '../../../adapters/rabbitmq/topology.ts';
import { uniqueName } from '../../support/names.ts';
import {
  eventually,
  management,
  managementApi,
  openTestConnection,
  quietLogger,
  removeQueues,
  uniqueChain,
} from './support.ts';

const RETRY_DELAYS_MS = [300, 60_000];
let connection: RabbitConnection;
let publisher: RabbitPublisher;
const createdQueues: string[] = [];
const connectionName = uniqueName('test-rabbitmq');

function batch(chain: string, minBlock: number, overrides: Partial<BatchMessage> = {}): BatchMessage {
  return {
    runId: { namespace: 'default', name: 'run-a', uid: 'uid-1' },
    batchId: batchIdOf(chain, 'erc20_transfers', minBlock),
    model: 'erc20_transfers',
    version: 1,
    chain,
    minBlock,
    maxBlock: minBlock + 100,
    force: false,
    maxRetriesPerBatch: 2,
    attempt: 1,
    enqueuedAt: new Date().toISOString(),
    ...overrides,
  };
}

async function newQueue(): Promise<{ chain: string; queue: string }> {
  const chain = uniqueChain();
  const queue = workQueueName(chain, 'backfill', 'nonreads');
  createdQueues.push(queue);
  await connection.withChannel((channel) => assertWorkQueueTopology(channel, queue, RETRY_DELAYS_MS));
  return { chain, queue };
}

async function readyCount(queue: string): Promise<number> {
  return connection.withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
}

async function getOne(queue: string): Promise<GetMessage | false> {
  return connection.withChannel((channel) => channel.get(queue, { noAck: true }));
}

before(async () => {
  connection = await openTestConnection(connectionName);
  publisher = new RabbitPublisher(connection, quietLogger());
});

after(async () => {
  await removeQueues(connection, createdQueues, RETRY_DELAYS_MS);
  await publisher.close();
  await connection.close();
});

test('topology: quorum work queue with DLX, retry tiers that return to it, a DLQ; declaring twice is a no-op', async () => {
  const { queue } = await newQueue();
  await connection.withChannel((channel) => assertWorkQueueTopology(channel, queue, RETRY_DELAYS_MS));
  const { vhost } = managementApi();
  const described = await eventually('the work queue in the management API', async () => {
    const response = await management('GET', `api/queues/${encodeURIComponent(vhost)}/${queue}`);
    return response.ok
      ? ((await response.json()) as { durable: boolean; arguments: Record<string, unknown> })
      : undefined;
  });
  assert.equal(described.durable, true);
  assert.deepEqual(described.arguments, {
    'x-queue-type': 'quorum',
    'x-delivery-limit': 20,
    'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
    'x-dead-letter-routing-key': queue,
  });
  const retry = (await (
    await management('GET', `api/queues/${encodeURIComponent(vhost)}/${queue}.retry.300ms`)
  ).json()) as { arguments: Record<string, unknown> };
  assert.deepEqual(retry.arguments, {
    'x-queue-type': 'classic',
    'x-message-ttl': 300,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': queue,
  });
  assert.equal(await readyCount(`${queue}.dlq`), 0);
});

test('publish with confirms, consume and ack: the message arrives intact and the queue ends empty', async () => {
  const { chain, queue } = await newQueue();
  const sent = batch(chain, 1_000);
  await publisher.publishBatch(queue, sent);
  assert.equal(await readyCount(queue), 1);

  const received: Delivery[] = [];
  const consumer = new RabbitConsumer(connection, {
    queues: [queue],
    prefetch: 1,
    concurrency: 1,
    logger: quietLogger(),
  });
  await consumer.start(async (delivery) => {
    received.push(delivery);
    return 'ack';
  });
  await eventually('the delivery', () => (received.length === 1 ? true : undefined));
  await consumer.stop(1_000);
  assert.deepEqual(parseBatchMessage(received[0]!.body), { ok: true, message: sent });
  assert.equal(received[0]!.headers['batch-id'], sent.batchId);
  assert.equal(await readyCount(queue), 0);
});

test('publishing to a queue that does not exist fails as unroutable instead of vanishing', async () => {
  const chain = uniqueChain();
  await assert.rejects(
    publisher.publishBatch(workQueueName(chain, 'realtime', 'reads'), batch(chain, 0)),
    /unroutable/,
  );
});

test('a delivery the handler rejects is dead-lettered by the broker to <queue>.dlq', async () => {
  const { chain, queue } = await newQueue();
  await publisher.publishBatch(queue, batch(chain, 2_000));
  const consumer = new RabbitConsumer(connection, {
    queues: [queue],
    prefetch: 1,
    concurrency: 1,
    logger: quietLogger(),
  });
  await consumer.start(async () => 'reject');
  const dead = await eventually('the dead letter', async () => (await getOne(`${queue}.dlq`)) || undefined);
  await consumer.stop(1_000);
  const deaths = dead.properties.headers?.['x-death'] as { reason: string; queue: string }[];
  assert.equal(deaths[0]!.reason, 'rejected');
  assert.equal(deaths[0]!.queue, queue);
  assert.equal(await readyCount(queue), 0);
});

test('publishDeadLetter keeps the original body and records the reason in headers', async () => {
  const { queue } = await newQueue();
  const body = Buffer.from('{"not":"a batch"');
  await publisher.publishDeadLetter(queue, body, {
    reason: 'malformed',
    error: 'message is not JSON: Unexpected end of JSON input',
    workerName: 'worker-0',
  });
  const dead = await eventually('the dead letter', async () => (await getOne(`${queue}.dlq`)) || undefined);
  assert.equal(dead.content.toString(), '{"not":"a batch"');
  assert.equal(dead.properties.headers?.['x-dead-letter-reason'], 'malformed');
  assert.equal(dead.properties.headers?.['x-error'], 'message is not JSON: Unexpected end of JSON input');
  assert.equal(dead.properties.headers?.['x-original-queue'], queue);
  assert.equal(dead.properties.headers?.['x-worker'], 'worker-0');
});

test('a retry waits in its tier, then comes back to the work queue with its new attempt', async () => {
  const { chain, queue } = await newQueue();
  const retried = batch(chain, 3_000, { attempt: 2 });
  await publisher.publishRetry(queue, 300, retried, 'rpc timeout');
  assert.equal(await readyCount(`${queue}.retry.300ms`), 1);
  const back = await eventually(
    'the retried batch on the work queue',
    async () => (await getOne(queue)) || undefined,
  );
  assert.deepEqual(parseBatchMessage(back.content), { ok: true, message: retried });
  assert.equal(back.properties.headers?.['x-last-error'], 'rpc timeout');
  assert.equal(await readyCount(`${queue}.retry.300ms`), 0);
});

test('queue depth counts ready and unacked messages, and retries apart', async () => {
  const { chain, queue } = await newQueue();
  for (const minBlock of [0, 100, 200]) await publisher.publishBatch(queue, batch(chain, minBlock));
  await publisher.publishRetry(queue, 60_000, batch(chain, 300, { attempt: 2 }), 'boom');
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const consumer = new RabbitConsumer(connection, {
    queues: [queue],
    prefetch: 1,
    concurrency: 1,
    logger: quietLogger(),
  });
  await consumer.start(async () => {
    await held;
    return 'ack';
  });
  // The management API samples every few seconds: poll until it has seen the unacked delivery.
  const depth = await eventually(
    'an unacked figure from the management API',
    () =>
      connection.withChannel(async (channel) => {
        const measured = await queueDepth(channel, queue, RETRY_DELAYS_MS, managementApi());
        return measured.unacked === 1 ? measured : undefined;
      }),
    20_000,
    500,
  );
  assert.deepEqual(depth, { queue, ready: 2, unacked: 1, consumers: 1, delayed: 1, depth: 3 });
  release();
  await consumer.stop(2_000);
});

test('the consumer re-attaches after the broker drops the connection', async () => {
  const name = uniqueName('test-rabbitmq-reconnect');
  const own = await openTestConnection(name);
  try {
    const { chain, queue } = await newQueue();
    const seen: number[] = [];
    const consumer = new RabbitConsumer(own, {
      queues: [queue],
      prefetch: 1,
      concurrency: 1,
      logger: quietLogger(),
    });
    await consumer.start(async (delivery) => {
      const parsed = parseBatchMessage(delivery.body);
      if (parsed.ok) seen.push(parsed.message.minBlock);
      return 'ack';
    });
    await publisher.publishBatch(queue, batch(chain, 0));
    await eventually('the first delivery', () => (seen.includes(0) ? true : undefined));

    // Close exactly our own connection through the management API, as a broker restart would.
    const reconnected = new Promise<void>((resolve) => own.once('connect', () => resolve()));
    await eventually('our connection to be closed', async () => {
      const response = await management('GET', 'api/connections');
      const connections = (await response.json()) as {
        name: string;
        client_properties: { connection_name?: string };
      }[];
      const ours = connections.find((c) => c.client_properties.connection_name === name);
      if (!ours) return undefined;
      const closed = await management('DELETE', `api/connections/${encodeURIComponent(ours.name)}`);
      return closed.ok ? true : undefined;
    });
    await reconnected;
    await publisher.publishBatch(queue, batch(chain, 100));
    await eventually('a delivery after the reconnect', () => (seen.includes(100) ? true : undefined));
    await consumer.stop(1_000);
    assert.deepEqual(seen, [0, 100]);
  } finally {
    await own.close();
  }
});

test('stop hands back deliveries not yet started, and in-flight ones once the grace period is over', async () => {
  const { chain, queue } = await newQueue();
  for (const minBlock of [0, 100, 200]) await publisher.publishBatch(queue, batch(chain, minBlock));
  let started = 0;
  let aborted = 0;
  const consumer = new RabbitConsumer(connection, {
    queues: [queue],
    prefetch: 3,
    concurrency: 1,
    logger: quietLogger(),
  });
  await consumer.start(
    (_delivery, signal) =>
      new Promise((resolve) => {
        started += 1;
        // A batch that would run for a long time: it settles only when aborted.
        signal.addEventListener('abort', () => {
          aborted += 1;
          resolve('requeue');
        });
      }),
  );
  await eventually('one batch in flight', () => (started === 1 ? true : undefined));
  await consumer.stop(200);
  assert.equal(started, 1);
  assert.equal(aborted, 1);
  // Everything is back on the queue for another worker; nothing was acked.
  assert.equal(
    await eventually('three ready again', async () => ((await readyCount(queue)) === 3 ? 3 : undefined)),
    3,
  );
});

test('concurrency bounds the deliveries worked at once, however many are prefetched', async () => {
  const { chain, queue } = await newQueue();
  for (let i = 0; i < 6; i += 1) await publisher.publishBatch(queue, batch(chain, i * 100));
  let running = 0;
  let mostAtOnce = 0;
  let done = 0;
  const consumer = new RabbitConsumer(connection, {
    queues: [queue],
    prefetch: 4,
    concurrency: 2,
    logger: quietLogger(),
  });
  await consumer.start(async () => {
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise((resolve) => setTimeout(resolve, 50));
    running -= 1;
    done += 1;
    return 'ack';
  });
  await eventually('six deliveries', () => (done === 6 ? true : undefined));
  await consumer.stop(1_000);
  assert.equal(mostAtOnce, 2);
  assert.equal(await readyCount(queue), 0);
});
