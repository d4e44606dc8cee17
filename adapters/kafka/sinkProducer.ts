// The Kafka sink: model rows go to `<env>-<chain>-sink` with a stable key and provenance headers.
// An idempotent producer with acks=all, so broker-side retries never duplicate a record; what
// can still repeat is a whole batch (redelivery after a crash), which the stable key covers.
// Topics are created here with explicit settings rather than by the broker's auto-create.
//
// Client: @platformatic/kafka (maintained, pure JS; faster than kafkajs on the stack's broker,
// see docs/worker.md and bench/kafka-producer.ts).
import { Admin, Producer, stringSerializers, type MessageToProduce } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { TOPIC_NAME, requireName } from '../../contract/names.ts';
import { encodeSinkValue } from './sinkNames.ts';

export { parseBrokers } from './brokers.ts';

export interface SinkRecord {
  key: string;
  value: unknown;
  headers: Record<string, string>;
}

export interface KafkaSinkOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Partitions of a topic this sink creates (an existing topic is left as it is). */
  partitions?: number;
  replicationFactor?: number;
  /** Records per produce request. */
  chunkSize?: number;
  /** Per-request timeout and retry budget: a dead broker fails a batch in seconds, not minutes. */
  requestTimeoutMs?: number;
  retries?: number;
}

/**
 * The client's errors nest (MultipleErrors of NetworkErrors with causes); a log line needs
 * the innermost reasons, e.g. "metadata failed 2 times (connect ECONNREFUSED 127.0.0.1:1)".
 */
export function describeKafkaError(error: unknown): string {
  const reasons = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (!(value instanceof Error) || depth > 4) return;
    const nested = [...((value as { errors?: unknown[] }).errors ?? []), value.cause].filter(Boolean);
    if (nested.length === 0 && depth > 0) reasons.add(value.message);
    for (const inner of nested) visit(inner, depth + 1);
  };
  visit(error, 0);
  const message = error instanceof Error ? error.message : String(error);
  return reasons.size > 0 ? `${message} (${[...reasons].slice(0, 3).join('; ')})` : message;
}

export class KafkaSink {
  readonly #options: Required<Omit<KafkaSinkOptions, 'logger'>> & { logger: Logger };
  readonly #producer: Producer<string, string, string, string>;
  readonly #ensuredTopics = new Set<string>();
  #closed = false;
  /** Settles when the send in progress (if any) is done; sends run one after another. */
  #sending: Promise<void> = Promise.resolve();

  constructor(options: KafkaSinkOptions) {
    this.#options = {
      partitions: 3,
      replicationFactor: 1,
      chunkSize: 1_000,
      requestTimeoutMs: 10_000,
      retries: 3,
      ...options,
    };
    this.#producer = new Producer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      timeout: this.#options.requestTimeoutMs,
      requestTimeout: this.#options.requestTimeoutMs,
      retries: this.#options.retries,
      retryDelay: 500,
    });
  }

  /** Creates the topic if it is missing; a concurrent creator winning the race is fine. */
  async ensureTopic(topic: string): Promise<void> {
    requireName(TOPIC_NAME, topic);
    if (this.#ensuredTopics.has(topic)) return;
    const admin = new Admin({
      clientId: `${this.#options.clientId}-admin`,
      bootstrapBrokers: this.#options.brokers,
      timeout: this.#options.requestTimeoutMs,
      retries: this.#options.retries,
    });
    try {
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) {
        try {
          await admin.createTopics({
            topics: [topic],
            partitions: this.#options.partitions,
            replicas: this.#options.replicationFactor,
          });
          this.#options.logger.info({ topic, partitions: this.#options.partitions }, 'created sink topic');
        } catch (error) {
          const alreadyExists = (error as { findBy?: (p: string, v: unknown) => unknown }).findBy?.(
            'apiId',
            'TOPIC_ALREADY_EXISTS',
          );
          if (!alreadyExists) throw error;
        }
      }
      this.#ensuredTopics.add(topic);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  /** Produces every record (in chunks) and resolves once all are acknowledged by all in-sync replicas. */
  async send(topic: string, records: readonly SinkRecord[]): Promise<void> {
    if (this.#closed) throw new Error('the Kafka sink is closed');
    // One send at a time per producer: concurrent sends of an idempotent producer to the same
    // partition were seen to reach the broker out of order (OUT_OF_ORDER_SEQUENCE_NUMBER,
    // with a worker running two batches at once), failing a batch for nothing.
    const previous = this.#sending;
    let release!: () => void;
    this.#sending = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      await this.#send(topic, records);
    } catch (error) {
      throw new Error(describeKafkaError(error), { cause: error });
    } finally {
      release();
    }
  }

  async #send(topic: string, records: readonly SinkRecord[]): Promise<void> {
    await this.ensureTopic(topic);
    for (let start = 0; start < records.length; start += this.#options.chunkSize) {
      const messages: MessageToProduce<string, string, string, string>[] = records
        .slice(start, start + this.#options.chunkSize)
        .map((record) => ({
          topic,
          key: record.key,
          value: encodeSinkValue(record.value),
          headers: record.headers,
        }));
      await this.#producer.send({ messages });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#producer.close().catch(() => undefined);
  }
}
