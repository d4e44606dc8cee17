// A TCP forwarder on 127.0.0.1 that a test can close and reopen on the same port: the worker is
// pointed at it instead of a shared service, so an "outage" of ClickHouse or Kafka touches only
// this test (the stack's services keep running for everyone else).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '../../support/freePort.ts';

export class TcpProxy {
  readonly port: number;
  readonly #target: { host: string; port: number };
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.#target = target;
  }

  /** Reserves a free port; the proxy starts closed (connections are refused) unless `open` is true. */
  static async create(target: { host: string; port: number }, open: boolean): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    if (open) await proxy.open();
    return proxy;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Stops listening and cuts every connection in flight, like a service going down. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
