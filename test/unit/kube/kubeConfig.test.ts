import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RequestContext } from '@kubernetes/client-node';
import { clusterCaPem, currentNamespace, loadKubeConfig } from '../../../adapters/kube/kubeConfig.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function serviceAccountDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sa-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

async function authorization(config: ReturnType<typeof loadKubeConfig>): Promise<string | undefined> {
  const context = new RequestContext('https://10.0.0.1:443/api', 'GET');
  await config.applySecurityAuthentication(context);
  return context.getHeaders()['Authorization'];
}

/** What the kubelet (or the local pod runner) gives a pod. */
function podEnv(dir: string) {
  return {
    KUBERNETES_SERVICE_HOST: '10.0.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_ACCOUNT_DIR: dir,
  };
}

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('in a pod: server from KUBERNETES_SERVICE_HOST/PORT, CA and namespace from the service-account dir', () => {
  const dir = serviceAccountDir({ token: 'abc\n', 'ca.crt': CA, namespace: 'model-runner-system\n' });
  const cases: { host: string; server: string }[] = [
    { host: '10.96.0.1', server: 'https://10.96.0.1:443' },
    { host: 'fd00::1', server: 'https://[fd00::1]:443' },
  ];
  for (const { host, server } of cases) {
    const config = loadKubeConfig({
      KUBERNETES_SERVICE_HOST: host,
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_ACCOUNT_DIR: dir,
    });
    assert.equal(config.getCurrentCluster()?.server, server);
    assert.equal(config.getCurrentCluster()?.caFile, join(dir, 'ca.crt'));
    assert.equal(clusterCaPem(config), CA);
    assert.equal(currentNamespace(config), 'model-runner-system');
  }
});

test("a kubeconfig's CA, inline or from a file", () => {
  const dir = serviceAccountDir({ 'ca.crt': CA });
  const kubeconfig = (cluster: string) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      'contexts: [{ name: c, context: { cluster: k, user: u } }]',
      `clusters: [{ name: k, cluster: { server: "https://127.0.0.1:6443", ${cluster} } }]`,
      'users: [{ name: u, user: { token: t } }]',
    ].join('\n');
  const cases: { name: string; cluster: string; expected: string }[] = [
    {
      name: 'inline',
      cluster: `certificate-authority-data: ${Buffer.from(CA).toString('base64')}`,
      expected: CA,
    },
    { name: 'a file', cluster: `certificate-authority: ${join(dir, 'ca.crt')}`, expected: CA },
  ];
  for (const { name, cluster, expected } of cases) {
    const path = join(dir, `kubeconfig-${name.replace(' ', '-')}`);
    writeFileSync(path, kubeconfig(cluster));
    assert.equal(clusterCaPem(loadKubeConfig({ KUBECONFIG: path })), expected, name);
  }
});

test('the token is sent trimmed and re-read as soon as the file is replaced', async () => {
  const dir = serviceAccountDir({ token: 'first-token\n', 'ca.crt': CA });
  let now = 0;
  const config = loadKubeConfig(podEnv(dir), () => now);
  assert.equal(await authorization(config), 'Bearer first-token');
  writeFileSync(join(dir, 'token'), 'rotated-token');
  utimesSync(join(dir, 'token'), new Date(), new Date(Date.now() + 5_000));
  assert.equal(await authorization(config), 'Bearer rotated-token', 'a new mtime: read at once');
  now = 30_000;
  assert.equal(await authorization(config), 'Bearer rotated-token', 'unchanged file: cached');
  assert.equal(currentNamespace(config), undefined, 'no namespace file');
});

test('a token rewritten with the same mtime is still picked up within a minute', async () => {
  const dir = serviceAccountDir({ token: 'one', 'ca.crt': CA });
  const mtime = new Date('2026-01-01T00:00:00Z');
  utimesSync(join(dir, 'token'), mtime, mtime);
  let now = 0;
  const config = loadKubeConfig(podEnv(dir), () => now);
  assert.equal(await authorization(config), 'Bearer one');
  writeFileSync(join(dir, 'token'), 'two');
  utimesSync(join(dir, 'token'), mtime, mtime);
  now = 59_999;
  assert.equal(await authorization(config), 'Bearer one');
  now = 60_000;
  assert.equal(await authorization(config), 'Bearer two');
});

test('KUBECONFIG wins over the in-cluster settings', () => {
  const dir = serviceAccountDir({
    kubeconfig: [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:36443"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u, namespace: team}}]',
      'current-context: x',
    ].join('\n'),
  });
  const config = loadKubeConfig({ ...podEnv(dir), KUBECONFIG: join(dir, 'kubeconfig') });
  assert.equal(config.getCurrentCluster()?.server, 'https://127.0.0.1:36443');
  assert.equal(currentNamespace(config), 'team');
});

test('neither a kubeconfig nor a pod: an error that says what is missing', () => {
  const empty = serviceAccountDir({});
  const cases: { env: Record<string, string>; message: RegExp }[] = [
    {
      env: { KUBECONFIG: '/nonexistent/kubeconfig' },
      message: /KUBECONFIG names \/nonexistent\/kubeconfig, which does not exist/,
    },
    {
      env: { KUBERNETES_SERVICE_ACCOUNT_DIR: empty },
      message: /set KUBECONFIG.*missing: KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT/,
    },
    {
      env: podEnv(empty),
      message: new RegExp(`missing: ${join(empty, 'token')}, ${join(empty, 'ca.crt')}`),
    },
  ];
  for (const { env, message } of cases)
    assert.throws(() => loadKubeConfig(env), message, JSON.stringify(env));
});

test('requests share one connection pool until the TLS files change', async () => {
  const dir = serviceAccountDir({ token: 't', 'ca.crt': CA });
  const config = loadKubeConfig(podEnv(dir));
  const dispatcherOf = async () => {
    const context = new RequestContext('https://10.0.0.1:443/api', 'GET');
    await config.applySecurityAuthentication(context);
    return context.getDispatcher();
  };
  const first = await dispatcherOf();
  assert.ok(first, 'a TLS dispatcher');
  assert.equal(await dispatcherOf(), first, 'the second request reuses it');
  writeFileSync(join(dir, 'ca.crt'), CA + CA);
  const afterRotation = await dispatcherOf();
  assert.notEqual(afterRotation, first, 'a rotated CA gets a new pool');
  assert.equal(await dispatcherOf(), afterRotation);
});
