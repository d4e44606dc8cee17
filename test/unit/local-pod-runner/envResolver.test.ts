import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Container } from '@kubernetes/client-node';
import type { EnvSources, PodFieldValues } from '../../../devtools/local-pod-runner/envResolver.ts';
import {
  expandCommandLine,
  podFieldValue,
  referencedEnvSources,
  resolveContainerEnv,
} from '../../../devtools/local-pod-runner/envResolver.ts';

const pod: PodFieldValues = {
  name: 'worker-0',
  namespace: 'team-a',
  uid: '1234-uid',
  labels: { app: 'worker', 'model-runner.dev/chain': 'op' },
  annotations: { note: 'hi' },
  nodeName: 'local-pod-runner',
  serviceAccountName: 'default',
  hostIP: '127.0.0.1',
  podIP: '127.0.0.1',
};

const sources: EnvSources = {
  configMaps: new Map([
    ['settings', { LOG_LEVEL: 'debug', CHAIN: 'op', 'bad=key': 'x' }],
    ['missing', null],
  ]),
  secrets: new Map([
    ['creds', { password: 's3cret', USER: 'admin' }],
    ['gone', null],
  ]),
};

function envOf(container: Partial<V1Container>): Record<string, string> {
  const result = resolveContainerEnv(container, pod, sources);
  assert.equal(result.ok, true, result.ok ? '' : result.message);
  return result.ok ? Object.fromEntries(result.env) : {};
}

function errorOf(container: Partial<V1Container>): string {
  const result = resolveContainerEnv(container, pod, sources);
  assert.equal(result.ok, false);
  return result.ok ? '' : result.message;
}

test('literal values, in order, may refer to earlier ones', () => {
  assert.deepEqual(
    envOf({
      env: [
        { name: 'A', value: 'one' },
        { name: 'B', value: '$(A)-two' },
        { name: 'C', value: '$(LATER)' },
        { name: 'LATER', value: 'x' },
        { name: 'EMPTY' },
      ],
    }),
    { A: 'one', B: 'one-two', C: '$(LATER)', LATER: 'x', EMPTY: '' },
  );
});

const fieldCases: [string, string][] = [
  ['metadata.name', 'worker-0'],
  ['metadata.namespace', 'team-a'],
  ['metadata.uid', '1234-uid'],
  ["metadata.labels['app']", 'worker'],
  ["metadata.labels['model-runner.dev/chain']", 'op'],
  ["metadata.labels['absent']", ''],
  ["metadata.annotations['note']", 'hi'],
  ['spec.nodeName', 'local-pod-runner'],
  ['spec.serviceAccountName', 'default'],
  ['status.podIP', '127.0.0.1'],
  ['status.hostIP', '127.0.0.1'],
];
for (const [fieldPath, expected] of fieldCases) {
  test(`fieldRef ${fieldPath}`, () => {
    assert.equal(podFieldValue(fieldPath, pod), expected);
    assert.deepEqual(envOf({ env: [{ name: 'V', valueFrom: { fieldRef: { fieldPath } } }] }), {
      V: expected,
    });
  });
}

test('an unknown fieldRef is a configuration error', () => {
  assert.match(
    errorOf({ env: [{ name: 'V', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] }),
    /spec\.nope/,
  );
});

test('secretKeyRef and configMapKeyRef read one key; valueFrom values are not expanded', () => {
  assert.deepEqual(
    envOf({
      env: [
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LOG_LEVEL' } } },
      ],
    }),
    { PASSWORD: 's3cret', LEVEL: 'debug' },
  );
});

const missingCases: [string, Partial<V1Container>, string][] = [
  [
    'a missing Secret',
    { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] },
    'secret "gone" not found',
  ],
  [
    'a missing key in a Secret',
    { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }] },
    "couldn't find key nope in Secret team-a/creds",
  ],
  [
    'a missing ConfigMap',
    { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k' } } }] },
    'configmap "missing" not found',
  ],
  [
    'a missing key in a ConfigMap',
    { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope' } } }] },
    "couldn't find key nope in ConfigMap team-a/settings",
  ],
  ['a missing envFrom Secret', { envFrom: [{ secretRef: { name: 'gone' } }] }, 'secret "gone" not found'],
];
for (const [name, container, message] of missingCases) {
  test(`${name} fails the container's configuration unless optional`, () => {
    assert.equal(errorOf(container), message);
    const optional = structuredClone(container);
    for (const variable of optional.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef ?? variable.valueFrom?.configMapKeyRef;
      if (ref) ref.optional = true;
    }
    for (const source of optional.envFrom ?? []) {
      const ref = source.secretRef ?? source.configMapRef;
      if (ref) ref.optional = true;
    }
    assert.deepEqual(envOf(optional), {});
  });
}

test('envFrom adds every valid key with its prefix; env wins over envFrom', () => {
  assert.deepEqual(
    envOf({
      envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'creds' }, prefix: 'DB_' }],
      env: [
        { name: 'CHAIN', value: 'base' },
        { name: 'URL', value: '$(DB_USER)@$(CHAIN)' },
      ],
    }),
    { LOG_LEVEL: 'debug', CHAIN: 'base', DB_password: 's3cret', DB_USER: 'admin', URL: 'admin@base' },
  );
});

test('referencedEnvSources names each Secret and ConfigMap once', () => {
  assert.deepEqual(
    referencedEnvSources({
      envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'creds' } }],
      env: [
        { name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'USER' } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'other', key: 'k' } } },
        { name: 'C', value: 'x' },
      ],
    }),
    { configMaps: ['settings', 'other'], secrets: ['creds'] },
  );
});

test('command and args expand $(VAR) from the final environment', () => {
  const env = new Map([
    ['GREETING', 'hello'],
    ['TARGET', 'world'],
  ]);
  assert.deepEqual(expandCommandLine(['sh', '-c', 'echo $(GREETING) $TARGET $$(TARGET) $(NOPE)'], env), [
    'sh',
    '-c',
    'echo hello $TARGET $(TARGET) $(NOPE)',
  ]);
});

test("the kubelet's own variables may be referred to and overridden by the container's env", () => {
  const kubeletEnv = new Map([
    ['KUBERNETES_SERVICE_HOST', '127.0.0.1'],
    ['KUBERNETES_SERVICE_PORT', '36443'],
  ]);
  const result = resolveContainerEnv(
    {
      env: [
        { name: 'API', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' },
        { name: 'KUBERNETES_SERVICE_PORT', value: '443' },
      ],
    },
    pod,
    sources,
    kubeletEnv,
  );
  assert.deepEqual(result.ok && Object.fromEntries(result.env), {
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    API: 'https://127.0.0.1:36443',
  });
});
