import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceAccountMount } from '../../../devtools/local-pod-runner/serviceAccountAccess.ts';
import {
  apiServerEndpoint,
  apiServerEnv,
  podTokenRequest,
  serviceAccountMount,
  serviceAccountNameOf,
  tokenRefreshDelayMs,
} from '../../../devtools/local-pod-runner/serviceAccountAccess.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

// [case, pod's automountServiceAccountToken, ServiceAccount (undefined: missing), expected kind]
const mountCases: [
  string,
  boolean | undefined,
  { automountServiceAccountToken?: boolean } | undefined,
  string,
][] = [
  ['neither says: a token', undefined, {}, 'token'],
  ['the ServiceAccount opts out', undefined, { automountServiceAccountToken: false }, 'no-token'],
  ['the ServiceAccount opts in', undefined, { automountServiceAccountToken: true }, 'token'],
  ['the pod opts out', false, {}, 'no-token'],
  [
    'the pod opts in over a ServiceAccount that opts out',
    true,
    { automountServiceAccountToken: false },
    'token',
  ],
  [
    'the pod opts out over a ServiceAccount that opts in',
    false,
    { automountServiceAccountToken: true },
    'no-token',
  ],
  ['a missing ServiceAccount: the pod waits', undefined, undefined, 'missing'],
  ['a missing ServiceAccount waits even without a token', false, undefined, 'missing'],
];
for (const [name, podAutomount, serviceAccount, kind] of mountCases) {
  test(`serviceAccountMount: ${name}`, () => {
    const mount: ServiceAccountMount = serviceAccountMount(
      { namespace: 'team-a', serviceAccountName: 'operator', automountServiceAccountToken: podAutomount },
      serviceAccount,
    );
    assert.equal(mount.kind, kind);
  });
}

test('serviceAccountMount says which ServiceAccount is missing, and where', () => {
  const mount = serviceAccountMount({ namespace: 'team-a', serviceAccountName: 'operator' }, undefined);
  assert.deepEqual(mount, {
    kind: 'missing',
    message: 'serviceaccount "operator" not found in namespace "team-a": the pod starts once it exists',
  });
});

test('serviceAccountNameOf falls back to default, as the admission plugin does', () => {
  assert.equal(serviceAccountNameOf({ serviceAccountName: 'operator' }), 'operator');
  assert.equal(serviceAccountNameOf({ serviceAccountName: '' }), 'default');
  assert.equal(serviceAccountNameOf({}), 'default');
  assert.equal(serviceAccountNameOf(undefined), 'default');
});

test('podTokenRequest binds a 3607 s token to the pod, with the default audiences', () => {
  assert.deepEqual(podTokenRequest({ name: 'operator-7d9f-x2', uid: 'u-1' }), {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      expirationSeconds: 3607,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'operator-7d9f-x2', uid: 'u-1' },
    },
  });
});

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (offsetMs: number) => new Date(T0 + offsetMs);
// [case, lifetime (ms, from the request), now (ms after the request), expected delay (ms)]
const refreshCases: [string, number, number, number][] = [
  ['a fresh 3607 s token: at 80 % of its lifetime', 3_607_000, 0, 2_885_600],
  ['a 1 h token checked 10 min later', 3_600_000, 600_000, 2_280_000],
  ['just before the 80 % mark', 3_600_000, 2_879_999, 1_000],
  ['past the 80 % mark: soon, never at once', 3_600_000, 2_900_000, 1_000],
  ['already expired', 3_600_000, 4_000_000, 1_000],
  ['a token with no lifetime', 0, 0, 1_000],
  ['a 10 s token: the floor of 1 s', 10_000, 0, 8_000],
];
for (const [name, lifetimeMs, nowMs, expected] of refreshCases) {
  test(`tokenRefreshDelayMs: ${name}`, () => {
    assert.equal(tokenRefreshDelayMs({ requestedAt: at(0), expiresAt: at(lifetimeMs) }, at(nowMs)), expected);
  });
}

test('apiServerEnv: the address for every pod, the token folder only for a pod with a token', () => {
  const endpoint = { host: '127.0.0.1', port: 36443, caPem: CA };
  const sa = '/s/pods/a_b/var/run/secrets/kubernetes.io/serviceaccount';
  assert.deepEqual(Object.fromEntries(apiServerEnv(endpoint, sa)), {
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: '36443',
    KUBERNETES_SERVICE_PORT_HTTPS: '36443',
    KUBERNETES_SERVICE_ACCOUNT_DIR: sa,
  });
  assert.deepEqual(Object.fromEntries(apiServerEnv(endpoint, undefined)), {
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: '36443',
    KUBERNETES_SERVICE_PORT_HTTPS: '36443',
  });
});

// [server URL, host, port]
const endpointCases: [string, string, number][] = [
  ['https://127.0.0.1:36443', '127.0.0.1', 36443],
  ['https://localhost:6443/', 'localhost', 6443],
  ['https://[::1]:36443', '::1', 36443],
  ['https://kube.example', 'kube.example', 443],
];
for (const [server, host, port] of endpointCases) {
  test(`apiServerEndpoint(${server})`, () => {
    assert.deepEqual(apiServerEndpoint(server, CA), { host, port, caPem: CA });
  });
}

test('apiServerEndpoint refuses plain http and a missing CA', () => {
  assert.throws(() => apiServerEndpoint('http://127.0.0.1:8080', CA), /not served over https/);
  assert.throws(() => apiServerEndpoint('https://127.0.0.1:36443', ''), /no PEM CA certificate/);
});
