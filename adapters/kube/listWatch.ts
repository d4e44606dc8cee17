// Raw list and watch requests for any resource, the two calls an informer is made of.
//
// Why not client-node's ListWatch/Watch: ListWatch stops for good on any error but 410, keeps
// no uid and passes no old object to handlers; Watch hides the status code's Status body,
// sends no bookmarks and restarts every quiet watch after a fixed 30 s. Both give objects
// whose dates are Date after a list and strings after a watch. Here both calls return the
// server's JSON untouched, throw client-node's ApiException shape (so apiStatusCode works), and
// leave timing, retries and the cache to the informer (operator/runtime/informer.ts). The
// request itself goes through client-node's HTTP layer, so authentication, TLS and token
// rotation are exactly those of every other call.
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  type KubeConfig,
  type KubernetesObject,
  type ResponseContext,
} from '@kubernetes/client-node';
import { apiError } from './apiErrors.ts';

/** A resource type: `group` is '' for the core API ("v1"). */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

/** What to list and watch: one namespace or all (namespace undefined), optionally filtered. */
export interface ResourceQuery extends ResourceRef {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

export interface ListResult<T> {
  items: T[];
  /** The version to watch from, so nothing between the list and the watch is missed. */
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T> {
  type: WatchEventType;
  /** For BOOKMARK only metadata.resourceVersion is meaningful. */
  object: T;
}

export interface ListOptions {
  /** '0' serves the list from the API server's watch cache; undefined reads etcd. */
  resourceVersion?: string | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export interface WatchOptions {
  resourceVersion: string;
  /** The server ends the watch after this long; the informer then re-watches. */
  timeoutSeconds: number;
  signal: AbortSignal;
  /** Called once the server accepted the watch (HTTP 200). */
  onOpen?: () => void;
}

export interface ListWatchClient {
  list<T extends KubernetesObject>(query: ResourceQuery, options?: ListOptions): Promise<ListResult<T>>;
  /**
   * Streams events until the server ends the watch or `signal` aborts (both resolve). Rejects
   * with the server's status on an HTTP error or an ERROR event (410 Gone among them), and on
   * a broken connection.
   */
  watch<T extends KubernetesObject>(
    query: ResourceQuery,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DEFAULT_LIST_TIMEOUT_MS = 60_000;

/** `/api/v1/namespaces/ns/configmaps`, `/apis/modelrunner.io/v1alpha1/modelruns`, … */
export function resourcePath(resource: ResourceRef, namespace?: string): string {
  for (const [what, value] of [
    ['plural', resource.plural],
    ['version', resource.version],
    ['namespace', namespace],
  ] as const) {
    if (value !== undefined && !DNS_LABEL.test(value))
      throw new Error(`invalid ${what} ${JSON.stringify(value)}`);
  }
  if (resource.group && !/^[a-z0-9.-]+$/.test(resource.group))
    throw new Error(`invalid API group ${JSON.stringify(resource.group)}`);
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${resource.plural}`;
}

/** `apiVersion` of a resource's objects: "v1" or "group/version". */
export function apiVersionOf(resource: ResourceRef): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

export function listWatchClient(config: KubeConfig): ListWatchClient {
  const http = new IsomorphicFetchHttpLibrary();

  async function get(
    query: ResourceQuery,
    params: Record<string, string | undefined>,
    signal: AbortSignal,
  ): Promise<ResponseContext> {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + resourcePath(query, query.namespace));
    const all = { labelSelector: query.labelSelector, fieldSelector: query.fieldSelector, ...params };
    for (const [key, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(key, value);
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    context.setHeaderParam('Accept', 'application/json');
    await config.applySecurityAuthentication(context);
    context.setSignal(signal);
    const response = await http.send(context).toPromise();
    if (response.httpStatusCode !== 200) throw apiError(response.httpStatusCode, await statusBody(response));
    return response;
  }

  return {
    async list<T extends KubernetesObject>(query: ResourceQuery, options: ListOptions = {}) {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_LIST_TIMEOUT_MS);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      // A list from the watch cache ignores `limit`, so there is no paging to follow.
      const response = await get(query, { resourceVersion: options.resourceVersion }, signal);
      const list = JSON.parse(await response.body.text()) as {
        kind?: string;
        apiVersion?: string;
        metadata?: { resourceVersion?: string };
        items?: T[];
      };
      // Items of a built-in list come without apiVersion and kind; watch events carry them.
      const kind = list.kind?.replace(/List$/, '');
      const items = (list.items ?? []).map((item) => ({ apiVersion: list.apiVersion, kind, ...item }));
      return { items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },

    async watch<T extends KubernetesObject>(
      query: ResourceQuery,
      options: WatchOptions,
      onEvent: (event: WatchEvent<T>) => void,
    ) {
      const params = {
        watch: 'true',
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(options.timeoutSeconds),
      };
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      try {
        const response = await get(query, params, options.signal);
        const stream = response.body.stream();
        if (!stream) throw new Error('the watch response has no body');
        options.onOpen?.();
        reader = stream.getReader();
        const decoder = new TextDecoder();
        let buffered = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          buffered += decoder.decode(value, { stream: true });
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line) dispatch(JSON.parse(line) as { type: string; object: T }, onEvent);
          }
        }
      } catch (error) {
        if (options.signal.aborted) return;
        throw error;
      } finally {
        reader?.cancel().catch(() => undefined);
      }
    },
  };
}

function dispatch<T>(event: { type: string; object: T }, onEvent: (event: WatchEvent<T>) => void): void {
  switch (event.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
    case 'BOOKMARK':
      onEvent({ type: event.type, object: event.object });
      return;
    case 'ERROR': {
      const status = event.object as { code?: number };
      throw apiError(typeof status.code === 'number' ? status.code : 500, status);
    }
    default:
      throw new Error(`unknown watch event type ${JSON.stringify(event.type)}`);
  }
}

async function statusBody(response: ResponseContext): Promise<unknown> {
  const text = await response.body.text().catch(() => '');
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) };
  }
}
