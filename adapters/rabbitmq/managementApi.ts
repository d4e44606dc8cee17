// The RabbitMQ management API, read for autoscaling: ready, unacked and consumers of every work
// queue of one vhost, and the unacked messages each client connection holds. It counts unacked
// messages, which a passive queue declare does not (KEDA's AMQP mode scaled busy workers away).
//
// One keep-alive HTTP agent with a single socket serves every request of the process, and one
// reading of the queues serves every caller within `maxAgeMs`: many pools polling often cost
// one connection and about one request per statistics interval (KEDA's scaler leaked
// connections per poll). Credentials go in the Authorization header, never in a logged URL.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { QUEUE_NAME } from '../../contract/names.ts';
import { redactUrl } from '../redactUrl.ts';

export interface QueueStats {
  ready: number;
  unacked: number;
  consumers: number;
}

export interface ManagementApiOptions {
  /** e.g. http://user:password@127.0.0.1:15672 */
  url: string;
  vhost: string;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Each new TCP connection to the API (metrics, and tests that count them). */
  onConnectionOpened?: () => void;
  /** Each request's outcome. */
  onRequest?: (result: 'ok' | 'error') => void;
}

/** The largest page the management API serves. */
const PAGE_SIZE = 500;
const DEFAULT_TIMEOUT_MS = 5_000;

export class ManagementApiError extends Error {
  override name = 'ManagementApiError';
}

