// The Kafka sink against the stack's broker: it creates the topic itself, and what a consumer
// reads back has the stable keys, the provenance headers and the row values that were sent.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { sinkRecordHeaders, sinkRecordKey, sinkTopicName } from '../../../adapters/kafka/sinkNames.ts';
import { KafkaSink, parseBrokers, type SinkRecord } from '../../../adapters/kafka/sinkProducer.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { deleteTopic, quietLogger, readAllRecords, uniqueChain } from './support.ts';

const brokers = parseBrokers(stackEnv().KAFKA_BROKERS);
const topics: string[] = [];

after(async () => {
  for (const topic of topics) await deleteTopic(topic, brokers);
});

function transferRecords(chain: string, blocks: number[], run: string): SinkRecord[] {
  return blocks.map((block, index) => ({
    key: sinkRecordKey({
      model: 'erc20_transfers',
      dataset: 'erc20_transfers',
      chain,
      block,
      rowKey: String(index),
    }),
    value: { block_number: block, log_index: index, value: 10n ** 30n + BigInt(index) },
    headers: sinkRecordHeaders({
      model: 'erc20_transfers',
      version: 1,
      dataset: 'erc20_transfers',
      run,
      batchId: `${chain}/erc20_transfers/0`,
    }),
  }));
}

test('the sink creates <env>-<chain>-sink with its partitions, and records come back with keys, headers and values', async () => {
  const chain = uniqueChain();
  const topic = sinkTopicName('test', chain);
  topics.push(topic);
  const sink = new KafkaSink({
    brokers,
    clientId: 'test-sink',
    logger: quietLogger(),
    partitions: 3,
    chunkSize: 7,
  });
  try {
    const records = transferRecords(
      chain,
      [5, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
      'ns/run-a',
    );
    await sink.send(topic, records);
    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: brokers });
    const metadata = await admin.metadata({ topics: [topic] }).finally(() => admin.close());
    assert.equal(metadata.topics.get(topic)?.partitionsCount, 3);

    const consumed = await readAllRecords(topic, brokers);
    assert.equal(consumed.length, records.length);
    const byKey = new Map(consumed.map((record) => [record.key, record]));
    for (const [index, sent] of records.entries()) {
      const got = byKey.get(sent.key);
      assert.ok(got, `record ${sent.key} missing`);
      assert.deepEqual(got.headers, {
        model: 'erc20_transfers',
        version: '1',
        dataset: 'erc20_transfers',
        run: 'ns/run-a',
        batch: `${chain}/erc20_transfers/0`,
      });
      assert.deepEqual(JSON.parse(got.value), {
        block_number: (sent.value as { block_number: number }).block_number,
        log_index: index,
        value: (10n ** 30n + BigInt(index)).toString(),
      });
    }
  } finally {
    await sink.close();
  }
});

test('a batch sent twice repeats the same keys on the same partitions, so consumers can de-duplicate', async () => {
  const chain = uniqueChain();
  const topic = sinkTopicName('test', chain);
  topics.push(topic);
  const first = new KafkaSink({ brokers, clientId: 'test-sink-a', logger: quietLogger() });
  const second = new KafkaSink({ brokers, clientId: 'test-sink-b', logger: quietLogger() });
  try {
    const records = transferRecords(chain, [100, 101, 102, 103, 104, 105], 'ns/run-b');
    // Two sinks ensuring the same topic at once: the loser of the race must not fail.
    await Promise.all([first.ensureTopic(topic), second.ensureTopic(topic)]);
    await first.send(topic, records);
    await second.send(topic, records);
    const consumed = await readAllRecords(topic, brokers);
    assert.equal(consumed.length, 12);
    const keys = new Set(consumed.map((record) => record.key));
    assert.deepEqual([...keys].sort(), records.map((record) => record.key).sort());
    for (const key of keys) {
      const partitions = new Set(
        consumed.filter((record) => record.key === key).map((record) => record.partition),
      );
      assert.equal(partitions.size, 1, `key ${key} landed on partitions ${[...partitions].join(',')}`);
    }
  } finally {
    await first.close();
    await second.close();
  }
});

test('a sink pointed at a closed port fails the send with an error instead of hanging', async () => {
  const sink = new KafkaSink({
    brokers: ['127.0.0.1:1'],
    clientId: 'test-sink-down',
    logger: quietLogger(),
    requestTimeoutMs: 1_000,
    retries: 1,
  });
  try {
    await assert.rejects(
      sink.send(sinkTopicName('test', uniqueChain()), transferRecords('local', [1], 'ns/run-c')),
    );
  } finally {
    await sink.close();
  }
});

test('the sink refuses a topic name admission would refuse, internal topics included', async () => {
  const sink = new KafkaSink({ brokers, clientId: 'test-sink-names', logger: quietLogger() });
  try {
    await assert.rejects(sink.send('__consumer_offsets', []), /topic name "__consumer_offsets" must be/);
    await assert.rejects(sink.send('prod.ethereum', []), /topic name "prod.ethereum" must be/);
    await assert.rejects(sink.send('Prod-ethereum-sink', []), /topic name "Prod-ethereum-sink" must be/);
  } finally {
    await sink.close();
  }
});

test('batches sent at the same time by one sink (a worker with concurrency > 1) all arrive', async () => {
  const chain = uniqueChain();
  const topic = sinkTopicName('test', chain);
  topics.push(topic);
  const sink = new KafkaSink({
    brokers,
    clientId: 'test-sink-concurrent',
    logger: quietLogger(),
    chunkSize: 50,
  });
  try {
    const batches = [0, 1, 2, 3].map((b) =>
      transferRecords(
        chain,
        Array.from({ length: 200 }, (_, i) => b * 1000 + i),
        `ns/run-${b}`,
      ),
    );
    await Promise.all(batches.map((records) => sink.send(topic, records)));
    const consumed = await readAllRecords(topic, brokers);
    assert.deepEqual(
      consumed.map((record) => record.key).sort(),
      batches
        .flat()
        .map((record) => record.key)
        .sort(),
    );
  } finally {
    await sink.close();
  }
});
