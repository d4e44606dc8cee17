// One AMQP connection per process, shared by every channel (KEDA's RabbitMQ scaler leaked one
// connection per poll; we open exactly one and close it on the way out). amqplib's recovery
// reconnects with capped, jittered backoff; users of channels listen for `connect` to re-attach.
import { EventEmitter } from 'node:events';
import amqp from 'amqplib';
import type { Channel, ConfirmChannel, RecoveringChannelModel } from 'amqplib';
import { redactUrl } from '../redactUrl.ts';
import type { Logger } from 'pino';

export interface RabbitConnectionOptions {
  url: string;
  /** Shown in the management UI's connection list (e.g. the pod name). */
  connectionName: string;
  logger: Logger;
  /** Attempts before the first connection succeeds; after that, recovery retries forever. */
  initialConnectRetries?: number;
  heartbeatSeconds?: number;
}

/**
 * Events: `connect` after each (re)connection, `disconnect` when it drops, `failed` when recovery
 * gave up (only possible before the first connection, see initialConnectRetries).
 */
export class RabbitConnection extends EventEmitter {
  readonly #model: RecoveringChannelModel;
  readonly #logger: Logger;
  #closed = false;
  #connected = false;

  private constructor(model: RecoveringChannelModel, logger: Logger) {
    super();
    this.#model = model;
    this.#logger = logger;
    model.on('connect', () => {
      this.#connected = true;
      logger.info('rabbitmq connected');
      this.emit('connect');
    });
    model.on('disconnect', (error: Error) => {
      this.#connected = false;
      logger.warn({ err: error.message }, 'rabbitmq connection lost; reconnecting');
      this.emit('disconnect', error);
    });
    model.on('reconnect-scheduled', (info: { attempt: number; delay: number; error: Error }) => {
      logger.warn(
        { attempt: info.attempt, delayMs: info.delay, err: info.error.message },
        'rabbitmq reconnect scheduled',
      );
    });
    model.on('reconnect-failed', (error: Error) => {
      logger.error({ err: error.message }, 'rabbitmq reconnect gave up');
      this.emit('failed', error);
    });
    // Connection-level errors are followed by `disconnect`; listening here keeps them from being thrown.
    model.on('error', (error: Error) => logger.warn({ err: error.message }, 'rabbitmq connection error'));
  }

  static async open(options: RabbitConnectionOptions): Promise<RabbitConnection> {
    const url = new URL(options.url);
    if (!url.searchParams.has('heartbeat'))
      url.searchParams.set('heartbeat', String(options.heartbeatSeconds ?? 30));
    const model = await amqp.connect(url.toString(), {
      clientProperties: { connection_name: options.connectionName },
      recovery: {
        initialDelay: 250,
        maxDelay: 15_000,
        factor: 2,
        jitter: 0.2,
        initialMaxRetries: options.initialConnectRetries ?? 5,
        waitForConnect: false,
      },
    });
    const connection = new RabbitConnection(model, options.logger);
    options.logger.info({ url: redactUrl(options.url) }, 'rabbitmq connecting');
    await model.waitForConnect();
    return connection;
  }

  get isConnected(): boolean {
    return this.#connected && !this.#closed;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Waits for a live connection (during a reconnect this resolves after it). */
  createChannel(): Promise<Channel> {
    return this.#model.createChannel();
  }

  createConfirmChannel(): Promise<ConfirmChannel> {
    return this.#model.createConfirmChannel();
  }

  /** Runs `work` on a short-lived channel and always closes it, so topology calls cannot leak channels. */
  async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.createChannel();
    // A failed operation closes the channel from the broker's side; keep that from being thrown.
    channel.on('error', (error: Error) =>
      this.#logger.debug({ err: error.message }, 'rabbitmq channel error'),
    );
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected = false;
    await this.#model.close();
    this.#logger.info('rabbitmq connection closed');
  }
}
