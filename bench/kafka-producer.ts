// Produce throughput of the two pure-JS Kafka clients against the local stack's broker, measured in the
// same run with the same records and the settings the worker's sink uses (idempotent, acks=all).
// Run: node bench/kafka-producer.ts [records=100000] [chunk=1000] [rounds=3]
// Prints records/s per client and round, then the median per client. Not a test: numbers, no assertions.
import { randomBytes } from 'node:crypto';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { stackEnv } from '../devtools/stackEnv.ts';

interface BenchRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

const totalRecords = Number(process.argv[2] ?? 100_000);
const chunkSize = Number(process.argv[3] ?? 1_000);
const rounds = Number(process.argv[4] ?? 3);
const brokers = stackEnv().KAFKA_BROKERS.split(',');

/** ERC-20 transfer rows shaped like the sink's: a stable key and a ~300-byte JSON value. */
function makeRecords(count: number): BenchRecord[] {
  const records: BenchRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const block = 1_000_000 + Math.floor(i / 10);
    records.push({
      key: `erc20_transfers:erc20_transfers:ethereum:${block}:${i % 10}`,
      value: JSON.stringify({
        block_number: block,
        log_index: i % 10,
        token_address: `0x${randomBytes(20).toString('hex')}`,
        from_address: `0x${randomBytes(20).toString('hex')}`,
        to_address: `0x${randomBytes(20).toString('hex')}`,
        value: String(BigInt(i) * 10n ** 18n),
        transaction_hash: `0x${randomBytes(32).toString('hex')}`,
        block_timestamp: '2024-10-01 00:00:00',
      }),
      headers: { model: 'erc20_transfers', version: '1', run: 'bench/run', batch: `ethereum/bench/${block}` },
    });
  }
  return records;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function createTopic(topic: string): Promise<void> {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers });
  try {
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  } finally {
    await admin.close();
  }
}

async function deleteTopic(topic: string): Promise<void> {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers });
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.close();
  }
}

async function benchPlatformatic(topic: string, records: BenchRecord[]): Promise<number> {
  const producer = new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
  });
  try {
    // The first send pays for the connection and the producer id; keep it out of the timing.
    await producer.send({ messages: [{ topic, key: 'warmup', value: 'warmup' }] });
    const started = performance.now();
    for (const chunk of chunks(records, chunkSize)) {
      await producer.send({
        messages: chunk.map((record) => ({
          topic,
          key: record.key,
          value: record.value,
          headers: record.headers,
        })),
      });
    }
    return records.length / ((performance.now() - started) / 1000);
  } finally {
    await producer.close();
  }
}

async function benchKafkajs(topic: string, records: BenchRecord[]): Promise<number> {
  const kafka = new kafkajs.Kafka({
    clientId: 'bench-kafkajs',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: 'warmup', value: 'warmup' }] });
    const started = performance.now();
    for (const chunk of chunks(records, chunkSize)) {
      await producer.send({ topic, acks: -1, messages: chunk });
    }
    return records.length / ((performance.now() - started) / 1000);
  } finally {
    await producer.disconnect();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const records = makeRecords(totalRecords);
const results: Record<string, number[]> = { '@platformatic/kafka': [], kafkajs: [] };
const topic = `bench-kafka-producer-${randomBytes(4).toString('hex')}`;
await createTopic(topic);
try {
  console.log(`records=${totalRecords} chunk=${chunkSize} rounds=${rounds} brokers=${brokers.join(',')}`);
  // Alternate the clients so neither benefits from a warmer broker.
  for (let round = 1; round <= rounds; round += 1) {
    const platformatic = await benchPlatformatic(topic, records);
    results['@platformatic/kafka']!.push(platformatic);
    const kafkaJs = await benchKafkajs(topic, records);
    results.kafkajs!.push(kafkaJs);
    console.log(
      `round ${round}: @platformatic/kafka ${Math.round(platformatic)} records/s, kafkajs ${Math.round(kafkaJs)} records/s`,
    );
  }
  for (const [client, values] of Object.entries(results)) {
    console.log(`median ${client}: ${Math.round(median(values))} records/s`);
  }
} finally {
  await deleteTopic(topic);
}
