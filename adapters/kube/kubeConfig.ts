// Where the Kubernetes API is and who we are to it: a kubeconfig file (KUBECONFIG) on a
// developer's machine and in tests, else the pod's service account. The service-account dir
// is configurable (KUBERNETES_SERVICE_ACCOUNT_DIR) because the stack's local pod runner has no
// volumes and puts the token elsewhere.
import { KubeConfig, bufferFromFileOrString, type RequestContext } from '@kubernetes/client-node';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The environment variables loadKubeConfig reads. */
export interface KubeConfigEnv {
  KUBECONFIG?: string | undefined;
  KUBERNETES_SERVICE_HOST?: string | undefined;
  KUBERNETES_SERVICE_PORT?: string | undefined;
  KUBERNETES_SERVICE_ACCOUNT_DIR?: string | undefined;
}

/** client-node's authenticator shape (not exported by name from the package). */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/** Projected tokens rotate (the kubelet swaps the file about hourly): re-read at least this often. */
const TOKEN_REREAD_MS = 60_000;
const TOKEN_PROVIDER = 'model-runner-service-account-token';

/**
 * A bearer token read from a file, re-read when the file changes or a minute has passed.
 * client-node's own `tokenFile` provider sends the file verbatim, trailing newline included,
 * and only re-reads once a minute; this one trims and notices a swapped file at once.
 */
function serviceAccountTokenAuth(now: () => number): Authenticator {
  let cached: { path: string; token: string; version: string; readAtMs: number } | undefined;
  return {
    isAuthProvider: (user) => user.authProvider?.name === TOKEN_PROVIDER,
    applyAuthentication: async (user, options) => {
      const path = String(user.authProvider?.config?.tokenPath ?? '');
      const stat = statSync(path);
      const version = `${stat.mtimeMs}:${stat.size}`;
      if (
        !cached ||
        cached.path !== path ||
        cached.version !== version ||
        now() - cached.readAtMs >= TOKEN_REREAD_MS
      ) {
        const token = readFileSync(path, 'utf8').trim();
        if (!token) throw new Error(`the service-account token ${path} is empty`);
        cached = { path, token, version, readAtMs: now() };
      }
      options.headers ??= {};
      (options.headers as Record<string, string>)['Authorization'] = `Bearer ${cached.token}`;
    },
  };
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * A KubeConfig whose requests share one connection pool. client-node 2.0.1 builds a new undici
 * Agent for every request, so every call opens (and leaves open) its own TLS connection: 50
 * calls, 50 sockets. Here the Agent is kept and reused while the cluster, user and TLS files
 * are unchanged; when they change (a rotated CA or client certificate) the next request gets
 * a fresh Agent and the old one is closed once its requests finish.
 */
class PooledKubeConfig extends KubeConfig {
  #pool: { fingerprint: string; dispatcher: Dispatcher } | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const fingerprint = this.#tlsFingerprint();
    if (this.#pool?.fingerprint === fingerprint) {
      context.setDispatcher(this.#pool.dispatcher);
      return;
    }
    // The fresh Agent has not connected yet: adopting it costs nothing.
    const previous = this.#pool?.dispatcher;
    this.#pool = { fingerprint, dispatcher: fresh };
    previous?.close().catch(() => undefined);
  }

  #tlsFingerprint(): string {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const fileVersion = (path: string | undefined) => {
      if (!path) return '';
      try {
        const stat = statSync(path);
        return `${path}@${stat.mtimeMs}:${stat.size}`;
      } catch {
        return `${path}@missing`;
      }
    };
    return JSON.stringify([
      cluster?.name,
      cluster?.server,
      cluster?.skipTLSVerify,
      cluster?.tlsServerName,
      cluster?.proxyUrl,
      cluster?.caData,
      fileVersion(cluster?.caFile),
      user?.name,
      user?.certData,
      user?.keyData,
      fileVersion(user?.certFile),
      fileVersion(user?.keyFile),
    ]);
  }
}

/**
 * The API server's address and our credentials: the kubeconfig file named by KUBECONFIG, else
 * in-cluster (KUBERNETES_SERVICE_HOST/PORT and the service-account token, CA and namespace).
 * Throws, saying what is missing, when neither is there.
 */
export function loadKubeConfig(env: KubeConfigEnv, now: () => number = Date.now): KubeConfig {
  const config = new PooledKubeConfig();
  const kubeconfigPath = env.KUBECONFIG?.trim();
  if (kubeconfigPath) {
    // kubectl merges a colon-separated list; one file is all this project uses.
    if (!existsSync(kubeconfigPath))
      throw new Error(`KUBECONFIG names ${kubeconfigPath}, which does not exist`);
    config.loadFromFile(kubeconfigPath);
    if (!config.getCurrentCluster())
      throw new Error(`the kubeconfig ${kubeconfigPath} has no current context with a cluster`);
    return config;
  }
  const host = env.KUBERNETES_SERVICE_HOST?.trim();
  const port = env.KUBERNETES_SERVICE_PORT?.trim();
  const accountDir = env.KUBERNETES_SERVICE_ACCOUNT_DIR?.trim() || DEFAULT_SERVICE_ACCOUNT_DIR;
  const tokenPath = join(accountDir, 'token');
  const caPath = join(accountDir, 'ca.crt');
  if (!host || !port || !existsSync(tokenPath) || !existsSync(caPath)) {
    const missing = [
      !host && 'KUBERNETES_SERVICE_HOST',
      !port && 'KUBERNETES_SERVICE_PORT',
      !existsSync(tokenPath) && tokenPath,
      !existsSync(caPath) && caPath,
    ].filter(Boolean);
    throw new Error(
      `no Kubernetes API configuration: set KUBECONFIG to a kubeconfig file, or run in a pod ` +
        `(missing: ${missing.join(', ')}; KUBERNETES_SERVICE_ACCOUNT_DIR moves the service-account dir)`,
    );
  }
  const namespacePath = join(accountDir, 'namespace');
  const namespace = existsSync(namespacePath) ? readFileSync(namespacePath, 'utf8').trim() : undefined;
  config.addAuthenticator(serviceAccountTokenAuth(now));
  config.loadFromClusterAndUser(
    {
      name: 'in-cluster',
      server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
      caFile: caPath,
      skipTLSVerify: false,
    },
    { name: 'service-account', authProvider: { name: TOKEN_PROVIDER, config: { tokenPath } } },
  );
  // loadFromClusterAndUser makes a context without a namespace: add the pod's own.
  const context = config.getContextObject(config.getCurrentContext());
  if (context && namespace) config.contexts = [{ ...context, namespace }];
  return config;
}

/** The CA (PEM) the current cluster's certificate is signed by, from the file or the inline data. */
export function clusterCaPem(config: KubeConfig): string | undefined {
  const cluster = config.getCurrentCluster();
  return cluster ? bufferFromFileOrString(cluster.caFile, cluster.caData)?.toString('utf8') : undefined;
}

/** The namespace of the current context (in a pod: the pod's own), if any. */
export function currentNamespace(config: KubeConfig): string | undefined {
  return config.getContextObject(config.getCurrentContext())?.namespace || undefined;
}
