// The stack's RabbitMQ management API with the credentials of its URL: vhosts for private test
// worlds, queue and connection figures for assertions.
import { management } from '../../devtools/rabbitmqVhosts.ts';

export { management };

/** A queue's figures as the management API has sampled them (it lags the broker by a second or so). */
export async function queueStats(
  vhost: string,
  queue: string,
): Promise<{ messages?: number; messages_unacknowledged?: number; consumers?: number }> {
  const response = await management(
    'GET',
    `api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`,
  );
  return (await response.json()) as {
    messages?: number;
    messages_unacknowledged?: number;
    consumers?: number;
  };
}
