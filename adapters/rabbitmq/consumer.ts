// Consumes work queues with a prefetch and a bound on how many deliveries run at once. A delivery
// is settled on the channel it came from; if that channel died meanwhile, the broker has already
// put the message back, so there is nothing to settle (the batch's effects are idempotent).
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { RabbitConnection } from './connection.ts';
import { assertWorkQueueName } from '../../contract/queues.ts';

/** How long aborted handlers get to settle their deliveries before the channel closes. */
const ABORT_SETTLE_MS = 2_000;

/** True when `work` settles (either way) within `ms`, false when the time runs out first. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Delivery {
  queue: string;
  body: Buffer;
  redelivered: boolean;
  /** Set by quorum queues on redelivery: how many times the broker handed this message out before. */
  deliveryCount: number;
  headers: Record<string, unknown>;
}

/** `ack`: done (or handed on by the handler); `requeue`: give it back for another worker; `reject`: broker dead-letters it. */
export type Settlement = 'ack' | 'requeue' | 'reject';

export type DeliveryHandler = (delivery: Delivery, signal: AbortSignal) => Promise<Settlement>;

export interface RabbitConsumerOptions {
  queues: string[];
  /** Unacked deliveries the broker may push per queue (quorum queues have no channel-wide prefetch). */
  prefetch: number;
  /** Deliveries worked on at once, across all queues. */
  concurrency: number;
  logger: Logger;
}

interface Pending {
  delivery: Delivery;
  message: ConsumeMessage;
  channel: Channel;
}

export class RabbitConsumer {
  readonly #connection: RabbitConnection;
  readonly #options: RabbitConsumerOptions;
  readonly #logger: Logger;
  #handler: DeliveryHandler | undefined;
  #channel: Channel | undefined;
  #consumerTags: string[] = [];
  #stopping = false;
  #attaching: Promise<void> | undefined;
  readonly #waiting: Pending[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #onReconnect = () => this.#scheduleAttach(0);

