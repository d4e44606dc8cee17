// Pods of the local pod runner reach the API server as their ServiceAccount, as on a
// kubelet: a pod reads its token and CA from KUBERNETES_SERVICE_ACCOUNT_DIR, calls the
// API server at KUBERNETES_SERVICE_HOST:PORT (TLS verified against that CA), is who the
// token says and gets only what RBAC grants. A runner from this checkout runs the pods
// (the stack's runner runs the code of the stack's checkout), under its own node name.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { AuthorizationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  findOrUndefined,
  kubeClients,
  podLogPath,
  podSandboxPath,
  pollUntil,
} from '../../support/kube.ts';
import {
  logTail,
  retireLocalPodRunner,
  startLocalPodRunner,
  waitUntilNodeReady,
} from '../../support/localPodRunner.ts';
import { uniqueName } from '../../support/names.ts';

const nodeName = uniqueName('lpr-sa');
let namespace: string;
let workDir: string;
let runner: ChildProcess | undefined;

const runnerLog = () => logTail(join(workDir, 'runner.log'));

// Prints what the pod sees: its token folder, the API server's answer to "who am I", and
// the HTTP status of listing pods. curl verifies the server against the pod's ca.crt.
const WHOAMI = `
D="\${KUBERNETES_SERVICE_ACCOUNT_DIR:-}"
echo "dir=\${D:-none}"
echo "api=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT:$KUBERNETES_SERVICE_PORT_HTTPS"
[ -n "$D" ] || exit 0
API="https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"
TOKEN="$(cat "$D/token")"
echo "namespace=$(cat "$D/namespace")"
echo "review=$(curl -sS --cacert "$D/ca.crt" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -X POST -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
  "$API/apis/authentication.k8s.io/v1/selfsubjectreviews" | tr -d '\\n')"
echo "list-pods=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$D/ca.crt" -H "Authorization: Bearer $TOKEN" \
  "$API/api/v1/namespaces/$(cat "$D/namespace")/pods")"
`;

function whoamiPod(name: string, serviceAccountName: string, automount?: boolean): V1Pod {
  return {
    metadata: { name },
    spec: {
      schedulerName: nodeName,
      restartPolicy: 'Never',
      serviceAccountName,
      ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', WHOAMI] }],
    },
  };
}