function count(value: unknown): number {
  // A queue the statistics database has not sampled yet has no figure: that is zero.
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One reading shared by every caller while it is younger than their maxAgeMs, or under way. */
class SharedReading<T> {
  readonly #read: () => Promise<T>;
  #last: { at: number; value: Promise<T> } | undefined;

  constructor(read: () => Promise<T>) {
    this.#read = read;
  }

  get(maxAgeMs: number, nowMs: number): Promise<T> {
    const last = this.#last;
    if (last && nowMs - last.at < maxAgeMs) return last.value;
    const value = this.#read();
    this.#last = { at: nowMs, value };
    // A failed reading is not shared: the next caller asks again.
    value.catch(() => {
      if (this.#last?.value === value) this.#last = undefined;
    });
    return value;
  }
}

export class RabbitManagementApi {
  readonly vhost: string;
  readonly #base: URL;
  readonly #authorization: string;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #timeoutMs: number;
  readonly #options: ManagementApiOptions;
  readonly #sockets = new WeakSet<Socket>();
  #connectionsOpened = 0;
  readonly #queueReading = new SharedReading(() => this.#readWorkQueueStats());
  readonly #connectionReading = new SharedReading(() => this.#readUnackedByConnectionName());

  constructor(options: ManagementApiOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ManagementApiError(
        `the management API URL must be http:// or https://, not ${base.protocol}`,
      );
    }
    this.#authorization = `Basic ${Buffer.from(
      `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
    ).toString('base64')}`;
    base.username = '';
    base.password = '';
    this.#base = base;
    this.vhost = options.vhost;
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const agentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    this.#agent = base.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#request = base.protocol === 'https:' ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  /** TCP connections this client has opened so far (one while the API stays up). */
  get connectionsOpened(): number {
    return this.#connectionsOpened;
  }

  /**
   * Ready, unacked and consumers of every work queue of the vhost (retry and dead-letter queues
   * left out), by name; a queue that does not exist is absent. A reading younger than
   * `maxAgeMs`, or one under way, is shared.
   */
  workQueueStats(maxAgeMs: number, nowMs = Date.now()): Promise<Map<string, QueueStats>> {
    return this.#queueReading.get(maxAgeMs, nowMs);
  }

  async #readWorkQueueStats(): Promise<Map<string, QueueStats>> {
    const stats = new Map<string, QueueStats>();
    for (let page = 1; ; page += 1) {
      const body = await this.#get(`api/queues/${encodeURIComponent(this.vhost)}`, {
        page: String(page),
        page_size: String(PAGE_SIZE),
        name: QUEUE_NAME.pattern.source,
        use_regex: 'true',
        columns: 'name,messages_ready,messages_unacknowledged,consumers',
      });
      if (!isRecord(body) || !Array.isArray(body.items)) {
        throw new ManagementApiError('the management API answered the queue listing without items');
      }
      for (const item of body.items as unknown[]) {
        if (!isRecord(item) || typeof item.name !== 'string') continue;
        stats.set(item.name, {
          ready: count(item.messages_ready),
          unacked: count(item.messages_unacknowledged),
          consumers: count(item.consumers),
        });
      }
      if (page >= count(body.page_count)) return stats;
    }
  }

  /**
   * Unacked messages held by each client connection of the vhost, by the name the client gave
   * its connection (a worker names it after its pod); connections without a name are left out.
   * Shared like workQueueStats.
   */
  unackedByConnectionName(maxAgeMs: number, nowMs = Date.now()): Promise<Map<string, number>> {
    return this.#connectionReading.get(maxAgeMs, nowMs);
  }

  async #readUnackedByConnectionName(): Promise<Map<string, number>> {
    const vhost = encodeURIComponent(this.vhost);
    const connections = await this.#get(`api/vhosts/${vhost}/connections`, {
      columns: 'name,user_provided_name',
    });
    const channels = await this.#get(`api/vhosts/${vhost}/channels`, {
      columns: 'connection_details,messages_unacknowledged',
    });
    if (!Array.isArray(connections) || !Array.isArray(channels)) {
      throw new ManagementApiError('the management API answered a listing with something else than a list');
    }
    const byConnection = new Map<string, number>();
    for (const channel of channels as unknown[]) {
      if (!isRecord(channel) || !isRecord(channel.connection_details)) continue;
      const connection = channel.connection_details.name;
      if (typeof connection !== 'string') continue;
      byConnection.set(
        connection,
        (byConnection.get(connection) ?? 0) + count(channel.messages_unacknowledged),
      );
    }
    const byName = new Map<string, number>();
    for (const connection of connections as unknown[]) {
      if (!isRecord(connection) || typeof connection.name !== 'string') continue;
      const given = connection.user_provided_name;
      if (typeof given !== 'string' || given === '') continue;
      byName.set(given, (byName.get(given) ?? 0) + (byConnection.get(connection.name) ?? 0));
    }
    return byName;
  }

  /** Ends the kept-alive connection. */
  close(): void {
    this.#agent.destroy();
  }

  #get(path: string, query: Record<string, string>): Promise<unknown> {
    const url = new URL(path, this.#base);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.#options.onRequest?.('error');
        reject(error);
      };
      const request = this.#request(
        url,
        {
          method: 'GET',
          agent: this.#agent,
          headers: { authorization: this.#authorization, accept: 'application/json' },
          timeout: this.#timeoutMs,
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', fail);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== 200) {
              fail(
                new ManagementApiError(
                  `management API ${redactUrl(url.origin)}/${path}: HTTP ${response.statusCode ?? '?'}`,
                ),
              );
              return;
            }
            try {
              const body: unknown = JSON.parse(text);
              if (settled) return;
              settled = true;
              this.#options.onRequest?.('ok');
              resolve(body);
            } catch {
              fail(new ManagementApiError(`management API ${path}: the answer is not JSON`));
            }
          });
        },
      );
      request.on('socket', (socket: Socket) => {
        if (this.#sockets.has(socket)) return;
        this.#sockets.add(socket);
        this.#connectionsOpened += 1;
        this.#options.onConnectionOpened?.();
      });
      request.on('timeout', () =>
        request.destroy(
          new ManagementApiError(`management API ${path}: no answer within ${this.#timeoutMs} ms`),
        ),
      );
      request.on('error', (error: Error) =>
        fail(
          error instanceof ManagementApiError
            ? error
            : new ManagementApiError(`management API ${path}: ${error.message}`),
        ),
      );
      request.end();
    });
  }
}
