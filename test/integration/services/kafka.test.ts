import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueName } from '../../support/names.ts';

const topic = uniqueName('svc-kafka');
const kafka = new Kafka({
  clientId: 'stack-test',
  brokers: stackEnv().KAFKA_BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();

after(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

test('kafka: records produced with keys and headers are consumed back in order', async () => {
  await admin.connect();
  assert.equal(
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }),
    true,
  );

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = Array.from({ length: 20 }, (_, i) => ({
    key: `erc20_transfers:${1000 + i}`,
    value: JSON.stringify({ block: 1000 + i }),
    headers: { model: 'erc20_transfers' },
  }));
  await producer.send({ topic, acks: -1, messages: sent });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received: { key: string; value: string; model: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${received.length} of 20 records arrived in 30s`)),
      30_000,
    );
    void consumer.run({
      eachMessage: async ({ message }) => {
        received.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          model: message.headers?.model?.toString() ?? '',
        });
        if (received.length === sent.length) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.deepEqual(
    received,
    sent.map((m) => ({ key: m.key, value: m.value, model: 'erc20_transfers' })),
  );
});
