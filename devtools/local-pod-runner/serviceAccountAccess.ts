// What a kubelet gives every pod to reach the API server as its ServiceAccount,
// decided without I/O: whether the pod gets a token, the TokenRequest that binds
// the token to the pod, when to refresh it, and the environment that says where
// the API server is and where the token lies. There are no volumes here, so the
// token, CA and namespace are files in the pod's sandbox and
// KUBERNETES_SERVICE_ACCOUNT_DIR names their folder, standing in for the
// projected volume a kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount.
import type { AuthenticationV1TokenRequest } from '@kubernetes/client-node';

/**
 * The lifetime a kubelet asks for (the admission plugin's projected volume). The API server
 * recognises this value: it may issue a longer-lived token and warn on use after 3607 s.
 */
export const TOKEN_EXPIRATION_SECONDS = 3607;
/** A kubelet replaces a token once it is older than 80 % of its lifetime. */
const TOKEN_REFRESH_FRACTION = 0.8;
/** Never schedule a refresh sooner than this: a token that is short-lived already must not spin. */
const MIN_TOKEN_REFRESH_DELAY_MS = 1_000;

/** Where the pod reaches the API server, and the CA its certificate is signed by (PEM). */
export interface ApiServerEndpoint {
  host: string;
  port: number;
  caPem: string;
}

/** The endpoint from a kubeconfig cluster's server URL (`https://127.0.0.1:36443`) and CA. */
export function apiServerEndpoint(server: string, caPem: string): ApiServerEndpoint {
  const url = new URL(server);
  if (url.protocol !== 'https:') throw new Error(`the API server ${server} is not served over https`);
  if (!caPem.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`the kubeconfig gives no PEM CA certificate for ${server}`);
  // WHATWG URL keeps IPv6 hosts in brackets; the environment carries the bare address, as a kubelet's does.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: url.port ? Number(url.port) : 443, caPem };
}

/** The ServiceAccount a pod runs as: the admission plugin fills in `default` when the pod names none. */
export function serviceAccountNameOf(spec: { serviceAccountName?: string } | undefined): string {
  return spec?.serviceAccountName || 'default';
}

export type ServiceAccountMount =
  | { kind: 'token' }
  | { kind: 'no-token' }
  /** The ServiceAccount does not exist: a kubelet's admission refuses such a pod, so it waits. */
  | { kind: 'missing'; message: string };

/**
 * Whether the pod gets a token: `automountServiceAccountToken` on the pod decides, else
 * the one on its ServiceAccount, else yes. A pod whose ServiceAccount is missing does not start.
 */
export function serviceAccountMount(
  pod: { namespace: string; serviceAccountName: string; automountServiceAccountToken?: boolean },
  serviceAccount: { automountServiceAccountToken?: boolean } | undefined,
): ServiceAccountMount {
  if (!serviceAccount) {
    return {
      kind: 'missing',
      message:
        `serviceaccount "${pod.serviceAccountName}" not found in namespace "${pod.namespace}": ` +
        'the pod starts once it exists',
    };
  }
  const automount = pod.automountServiceAccountToken ?? serviceAccount.automountServiceAccountToken ?? true;
  return automount ? { kind: 'token' } : { kind: 'no-token' };
}

/**
 * The TokenRequest a kubelet sends: for the API server's own audiences (none named), bound
 * to the pod, so the token stops working when the pod goes.
 */
export function podTokenRequest(pod: { name: string; uid: string }): AuthenticationV1TokenRequest {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      expirationSeconds: TOKEN_EXPIRATION_SECONDS,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid },
    },
  };
}

/**
 * How long to wait before asking for a new token. The lifetime is counted from when the
 * request was sent, which is no later than the server issued it, so the refresh falls
 * at or before 80 % of the token's real lifetime.
 */
export function tokenRefreshDelayMs(token: { requestedAt: Date; expiresAt: Date }, now: Date): number {
  const lifetimeMs = token.expiresAt.getTime() - token.requestedAt.getTime();
  const refreshAt = token.requestedAt.getTime() + lifetimeMs * TOKEN_REFRESH_FRACTION;
  return Math.max(MIN_TOKEN_REFRESH_DELAY_MS, Math.floor(refreshAt - now.getTime()));
}

/**
 * The variables a kubelet adds to every container: the API server's address (every pod,
 * token or not) and, when the pod has a token, the folder that holds it. The container's
 * own env may override them.
 */
export function apiServerEnv(
  endpoint: ApiServerEndpoint,
  serviceAccountDir: string | undefined,
): Map<string, string> {
  const port = String(endpoint.port);
  const env = new Map([
    ['KUBERNETES_SERVICE_HOST', endpoint.host],
    ['KUBERNETES_SERVICE_PORT', port],
    ['KUBERNETES_SERVICE_PORT_HTTPS', port],
  ]);
  if (serviceAccountDir !== undefined) env.set('KUBERNETES_SERVICE_ACCOUNT_DIR', serviceAccountDir);
  return env;
}
