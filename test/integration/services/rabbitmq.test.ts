import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import amqp from 'amqplib';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueIdentifier } from '../../support/names.ts';

const queue = uniqueIdentifier('svc_rabbitmq');
const connection = await amqp.connect(stackEnv().RABBITMQ_URL);

after(async () => {
  const channel = await connection.createChannel();
  await channel.deleteQueue(queue);
  await connection.close();
});

/** Queue counters from the management API, which lags the broker by a few seconds. */
async function managementQueue(
  name: string,
): Promise<{ messages_ready: number; messages_unacknowledged: number }> {
  const url = new URL(stackEnv().RABBITMQ_MANAGEMENT_URL);
  const auth = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  ).toString('base64');
  const response = await fetch(`${url.origin}/api/queues/%2F/${name}`, {
    headers: { authorization: `Basic ${auth}` },
  });
  assert.equal(response.status, 200, `management API answered ${response.status} for queue ${name}`);
  return (await response.json()) as { messages_ready: number; messages_unacknowledged: number };
}

test('rabbitmq: confirmed publishes are consumed, acked, and counted in the queue depth', async () => {
  const publisher = await connection.createConfirmChannel();
  await publisher.assertQueue(queue, { durable: true });
  for (let i = 0; i < 5; i++) {
    publisher.sendToQueue(queue, Buffer.from(JSON.stringify({ batch: i })), { persistent: true });
  }
  await publisher.waitForConfirms();
  assert.equal((await publisher.checkQueue(queue)).messageCount, 5);

  const consumer = await connection.createChannel();
  await consumer.prefetch(2);
  const held: amqp.ConsumeMessage[] = [];
  const received: number[] = [];
  let acking = false;
  let heldTwo!: () => void;
  let allAcked!: () => void;
  const twoHeld = new Promise<void>((resolve) => (heldTwo = resolve));
  const fiveAcked = new Promise<void>((resolve) => (allAcked = resolve));
  const ack = (message: amqp.ConsumeMessage) => {
    received.push((JSON.parse(message.content.toString()) as { batch: number }).batch);
    consumer.ack(message);
    if (received.length === 5) allAcked();
  };
  await consumer.consume(queue, (message) => {
    if (!message) return;
    if (acking) return ack(message);
    held.push(message);
    if (held.length === 2) heldTwo();
  });
  await twoHeld;
  // With prefetch 2 and nothing acked, two are in flight and three wait: depth is ready + unacked.
  let counters = await managementQueue(queue);
  for (let i = 0; i < 50 && counters.messages_unacknowledged !== 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    counters = await managementQueue(queue);
  }
  assert.equal(counters.messages_unacknowledged, 2);
  assert.equal(counters.messages_ready + counters.messages_unacknowledged, 5);

  acking = true;
  held.splice(0).forEach(ack);
  await fiveAcked;
  assert.deepEqual(
    received.sort((a, b) => a - b),
    [0, 1, 2, 3, 4],
  );
  await consumer.close();
  assert.equal((await publisher.checkQueue(queue)).messageCount, 0);
  await publisher.close();
});
