// Queue mode: what the worker does with one delivery. Every path ends in a settlement, and a
// message is acked only once its fate is safe elsewhere: the batch committed (markers written),
// or a copy confirmed on a retry tier or the dead-letter queue. If that copy cannot be
// published, the delivery goes back to its queue instead (at-least-once, never at-most-once).
import type { Logger } from 'pino';
import { parseBatchMessage, type BatchMessage } from '../contract/batchMessage.ts';
import type { Delivery, DeliveryHandler, Settlement } from '../adapters/rabbitmq/consumer.ts';
import type { RabbitPublisher } from '../adapters/rabbitmq/publisher.ts';
import { parseWorkQueueName } from '../contract/queues.ts';
import { afterFailure } from '../contract/retryPolicy.ts';
import {
  attemptBatch,
  batchLogFields,
  recordBatchFact,
  recordFailedForGood,
  type AttemptDeps,
} from './batchAttempt.ts';

export interface QueueDeliveryDeps extends AttemptDeps {
  publisher: Pick<RabbitPublisher, 'publishRetry' | 'publishDeadLetter'>;
  retryDelaysMs: readonly number[];
}

/** A lane queue carries one chain's batches; ad-hoc lanes (`backfill_N`) carry any chain. */
export function misrouting(queue: string, message: BatchMessage): string | undefined {
  const parsed = parseWorkQueueName(queue);
  if (parsed?.kind === 'lane' && parsed.chain !== message.chain) {
    return `batch of chain ${message.chain} on queue ${queue}, which carries chain ${parsed.chain}`;
  }
  return undefined;
}

async function deadLetter(
  deps: QueueDeliveryDeps,
  logger: Logger,
  delivery: Delivery,
  details: { reason: string; error: string; attempt?: number },
  message: BatchMessage | undefined,
): Promise<Settlement> {
  try {
    await deps.publisher.publishDeadLetter(delivery.queue, delivery.body, {
      ...details,
      workerName: deps.workerName,
    });
  } catch (error) {
    logger.error({ err: (error as Error).message }, 'could not dead-letter; handing the delivery back');
    return 'requeue';
  }
  if (message) {
    // The DLQ holds the batch either way; the run's failed list is where the operator shows it.
    await recordFailedForGood(deps, logger, message, `${details.reason}: ${details.error}`, details.attempt);
  }
  logger.error({ reason: details.reason, err: details.error }, 'batch dead-lettered');
  return 'ack';
}

/** A Redis outage must not drop work: when the flag cannot be read, the batch is worked. */
async function isRunCancelled(
  deps: QueueDeliveryDeps,
  logger: Logger,
  message: BatchMessage,
): Promise<boolean> {
  try {
    return await deps.progress.isCancelled(message.runId.uid);
  } catch (error) {
    logger.warn(
      { err: (error as Error).message },
      'could not read whether the run is cancelled; working the batch',
    );
    return false;
  }
}

export function createDeliveryHandler(deps: QueueDeliveryDeps): DeliveryHandler {
  return async (delivery, signal) => {
    const parsed = parseBatchMessage(delivery.body);
    if (!parsed.ok) {
      const logger = deps.logger.child({ queue: delivery.queue });
      deps.metrics.batchFailures.inc({ model: 'unknown', chain: 'unknown', reason: 'malformed' });
      return deadLetter(deps, logger, delivery, { reason: 'malformed', error: parsed.reason }, undefined);
    }
    const message = parsed.message;
    const logger = deps.logger.child({ queue: delivery.queue, ...batchLogFields(message) });
    const now = deps.clock();
    const waited = Math.max(0, now.getTime() - Date.parse(message.enqueuedAt)) / 1000;
    deps.metrics.timeInQueue.observe({ queue: delivery.queue }, waited);
    if (delivery.redelivered) logger.info({ deliveryCount: delivery.deliveryCount }, 'redelivered batch');

    const wrongQueue = misrouting(delivery.queue, message);
    if (wrongQueue) {
      deps.metrics.batchFailures.inc({ model: message.model, chain: message.chain, reason: 'misrouted' });
      return deadLetter(
        deps,
        logger,
        delivery,
        { reason: 'misrouted', error: wrongQueue, attempt: message.attempt },
        message,
      );
    }

    if (await isRunCancelled(deps, logger, message)) {
      // The ModelRun was deleted or ended: its batches left on a shared queue are not worked.
      deps.metrics.batches.inc({ model: message.model, chain: message.chain, result: 'cancelled' });
      logger.info('run cancelled; batch dropped');
      return 'ack';
    }

    const result = await attemptBatch(message, signal, {
      ...deps,
      logger: deps.logger.child({ queue: delivery.queue }),
    });
    if (result.kind === 'done') return 'ack';
    if (result.kind === 'interrupted') {
      deps.metrics.batches.inc({ model: message.model, chain: message.chain, result: 'requeued' });
      return 'requeue';
    }

    const { failure } = result;
    const next = afterFailure(
      message.attempt,
      message.maxRetriesPerBatch,
      failure.retryable,
      deps.retryDelaysMs,
    );
    if (next.kind === 'deadLetter') {
      const error =
        next.reason === 'retriesExhausted'
          ? `gave up after ${message.attempt} attempts: ${failure.message}`
          : `not retryable: ${failure.message}`;
      return deadLetter(
        deps,
        logger,
        delivery,
        { reason: failure.reason, error, attempt: message.attempt },
        message,
      );
    }
    const retry: BatchMessage = {
      ...message,
      attempt: next.nextAttempt,
      // When it becomes ready on the work queue again: time in queue then excludes the wait.
      enqueuedAt: new Date(now.getTime() + next.delayMs).toISOString(),
    };
    try {
      await deps.publisher.publishRetry(
        delivery.queue,
        next.delayMs,
        retry,
        `${failure.reason}: ${failure.message}`,
      );
    } catch (error) {
      logger.error(
        { err: (error as Error).message },
        'could not schedule the retry; handing the delivery back',
      );
      return 'requeue';
    }
    deps.metrics.batches.inc({ model: message.model, chain: message.chain, result: 'retried' });
    await deps.progress
      .recordRetry(message.runId.uid, deps.clock())
      .catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'could not count the retry'));
    await recordBatchFact(deps, logger, message, {
      state: 'retrying',
      error: `${failure.reason}: ${failure.message}`,
    });
    logger.warn(
      { nextAttempt: next.nextAttempt, delayMs: next.delayMs, reason: failure.reason },
      'batch retry scheduled',
    );
    return 'ack';
  };
}