/** Waits for the pod to succeed and returns the `key=value` lines it printed. */
async function podOutput(name: string): Promise<Record<string, string>> {
  const { core } = kubeClients();
  let pod: V1Pod | undefined;
  await pollUntil(
    `pod ${name} to succeed`,
    async () => {
      pod = await core.readNamespacedPod({ namespace, name });
      if (pod.status?.phase === 'Failed') throw new Error(`pod ${name} failed`);
      return pod.status?.phase === 'Succeeded';
    },
    {
      timeoutMs: 60_000,
      describe: () => ({
        status: pod?.status?.containerStatuses,
        output: existsSync(podLogPath(namespace, name, 'main'))
          ? readFileSync(podLogPath(namespace, name, 'main'), 'utf8')
          : '',
        runner: runnerLog(),
      }),
    },
  );
  const lines = readFileSync(podLogPath(namespace, name, 'main'), 'utf8').split('\n');
  return Object.fromEntries(
    lines
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function tokenFolder(pod: string): string {
  return join(podSandboxPath(namespace, pod), 'var/run/secrets/kubernetes.io/serviceaccount');
}

function apiServerAddress(): string {
  const server = new URL(kubeClients().config.getCurrentCluster()!.server);
  return `${server.hostname}:${server.port}:${server.port}`;
}

async function createServiceAccount(name: string, automount?: boolean): Promise<void> {
  await kubeClients().core.createNamespacedServiceAccount({
    namespace,
    body: {
      metadata: { name },
      ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
    },
  });
}

before(async () => {
  namespace = await createTestNamespace('lpr-sa');
  workDir = mkdtempSync(join(tmpdir(), 'lpr-sa-'));
  // A pod whose ServiceAccount is gone by the time a runner takes it: the API server's
  // admission checked it at creation, so this is the only way such a pod comes about.
  await createServiceAccount('late');
  await kubeClients().core.createNamespacedPod({ namespace, body: whoamiPod('late', 'late') });
  await kubeClients().core.deleteNamespacedServiceAccount({ namespace, name: 'late' });

  runner = startLocalPodRunner(nodeName, join(workDir, 'runner.log'));
  await waitUntilNodeReady(nodeName, runnerLog);
});

after(async () => {
  await retireLocalPodRunner(runner, nodeName, namespace, runnerLog);
  runner = undefined;
  if (namespace) await deleteTestNamespace(namespace);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a pod whose ServiceAccount is missing waits, saying so, and starts once it exists', async () => {
  const { core } = kubeClients();
  let pod: V1Pod | undefined;
  const waiting = await pollUntil(
    'pod late to wait for its ServiceAccount',
    async () => {
      pod = await core.readNamespacedPod({ namespace, name: 'late' });
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      // ContainerCreating comes first, while the runner looks the ServiceAccount up.
      return waiting?.reason === 'ContainerCreating' ? undefined : waiting;
    },
    { timeoutMs: 30_000, describe: () => ({ status: pod?.status, runner: runnerLog() }) },
  );
  assert.equal(waiting.reason, 'CreateContainerConfigError');
  assert.equal(
    waiting.message,
    `serviceaccount "late" not found in namespace "${namespace}": the pod starts once it exists`,
  );
  assert.equal(pod?.status?.phase, 'Pending');

  await createServiceAccount('late');
  const output = await podOutput('late');
  assert.match(output.review ?? '', new RegExp(`system:serviceaccount:${namespace}:late`));
});

test('a pod is its ServiceAccount at the API server: forbidden to list pods until a Role allows it', async () => {
  const { core, config } = kubeClients();
  await createServiceAccount('reader');
  await core.createNamespacedPod({ namespace, body: whoamiPod('denied', 'reader') });
  const denied = await podOutput('denied');
  assert.equal(denied.dir, tokenFolder('denied'));
  assert.equal(denied.api, apiServerAddress());
  assert.equal(denied.namespace, namespace);
  const review = JSON.parse(denied.review ?? '{}') as { status?: { userInfo?: { username?: string } } };
  assert.equal(review.status?.userInfo?.username, `system:serviceaccount:${namespace}:reader`, denied.review);
  assert.equal(denied['list-pods'], '403');

  // The token is the one a kubelet would get: bound to this very pod.
  const token = readFileSync(join(tokenFolder('denied'), 'token'), 'utf8');
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    'kubernetes.io': { pod?: { name: string; uid: string } };
  };
  const pod = await core.readNamespacedPod({ namespace, name: 'denied' });
  assert.deepEqual(claims['kubernetes.io'].pod, { name: 'denied', uid: pod.metadata!.uid });
  assert.equal(
    readFileSync(join(tokenFolder('denied'), 'ca.crt'), 'utf8'),
    Buffer.from(config.getCurrentCluster()!.caData!, 'base64').toString('utf8'),
  );

  const rbac = config.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'pod-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'reader-reads-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
    },
  });
  // The authorizer learns of new bindings through its cache: wait until it knows this one.
  const authorization = config.makeApiClient(AuthorizationV1Api);
  await pollUntil('the RoleBinding to take effect', async () => {
    const review = await authorization.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace}:reader`,
          resourceAttributes: { namespace, verb: 'list', resource: 'pods' },
        },
      },
    });
    return review.status?.allowed;
  });
  await core.createNamespacedPod({ namespace, body: whoamiPod('allowed', 'reader') });
  assert.equal((await podOutput('allowed'))['list-pods'], '200');

  // Deleting the pod removes its token files, as a kubelet removes the pod's volumes.
  await core.deleteNamespacedPod({ namespace, name: 'denied' });
  await pollUntil('pod denied to be gone', async () => {
    const gone = !(await findOrUndefined(() => core.readNamespacedPod({ namespace, name: 'denied' })));
    return gone && !existsSync(tokenFolder('denied'));
  });
});

test('automountServiceAccountToken: the pod decides, else its ServiceAccount; off means no token at all', async () => {
  const { core } = kubeClients();
  await createServiceAccount('quiet', false);
  // [pod, ServiceAccount, the pod's automount, gets a token]
  const cases: [string, string, boolean | undefined, boolean][] = [
    ['pod-off', 'default', false, false],
    ['account-off', 'quiet', undefined, false],
    ['pod-on-over-account-off', 'quiet', true, true],
  ];
  for (const [name, account, automount] of cases)
    await core.createNamespacedPod({ namespace, body: whoamiPod(name, account, automount) });
  for (const [name, account, , token] of cases) {
    const output = await podOutput(name);
    // The API server's address is every pod's, as a kubelet's service variables are.
    assert.equal(output.api, apiServerAddress(), name);
    if (token) {
      assert.equal(output.dir, tokenFolder(name), name);
      assert.match(output.review ?? '', new RegExp(`system:serviceaccount:${namespace}:${account}`), name);
    } else {
      assert.equal(output.dir, 'none', name);
      assert.equal(existsSync(tokenFolder(name)), false, `${name} has no token folder`);
    }
  }
});
