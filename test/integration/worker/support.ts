// Shared helpers of the worker's integration tests: a quiet logger, unique work queues on the
// stack's broker, and polling with a deadline (never a fixed sleep as an assertion).
import pino from 'pino';
import type { Logger } from 'pino';
import { RabbitConnection } from '../../../adapters/rabbitmq/connection.ts';
import { deleteWorkQueueTopology } from '../../../adapters/rabbitmq/topology.ts';
import { uniqueIdentifier } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';

export function quietLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** A chain name no other test uses, so its work queue `<chain>_backfill_nonreads` is ours alone. */
export function uniqueChain(): string {
  return uniqueIdentifier('w');
}

export async function openTestConnection(name: string): Promise<RabbitConnection> {
  return RabbitConnection.open({
    url: stackEnv().RABBITMQ_URL,
    connectionName: name,
    logger: quietLogger(),
    initialConnectRetries: 2,
  });
}

export async function removeQueues(
  connection: RabbitConnection,
  queues: string[],
  retryDelaysMs: readonly number[],
): Promise<void> {
  for (const queue of queues) {
    await connection
      .withChannel((channel) => deleteWorkQueueTopology(channel, queue, retryDelaysMs))
      .catch(() => undefined);
  }
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function managementApi(): { url: string; vhost: string } {
  const amqpUrl = new URL(stackEnv().RABBITMQ_URL);
  const vhost =
    amqpUrl.pathname === '' || amqpUrl.pathname === '/' ? '/' : decodeURIComponent(amqpUrl.pathname.slice(1));
  return { url: stackEnv().RABBITMQ_MANAGEMENT_URL, vhost };
}

export { management } from '../../support/rabbitManagement.ts';

export interface ConsumedRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
}

/** Every record on a topic right now: reads from the earliest offset up to each partition's end. */
export async function readAllRecords(topic: string, brokers: string[]): Promise<ConsumedRecord[]> {
  const { Consumer, stringDeserializers } = await import('@platformatic/kafka');
  const consumer = new Consumer({
    groupId: `test-reader-${Math.random().toString(16).slice(2)}`,
    clientId: 'test-reader',
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
  });
  try {
    const offsets = await consumer.listOffsets({ topics: [topic] });
    const ends = offsets.get(topic) ?? [];
    const total = ends.reduce((sum, end) => sum + Number(end), 0);
    const records: ConsumedRecord[] = [];
    if (total === 0) return records;
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'earliest',
      autocommit: false,
      maxWaitTime: 200,
    });
    const timeout = setTimeout(
      () => stream.destroy(new Error(`read only ${records.length} of ${total} records`)),
      20_000,
    );
    try {
      for await (const message of stream) {
        records.push({
          key: message.key,
          value: message.value,
          headers: Object.fromEntries(message.headers),
          partition: message.partition,
        });
        if (records.length >= total) break;
      }
    } finally {
      clearTimeout(timeout);
      await stream.close().catch(() => undefined);
    }
    return records;
  } finally {
    await consumer.close().catch(() => undefined);
  }
}

export async function deleteTopic(topic: string, brokers: string[]): Promise<void> {
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({ clientId: 'test-cleanup', bootstrapBrokers: brokers });
  try {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  } finally {
    await admin.close();
  }
}
