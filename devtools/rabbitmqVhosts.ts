// A RabbitMQ vhost of its own for a test or a bench on the local stack, through the management
// API (the stack's RABBITMQ_MANAGEMENT_URL, whose user gets every permission in it), so queues
// never meet another run's.
import { stackEnv } from './stackEnv.ts';

/** Calls the stack's management API; 404 is an answer (the caller checks), other failures throw. */
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

/** Creates the vhost (idempotent) and lets the stack's user do everything in it. */
export async function createVhost(vhost: string): Promise<void> {
  await management('PUT', `api/vhosts/${encodeURIComponent(vhost)}`, {});
  const user = decodeURIComponent(new URL(stackEnv().RABBITMQ_MANAGEMENT_URL).username);
  await management('PUT', `api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
}

/** Deletes the vhost with its queues; nothing when it is gone already. */
export async function deleteVhost(vhost: string): Promise<void> {
  await management('DELETE', `api/vhosts/${encodeURIComponent(vhost)}`);
}

/** The stack's RABBITMQ_URL, in `vhost`. */
export function vhostUrl(vhost: string): string {
  const url = new URL(stackEnv().RABBITMQ_URL);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}
