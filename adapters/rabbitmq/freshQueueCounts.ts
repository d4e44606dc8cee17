// Ready messages and consumers of work queues as the broker holds them now, by passive declare
// (AMQP checkQueue) over the process's one shared connection: exact and immediate where the
// management API shows a publish seconds late, but blind to unacked messages (queueDepth.ts).
//
// One long-lived channel serves every read, one declare at a time. A declare of a queue that does
// not exist makes the broker close the channel (404): that queue reads as null and the next
// declare opens a new channel. While the connection is down a read fails at once instead of
// waiting for the reconnect, so a caller falls back to other figures; every wait has a deadline.
import type { Channel } from 'amqplib';
import type { Logger } from 'pino';
import { assertWorkQueueName } from '../../contract/queues.ts';
import type { RabbitConnection } from './connection.ts';

export interface FreshQueueCounts {
  ready: number;
  consumers: number;
}

/** AMQP reply code of a passive declare of a queue that does not exist. */
const NOT_FOUND = 404;
const DEFAULT_TIMEOUT_MS = 2_000;

export class FreshQueueCountsUnavailable extends Error {
  override name = 'FreshQueueCountsUnavailable';
}

function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new FreshQueueCountsUnavailable(`${what}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export class FreshQueueCountReader {
  readonly #connection: RabbitConnection;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  #channel: Promise<Channel> | undefined;
  /** The reads in order: one declare at a time on the one channel. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(connection: RabbitConnection, logger: Logger, options: { timeoutMs?: number } = {}) {
    this.#connection = connection;
    this.#logger = logger;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // A channel of a lost connection is dead: the next read opens one on the new connection.
    connection.on('disconnect', () => this.#dropChannel());
  }

  /** Each queue's counts, or null when the broker does not have it. Throws when the broker cannot be asked. */
  read(queues: readonly string[]): Promise<Map<string, FreshQueueCounts | null>> {
    for (const queue of queues) assertWorkQueueName(queue);
    const reading = this.#tail.then(() => this.#readInTurn(queues));
    this.#tail = reading.catch(() => undefined);
    return reading;
  }

  async #readInTurn(queues: readonly string[]): Promise<Map<string, FreshQueueCounts | null>> {
    const counts = new Map<string, FreshQueueCounts | null>();
    for (const queue of queues) {
      if (!this.#connection.isConnected) {
        throw new FreshQueueCountsUnavailable('the AMQP connection is down (reconnecting)');
      }
      const channel = await this.#openChannel();
      try {
        const checked = await withDeadline(
          channel.checkQueue(queue),
          this.#timeoutMs,
          `passive declare of ${queue}`,
        );
        counts.set(queue, { ready: checked.messageCount, consumers: checked.consumerCount });
      } catch (error) {
        // The broker closed the channel (404 or another refusal), or it hangs: either way it is done.
        this.#dropChannel();
        if ((error as { code?: unknown }).code === NOT_FOUND) counts.set(queue, null);
        else throw error;
      }
    }
    return counts;
  }

  #openChannel(): Promise<Channel> {
    if (!this.#channel) {
      const opening = this.#connection.createChannel().then((channel) => {
        // The broker's close of a channel (a 404 included) is emitted as an error: expected here.
        channel.on('error', (error: Error) =>
          this.#logger.debug({ err: error.message }, 'queue count channel closed by the broker'),
        );
        channel.on('close', () => {
          if (this.#channel === opening) this.#channel = undefined;
        });
        // Opened after the read gave up on it: nobody will use it.
        if (this.#channel !== opening) void channel.close().catch(() => undefined);
        return channel;
      });
      opening.catch(() => {
        if (this.#channel === opening) this.#channel = undefined;
      });
      this.#channel = opening;
    }
    return withDeadline(this.#channel, this.#timeoutMs, 'opening a channel').catch((error: unknown) => {
      this.#dropChannel();
      throw error;
    });
  }

  #dropChannel(): void {
    const channel = this.#channel;
    this.#channel = undefined;
    void channel?.then((open) => open.close()).catch(() => undefined);
  }

  /** Closes the channel; the connection belongs to its owner. */
  async close(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.then((open) => open.close()).catch(() => undefined);
  }
}
