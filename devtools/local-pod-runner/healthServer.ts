// /healthz and /version on 127.0.0.1, for the stack's readiness check and status.
import { createServer } from 'node:http';
import type { Server } from 'node:http';

export interface HealthState {
  version: string;
  nodeName: string;
  /** Healthy: the node's Lease is fresh and every pod for this runner has been listed. */
  healthy: () => boolean;
  pods: () => number;
}

export function startHealthServer(port: number, state: HealthState): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/version') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`${state.version}\n`);
    } else if (request.url === '/healthz') {
      const healthy = state.healthy();
      response
        .writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ healthy, node: state.nodeName, pods: state.pods(), version: state.version }) +
            '\n',
        );
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
