// /metrics (Prometheus text), /healthz and optionally /readyz on a small HTTP server, bound to
// 127.0.0.1 unless told otherwise (in a pod the Deployment sets METRICS_HOST=0.0.0.0 for the
// scraper).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthReport {
  healthy: boolean;
  details: Record<string, unknown>;
}

export interface MetricsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  registry: Registry;
  host: string;
  port: number;
  health: () => HealthReport;
  /** /readyz (e.g. caches synced); without it /readyz is 404. */
  ready?: () => HealthReport;
}): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text))
        .catch((error: unknown) => response.writeHead(500).end(String((error as Error).message)));
      return;
    }
    const check = path === '/healthz' ? options.health : path === '/readyz' ? options.ready : undefined;
    if (check) {
      const report = check();
      const status = report.healthy ? 'ok' : path === '/healthz' ? 'unhealthy' : 'not ready';
      response
        .writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status, ...report.details }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
