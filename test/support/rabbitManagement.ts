// The stack's RabbitMQ management API with the credentials of its URL: vhosts for private test
// worlds, queue and connection figures for assertions.
import { stackEnv } from '../../devtools/stackEnv.ts';

/** Calls the management API; 404 is an answer (the caller checks), other failures throw. */
export async function management(method: string, path: string, body?: unknown): Promise<Response> {
  const base = new URL(stackEnv().RABBITMQ_MANAGEMENT_URL);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  const response = await fetch(new URL(path, base), {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok && response.status !== 404) {
    throw new Error(`management API ${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response;
}

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
