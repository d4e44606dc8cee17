// A JSON-RPC endpoint on 127.0.0.1 in front of the stack's anvil that a test can make fail:
// while `failing`, every request gets an HTTP 500, a JSON-RPC internal error, or garbage in
// turn; otherwise requests are forwarded to anvil, after `delayMs` (a slow node), unchanged
// or through a hosted provider's habits (`provider`, see providerFaults.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Forward, ProviderFaultInjector } from './providerFaults.ts';

export class FlakyRpc {
  failing = true;
  delayMs = 0;
  failedRequests = 0;
  forwardedRequests = 0;
  /** Set to answer like a hosted provider; undefined forwards requests as they are. */
  provider: ProviderFaultInjector | undefined;
  readonly #server: Server;
  readonly #target: string;

  private constructor(server: Server, target: string) {
    this.#server = server;
    this.#target = target;
  }

  static async start(target: string): Promise<FlakyRpc> {
    const server = createServer();
    const rpc = new FlakyRpc(server, target);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        if (rpc.failing) {
          const turn = rpc.failedRequests % 3;
          rpc.failedRequests += 1;
          if (turn === 0) response.writeHead(500).end('upstream unavailable');
          else if (turn === 1) {
            response
              .writeHead(200, { 'content-type': 'application/json' })
              .end(
                JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'internal error' } }),
              );
          } else
            response.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","resu');
          return;
        }
        rpc.forwardedRequests += 1;
        const forward: Forward = async (payload) => {
          const upstream = await fetch(rpc.#target, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: payload,
          });
          return { status: upstream.status, text: await upstream.text() };
        };
        new Promise((resolve) => setTimeout(resolve, rpc.delayMs))
          .then(async () => {
            if (rpc.provider) return rpc.provider.answer(body, response, forward);
            const upstream = await forward(body.toString());
            response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(upstream.text);
          })
          .catch(() => response.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return rpc;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
