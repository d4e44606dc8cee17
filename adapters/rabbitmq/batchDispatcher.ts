// The operator's side of the work queues: make sure a queue and its retry and dead-letter
// queues exist, send a run's batches with publisher confirms, and count a queue's consumers.
// One connection and one confirm channel for every run (the operator never opens one per
// run or per reconcile); topology calls use short-lived channels that are always closed.
import type { Logger } from 'pino';
import type { BatchMessage } from '../../contract/batchMessage.ts';
import { DEFAULT_RETRY_DELAYS_MS } from '../../contract/retryPolicy.ts';
import type { RabbitConnection } from './connection.ts';
import { RabbitPublisher } from './publisher.ts';
import { assertWorkQueueTopology } from './topology.ts';

/** Confirms in flight at once when a run sends many batches. */
const PUBLISH_CONCURRENCY = 64;
/**
 * How long one consumer count serves every run on the queue. Only status shows the count, and
 * a thousand runs on one queue would otherwise open a thousand channels to read one number.
 */
const CONSUMER_COUNT_TTL_MS = 2_000;

export class BatchDispatcher {
  readonly #connection: RabbitConnection;
  readonly #publisher: RabbitPublisher;
  readonly #retryDelaysMs: readonly number[];
  readonly #declared = new Set<string>();
  readonly #consumerCounts = new Map<string, { readAt: number; count: Promise<number> }>();

  constructor(connection: RabbitConnection, logger: Logger, retryDelaysMs = DEFAULT_RETRY_DELAYS_MS) {
    this.#connection = connection;
    this.#publisher = new RabbitPublisher(connection, logger);
    this.#retryDelaysMs = retryDelaysMs;
    // After a reconnect the broker may be a new one (or restored): declare again.
    connection.on('connect', () => this.#declared.clear());
  }

  /** Declares the queue's topology once per connection (idempotent, same arguments as the workers). */
  async ensureQueue(queue: string): Promise<void> {
    if (this.#declared.has(queue)) return;
    await this.#connection.withChannel((channel) =>
      assertWorkQueueTopology(channel, queue, this.#retryDelaysMs),
    );
    this.#declared.add(queue);
  }

  /** Sends the messages and resolves once the broker has confirmed every one (rejects otherwise). */
  async send(queue: string, messages: readonly BatchMessage[]): Promise<void> {
    await this.ensureQueue(queue);
    for (let start = 0; start < messages.length; start += PUBLISH_CONCURRENCY) {
      await Promise.all(
        messages
          .slice(start, start + PUBLISH_CONCURRENCY)
          .map((message) => this.#publisher.publishBatch(queue, message)),
      );
    }
  }

  /** Consumers on the queue (a passive declare, shared by the calls of the next 2 s). */
  consumers(queue: string): Promise<number> {
    const now = Date.now();
    const cached = this.#consumerCounts.get(queue);
    if (cached && now - cached.readAt < CONSUMER_COUNT_TTL_MS) return cached.count;
    const entry = { readAt: now, count: this.#countConsumers(queue) };
    this.#consumerCounts.set(queue, entry);
    // A failed read is not remembered: the next call asks the broker again.
    entry.count.catch(() => {
      if (this.#consumerCounts.get(queue) === entry) this.#consumerCounts.delete(queue);
    });
    return entry.count;
  }

  async #countConsumers(queue: string): Promise<number> {
    await this.ensureQueue(queue);
    return this.#connection.withChannel(async (channel) => (await channel.checkQueue(queue)).consumerCount);
  }

  async close(): Promise<void> {
    await this.#publisher.close();
  }
}
