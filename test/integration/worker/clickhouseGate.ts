// An HTTP forwarder on 127.0.0.1 in front of the stack's ClickHouse that can hold back or
// refuse INSERTs: a worker pointed at it reads markers normally but hangs (or fails) at the
// commit point, the marker insert. That lets a test kill a worker exactly between "rows sent
// to Kafka" and "markers written", or make ClickHouse fail in the middle of a batch.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class ClickHouseGate {
  holdInserts = false;
  heldInserts = 0;
  failInserts = false;
  failedInserts = 0;
  readonly #server: Server;
  readonly #target: URL;

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
  }

  static async start(clickhouseUrl: string): Promise<ClickHouseGate> {
    const target = new URL(clickhouseUrl);
    const server = createServer();
    const gate = new ClickHouseGate(server, target);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const query = new URL(request.url ?? '/', 'http://gate').searchParams.get('query') ?? '';
        if (gate.holdInserts && /^\s*INSERT\b/i.test(query)) {
          gate.heldInserts += 1;
          return; // never answered: the client waits (until the process is killed)
        }
        if (gate.failInserts && /^\s*INSERT\b/i.test(query)) {
          gate.failedInserts += 1;
          request.socket.destroy(); // the connection drops mid-request, as when a server dies
          return;
        }
        const upstream = new URL(request.url ?? '/', `${target.protocol}//${target.host}`);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) {
          if (
            typeof value === 'string' &&
            !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(name)
          )
            headers[name] = value;
        }
        fetch(upstream, {
          method: request.method,
          headers,
          body: request.method === 'GET' || request.method === 'HEAD' ? undefined : Buffer.concat(chunks),
        })
          .then(async (answer) => {
            const out: Record<string, string> = {};
            answer.headers.forEach((value, name) => {
              if (!['content-length', 'transfer-encoding', 'content-encoding', 'connection'].includes(name))
                out[name] = value;
            });
            response.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
          })
          .catch(() => response.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return gate;
  }

  /** The gate's URL with the target's credentials, for CLICKHOUSE_URL. */
  get url(): string {
    const url = new URL(this.#target.toString());
    url.host = `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return url.toString();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
