// Publishing with publisher confirms: a promise resolves only once the broker has taken
// responsibility for the message (persisted for durable queues). Every publish is `mandatory`,
// so a message nobody can route (a queue that does not exist) fails loudly instead of vanishing.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { ConfirmChannel, Message } from 'amqplib';
import type { Logger } from 'pino';
import type { RabbitConnection } from './connection.ts';
import { encodeBatchMessage, type BatchMessage } from '../../contract/batchMessage.ts';
import { DEAD_LETTER_EXCHANGE } from './topology.ts';
import { assertWorkQueueName, retryQueueName } from '../../contract/queues.ts';

export type HeaderValue = string | number | boolean;

export interface PublishOptions {
  headers?: Record<string, HeaderValue>;
  /** Default: a random id. A deterministic one lets a consumer tell a re-sent message. */
  messageId?: string;
}

/** Headers the worker sets on a dead-lettered batch: what the operator and a person see in the DLQ. */
export interface DeadLetterDetails {
  reason: string;
  error: string;
  attempt?: number;
  workerName: string;
}

/** Longest error text kept in a header (headers travel with every copy of the message). */
export const MAX_ERROR_HEADER_CHARS = 4_000;

export class RabbitPublisher {
  readonly #connection: RabbitConnection;
  readonly #logger: Logger;
  #channel: Promise<ConfirmChannel> | undefined;
  readonly #returned = new Set<string>();

  constructor(connection: RabbitConnection, logger: Logger) {
    this.#connection = connection;
    this.#logger = logger;
  }

  #confirmChannel(): Promise<ConfirmChannel> {
    if (!this.#channel) {
      const opening = this.#connection.createConfirmChannel().then((channel) => {
        channel.on('error', (error: Error) =>
          this.#logger.warn({ err: error.message }, 'publisher channel error'),
        );
        channel.on('close', () => {
          if (this.#channel === opening) this.#channel = undefined;
        });
        // basic.return arrives before the confirm of the same message: remember it for the callback.
        channel.on('return', (message: Message) => {
          const id = message.properties.messageId as string | undefined;
          if (id) this.#returned.add(id);
        });
        return channel;
      });
      opening.catch(() => {
        if (this.#channel === opening) this.#channel = undefined;
      });
      this.#channel = opening;
    }
    return this.#channel;
  }

  /** Publishes and waits for the broker's confirm; rejects on nack, on an unroutable message, or on channel loss. */
  async publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: PublishOptions = {},
  ): Promise<void> {
    const channel = await this.#confirmChannel();
    const messageId = options.messageId ?? randomUUID();
    const confirmed = new Promise<void>((resolve, reject) => {
      const accepted = channel.publish(
        exchange,
        routingKey,
        body,
        {
          persistent: true,
          mandatory: true,
          contentType: 'application/json',
          messageId,
          timestamp: Math.floor(Date.now() / 1000),
          headers: options.headers ?? {},
        },
        (error: unknown) => {
          const wasReturned = this.#returned.delete(messageId);
          if (error) reject(error instanceof Error ? error : new Error(`publish nacked: ${String(error)}`));
          else if (wasReturned) {
            reject(
              new Error(`unroutable: exchange ${JSON.stringify(exchange)} has no queue for ${routingKey}`),
            );
          } else resolve();
        },
      );
      if (!accepted) {
        // The socket buffer is full; the confirm still comes, but stop piling on until it drains.
        once(channel, 'drain').catch(() => undefined);
      }
    });
    await confirmed;
  }

  /**
   * Enqueues a batch on a work queue (the operator's dispatcher uses this). The message id is a
   * function of the run, the batch and the attempt, so a message re-sent after an operator
   * restart carries the id of the first.
   */
  async publishBatch(workQueue: string, message: BatchMessage): Promise<void> {
    assertWorkQueueName(workQueue);
    await this.publish('', workQueue, encodeBatchMessage(message), {
      headers: { 'batch-id': message.batchId, model: message.model, attempt: message.attempt },
      messageId: `${message.runId.uid}/${message.batchId}/${message.attempt}`,
    });
  }

  /** Parks a batch in the retry tier of `delayMs`; it comes back to `workQueue` when the TTL expires. */
  async publishRetry(
    workQueue: string,
    delayMs: number,
    message: BatchMessage,
    lastError: string,
  ): Promise<void> {
    await this.publish('', retryQueueName(workQueue, delayMs), encodeBatchMessage(message), {
      headers: {
        'batch-id': message.batchId,
        model: message.model,
        attempt: message.attempt,
        'x-last-error': lastError.slice(0, MAX_ERROR_HEADER_CHARS),
      },
    });
  }

  /** Sends the original body (valid or not) to the work queue's DLQ with the reason in headers. */
  async publishDeadLetter(workQueue: string, body: Buffer, details: DeadLetterDetails): Promise<void> {
    assertWorkQueueName(workQueue);
    const headers: Record<string, HeaderValue> = {
      'x-dead-letter-reason': details.reason,
      'x-error': details.error.slice(0, MAX_ERROR_HEADER_CHARS),
      'x-failed-at': new Date().toISOString(),
      'x-worker': details.workerName,
      'x-original-queue': workQueue,
    };
    if (details.attempt !== undefined) headers['x-attempt'] = details.attempt;
    await this.publish(DEAD_LETTER_EXCHANGE, workQueue, body, { headers });
  }

  async close(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    if (channel) await (await channel.catch(() => undefined))?.close().catch(() => undefined);
  }
}
