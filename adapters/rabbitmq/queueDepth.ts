// How much work a queue holds, for autoscaling and status. Depth counts ready AND unacked
// messages: a busy consumer's in-flight batch is still work (KEDA's scaler counted only ready
// messages and scaled busy workers away). `checkQueue` is exact for ready and consumers; unacked
// comes only from the management API, whose figures lag the broker by up to ~5 s.
import type { Channel } from 'amqplib';
import { assertWorkQueueName } from '../../contract/queues.ts';
import { workQueueTopology } from './topology.ts';

export interface QueueDepth {
  queue: string;
  /** Exact, from checkQueue. */
  ready: number;
  /** From the management API (lags ~5 s); undefined when it could not be read. */
  unacked: number | undefined;
  /** Exact, from checkQueue. */
  consumers: number;
  /** Batches parked in retry tiers: they return to the queue on their own. */
  delayed: number;
  /** ready + unacked (+0 when unacked is unknown); delayed work is reported apart. */
  depth: number;
}

export interface ManagementApi {
  /** e.g. http://guest:guest@127.0.0.1:15672 */
  url: string;
  vhost: string;
}

/** The vhost an AMQP URL names (`/` when the path is empty). */
export function vhostOfAmqpUrl(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}

/** Unacked messages of one queue, from the management API. */
export async function fetchUnacked(api: ManagementApi, queue: string): Promise<number> {
  assertWorkQueueName(queue);
  const base = new URL(api.url);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  const url = new URL(`api/queues/${encodeURIComponent(api.vhost)}/${encodeURIComponent(queue)}`, base);
  const response = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`management API ${response.status} for queue ${queue}`);
  const body = (await response.json()) as { messages_unacknowledged?: number };
  // A queue the management API has not sampled yet has no figure; that is zero, not unknown.
  return body.messages_unacknowledged ?? 0;
}

export async function queueDepth(
  channel: Channel,
  queue: string,
  retryDelaysMs: readonly number[],
  managementApi: ManagementApi | undefined,
): Promise<QueueDepth> {
  const topology = workQueueTopology(queue, retryDelaysMs);
  const checked = await channel.checkQueue(queue);
  let delayed = 0;
  for (const retry of topology.retryQueues) delayed += (await channel.checkQueue(retry.name)).messageCount;
  let unacked: number | undefined;
  if (managementApi) unacked = await fetchUnacked(managementApi, queue).catch(() => undefined);
  return {
    queue,
    ready: checked.messageCount,
    unacked,
    consumers: checked.consumerCount,
    delayed,
    depth: checked.messageCount + (unacked ?? 0),
  };
}
