// The in-cluster path of loadKubeConfig against the real API server, as the local pod runner
// sets it up for a pod: KUBERNETES_SERVICE_HOST/PORT plus a service-account dir holding a
// TokenRequest token, the CA and the namespace. The API server says who we are; rotating the
// token file changes that on the next request, without a new KubeConfig.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import {
  createKubeClients,
  currentNamespace,
  isForbidden,
  loadKubeConfig,
} from '../../../adapters/kube/index.ts';
import { createTestNamespace, deleteTestNamespace, kubeClients, kubeConfig } from '../../support/kube.ts';

let namespace: string;
let accountDir: string;
before(async () => {
  namespace = await createTestNamespace('incluster');
  accountDir = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
});
after(async () => {
  rmSync(accountDir, { recursive: true, force: true });
  if (namespace) await deleteTestNamespace(namespace);
});

async function tokenFor(serviceAccount: string): Promise<string> {
  const { core } = kubeClients();
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } });
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  assert.ok(request.status?.token, 'a TokenRequest answers with a token');
  return request.status.token;
}

test('a pod-style service-account dir authenticates as that account, and a rotated token takes over', async () => {
  const admin = kubeConfig();
  const server = new URL(admin.getCurrentCluster()!.server);
  const caData = admin.getCurrentCluster()!.caData!;
  writeFileSync(join(accountDir, 'ca.crt'), Buffer.from(caData, 'base64'));
  writeFileSync(join(accountDir, 'namespace'), namespace);
  writeFileSync(join(accountDir, 'token'), `${await tokenFor('first')}\n`);

  const config = loadKubeConfig({
    KUBERNETES_SERVICE_HOST: server.hostname,
    KUBERNETES_SERVICE_PORT: server.port,
    KUBERNETES_SERVICE_ACCOUNT_DIR: accountDir,
  });
  assert.equal(currentNamespace(config), namespace);
  const whoAmI = async () =>
    (await config.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} })).status?.userInfo
      ?.username;
  assert.equal(await whoAmI(), `system:serviceaccount:${namespace}:first`);

  // RBAC applies: the account may not list Secrets.
  await assert.rejects(createKubeClients(config).core.listNamespacedSecret({ namespace }), (error) =>
    isForbidden(error),
  );

  writeFileSync(join(accountDir, 'token'), await tokenFor('second'));
  assert.equal(await whoAmI(), `system:serviceaccount:${namespace}:second`);
});
