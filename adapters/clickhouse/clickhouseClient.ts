// ClickHouse clients for the marker store, by URL:
//   http(s)://user:pass@host:port   a ClickHouse server (the stack's CLICKHOUSE_URL)
//   chdb:///abs/dir                 an embedded, current ClickHouse keeping its data in a folder
//   chdb:memory                     the same, in memory (tests)
// The embedded engine (npm `chdb`, loaded only when asked for) gives local runs and tests
// a real ClickHouse without a server; libchdb binds one data folder per process.
// Credentials stay inside the client; anything printed uses redactUrl().
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { InvalidValueError } from '../../dataplane/validNames.ts';
import { redactUrl } from '../redactUrl.ts';
import { ClickHouseMarkerStore, type ClickHouseMarkerStoreOptions } from './markerStore.ts';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

async function embeddedClient(path: string): Promise<ClickHouseClient> {
  const { createChdbConnection } = await import('chdb/connection');
  // chdb declares its connection against @clickhouse/client-common's copy of the
  // interface, the client against its own bundled copy: identical shapes, two names.
  const connection = createChdbConnection({ path }) as unknown as ClientConnection;
  return createClient({ connection });
}

/** A client for a server URL or an embedded `chdb:` URL (see the file comment). */
export async function createClickHouseClient(
  url: string,
  options: { requestTimeoutMs?: number } = {},
): Promise<ClickHouseClient> {
  if (url === 'chdb:memory') return embeddedClient(':memory:');
  if (url.startsWith('chdb://')) {
    const path = new URL(url).pathname;
    if (!url.startsWith('chdb:///') || path.length < 2 || path.includes('\0')) {
      throw new InvalidValueError(`an embedded ClickHouse URL is chdb:///abs/dir or chdb:memory, not ${url}`);
    }
    return embeddedClient(decodeURIComponent(path));
  }
  return createServerClient(url, options);
}

/** A client for a ClickHouse server over HTTP(S). */
export function createServerClient(
  url: string,
  options: { requestTimeoutMs?: number } = {},
): ClickHouseClient {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidValueError(`invalid ClickHouse URL ${redactUrl(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidValueError(`ClickHouse URL must be http(s):// or chdb:, not ${redactUrl(url)}`);
  }
  return createClient({ url, request_timeout: options.requestTimeoutMs ?? 30_000 });
}

/** A marker store on its own client (closed with the store). */
export async function openMarkerStore(
  url: string,
  options: Omit<ClickHouseMarkerStoreOptions, 'client' | 'ownsClient'>,
): Promise<ClickHouseMarkerStore> {
  const client = await createClickHouseClient(url);
  return new ClickHouseMarkerStore({ client, ownsClient: true, ...options });
}

/** A marker store on its own client for a ClickHouse server URL (synchronous; no chdb). */
export function openClickHouseMarkerStore(
  url: string,
  options: Omit<ClickHouseMarkerStoreOptions, 'client' | 'ownsClient'>,
): ClickHouseMarkerStore {
  return new ClickHouseMarkerStore({ client: createServerClient(url), ownsClient: true, ...options });
}
