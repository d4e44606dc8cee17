// The queues behind one work queue, declared idempotently by whoever touches the queue first
// (operator or worker); every declaration carries the same arguments, so the broker never sees
// two shapes of one queue (it would refuse the second with PRECONDITION_FAILED).
//
//   <queue>                 quorum queue, durable; dead-letters to the DLX with routing key <queue>;
//                           x-delivery-limit stops a batch that crashes every worker it touches
//   <queue>.retry.<N>ms     one per retry delay: message TTL N, dead-letters back to <queue>
//   <queue>.dlq             bound to the DLX with routing key <queue>; the end of the line
import type { Channel } from 'amqplib';
import { assertRetryDelays } from '../../contract/retryPolicy.ts';
import { assertWorkQueueName, deadLetterQueueName, retryQueueName } from '../../contract/queues.ts';

/** The dead-letter exchange shared by all work queues (direct, routed by work queue name). */
export const DEAD_LETTER_EXCHANGE = 'model-runner.dlx';

/**
 * Deliveries of one message before the broker itself dead-letters it. Normal failures never get
 * near this (the worker retries through the retry queues, which publish a fresh message); only a
 * batch that kills its worker outright — or is handed back at shutdown again and again — does.
 */
export const DEFAULT_DELIVERY_LIMIT = 20;

export interface WorkQueueTopology {
  workQueue: string;
  deadLetterQueue: string;
  retryQueues: { delayMs: number; name: string }[];
}

export function workQueueTopology(workQueue: string, retryDelaysMs: readonly number[]): WorkQueueTopology {
  assertWorkQueueName(workQueue);
  assertRetryDelays(retryDelaysMs);
  return {
    workQueue,
    deadLetterQueue: deadLetterQueueName(workQueue),
    retryQueues: retryDelaysMs.map((delayMs) => ({ delayMs, name: retryQueueName(workQueue, delayMs) })),
  };
}

export async function assertWorkQueueTopology(
  channel: Channel,
  workQueue: string,
  retryDelaysMs: readonly number[],
  deliveryLimit = DEFAULT_DELIVERY_LIMIT,
): Promise<WorkQueueTopology> {
  const topology = workQueueTopology(workQueue, retryDelaysMs);
  await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
  await channel.assertQueue(topology.deadLetterQueue, {
    durable: true,
    arguments: { 'x-queue-type': 'classic' },
  });
  await channel.bindQueue(topology.deadLetterQueue, DEAD_LETTER_EXCHANGE, workQueue);
  await channel.assertQueue(workQueue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': deliveryLimit,
      'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
      'x-dead-letter-routing-key': workQueue,
    },
  });
  for (const retry of topology.retryQueues) {
    // Expired messages go through the default exchange straight back to the work queue.
    await channel.assertQueue(retry.name, {
      durable: true,
      arguments: {
        'x-queue-type': 'classic',
        'x-message-ttl': retry.delayMs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': workQueue,
      },
    });
  }
  return topology;
}

/** Removes a work queue and everything hanging off it (an operator's finalizer; tests' cleanup). */
export async function deleteWorkQueueTopology(
  channel: Channel,
  workQueue: string,
  retryDelaysMs: readonly number[],
): Promise<void> {
  const topology = workQueueTopology(workQueue, retryDelaysMs);
  for (const retry of topology.retryQueues) await channel.deleteQueue(retry.name);
  await channel.deleteQueue(topology.workQueue);
  await channel.deleteQueue(topology.deadLetterQueue);
}