  constructor(connection: RabbitConnection, options: RabbitConsumerOptions) {
    options.queues.forEach(assertWorkQueueName);
    if (options.queues.length === 0) throw new Error('no queues to consume');
    if (!Number.isSafeInteger(options.prefetch) || options.prefetch < 1)
      throw new Error('prefetch must be ≥ 1');
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error('concurrency must be ≥ 1');
    }
    this.#connection = connection;
    this.#options = options;
    this.#logger = options.logger;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  async start(handler: DeliveryHandler): Promise<void> {
    this.#handler = handler;
    this.#connection.on('connect', this.#onReconnect);
    await this.#attach();
  }

  #scheduleAttach(delayMs: number): void {
    if (this.#stopping || this.#attaching) return;
    const timer = setTimeout(() => {
      this.#attach().catch((error: unknown) => {
        this.#logger.warn({ err: (error as Error).message }, 'consumer attach failed; retrying');
        this.#scheduleAttach(Math.min(Math.max(delayMs * 2, 500), 15_000));
      });
    }, delayMs);
    timer.unref();
  }

  async #attach(): Promise<void> {
    if (this.#attaching) return this.#attaching;
    this.#attaching = (async () => {
      if (this.#stopping || this.#channel) return;
      const channel = await this.#connection.createChannel();
      channel.on('error', (error: Error) =>
        this.#logger.warn({ err: error.message }, 'consumer channel error'),
      );
      channel.on('close', () => {
        if (this.#channel !== channel) return;
        this.#channel = undefined;
        this.#consumerTags = [];
        // Deliveries still waiting for a slot were requeued by the broker with the channel.
        this.#dropWaitingFrom(channel);
        if (!this.#stopping && this.#connection.isConnected) this.#scheduleAttach(500);
      });
      await channel.prefetch(this.#options.prefetch, false);
      this.#channel = channel;
      for (const queue of this.#options.queues) {
        const reply = await channel.consume(queue, (message) => this.#onMessage(queue, channel, message), {
          noAck: false,
        });
        this.#consumerTags.push(reply.consumerTag);
      }
      this.#logger.info({ queues: this.#options.queues, prefetch: this.#options.prefetch }, 'consuming');
    })().finally(() => {
      this.#attaching = undefined;
    });
    return this.#attaching;
  }

  #dropWaitingFrom(channel: Channel): void {
    for (let i = this.#waiting.length - 1; i >= 0; i -= 1) {
      if (this.#waiting[i]!.channel === channel) this.#waiting.splice(i, 1);
    }
  }

  #onMessage(queue: string, channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): re-attach, which fails loudly if it stays gone.
      this.#logger.warn({ queue }, 'consumer cancelled by the broker');
      if (!this.#stopping) channel.close().catch(() => undefined);
      return;
    }
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const deliveryCount = Number(headers['x-delivery-count'] ?? 0);
    const pending: Pending = {
      delivery: {
        queue,
        body: message.content,
        redelivered: message.fields.redelivered,
        deliveryCount: Number.isFinite(deliveryCount) ? deliveryCount : 0,
        headers,
      },
      message,
      channel,
    };
    if (this.#stopping) {
      this.#settle(pending, 'requeue');
      return;
    }
    this.#waiting.push(pending);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopping && this.#inFlight.size < this.#options.concurrency && this.#waiting.length > 0) {
      const pending = this.#waiting.shift()!;
      const work: Promise<void> = this.#run(pending).finally(() => {
        this.#inFlight.delete(work);
        this.#pump();
      });
      this.#inFlight.add(work);
    }
  }

  async #run(pending: Pending): Promise<void> {
    let settlement: Settlement;
    try {
      settlement = await this.#handler!(pending.delivery, this.#abort.signal);
    } catch (error) {
      // A handler is expected to decide; one that throws gets its message back for another try.
      this.#logger.error({ err: (error as Error).message, queue: pending.delivery.queue }, 'handler threw');
      settlement = 'requeue';
    }
    this.#settle(pending, settlement);
  }

  #settle(pending: Pending, settlement: Settlement): void {
    if (pending.channel !== this.#channel) {
      this.#logger.info(
        { queue: pending.delivery.queue, settlement },
        'channel gone; the broker requeued the delivery',
      );
      return;
    }
    try {
      if (settlement === 'ack') pending.channel.ack(pending.message);
      else pending.channel.nack(pending.message, false, settlement === 'requeue');
    } catch (error) {
      this.#logger.warn({ err: (error as Error).message }, 'could not settle delivery');
    }
  }

  /**
   * Stops taking work, hands back what has not started, gives in-flight deliveries until
   * `graceMs` after the call to finish, then aborts them; closing the channel returns anything
   * still unacked to the queue. The grace counts from the call whatever the broker does: a
   * cancel or close that never comes back (a broker that stopped answering) cannot eat into it,
   * so the worker is done before its pod's terminationGracePeriodSeconds runs out.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const graceEndsAt = Date.now() + graceMs;
    this.#connection.off('connect', this.#onReconnect);
    const channel = this.#channel;
    if (channel) {
      const cancels = this.#consumerTags.map((tag) => channel.cancel(tag));
      if (!(await settlesWithin(Promise.allSettled(cancels), graceMs))) {
        this.#logger.warn('the broker did not confirm the consumer cancel; stopping anyway');
      }
    }
    for (const pending of this.#waiting.splice(0)) this.#settle(pending, 'requeue');
    if (this.#inFlight.size > 0) {
      const remainingMs = Math.max(0, graceEndsAt - Date.now());
      this.#logger.info(
        { inFlight: this.#inFlight.size, graceMs: remainingMs },
        'waiting for in-flight batches',
      );
      if (!(await settlesWithin(Promise.allSettled([...this.#inFlight]), remainingMs))) {
        this.#logger.warn(
          { inFlight: this.#inFlight.size },
          'grace period over; handing in-flight batches back',
        );
        this.#abort.abort(new Error('worker shutting down'));
        // Aborted handlers hand their deliveries back themselves (and say so); one that
        // ignores the signal is cut off by the channel close below.
        await settlesWithin(Promise.allSettled([...this.#inFlight]), ABORT_SETTLE_MS);
      }
    }
    this.#channel = undefined;
    // Unacked deliveries (aborted in-flight work) go back to their queues when the channel closes.
    if (channel) await settlesWithin(channel.close(), ABORT_SETTLE_MS);
  }
}
