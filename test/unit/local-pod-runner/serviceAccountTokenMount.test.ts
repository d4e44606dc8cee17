import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, mock, test } from 'node:test';
import type { AuthenticationV1TokenRequest } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ServiceAccountTokenMount } from '../../../devtools/local-pod-runner/serviceAccountTokenMount.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const LIFETIME_MS = 3_607_000;
const REFRESH_AFTER_MS = LIFETIME_MS * 0.8;
const root = mkdtempSync(join(tmpdir(), 'token-mount-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The TokenRequest API as the mount sees it: numbered tokens; `failNext` makes the next calls fail. */
function tokenApi() {
  const requests: { namespace: string; serviceAccount: string; body: AuthenticationV1TokenRequest }[] = [];
  let failNext = 0;
  return {
    requests,
    failNextCalls(count: number) {
      failNext = count;
    },
    async requestServiceAccountToken(
      namespace: string,
      serviceAccount: string,
      body: AuthenticationV1TokenRequest,
    ) {
      requests.push({ namespace, serviceAccount, body });
      if (failNext > 0) {
        failNext--;
        throw new Error('API server unavailable');
      }
      return { token: `token-${requests.length}`, expiresAt: new Date(Date.now() + LIFETIME_MS) };
    },
  };
}

/** Lets the refresh that a timer started finish its request and write. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

let dir: string;
beforeEach(() => {
  mock.timers.reset();
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00Z') });
  dir = mkdtempSync(join(root, 'pod-'));
});

function mountFor(api: ReturnType<typeof tokenApi>): ServiceAccountTokenMount {
  return new ServiceAccountTokenMount(
    { namespace: 'team-a', podName: 'operator-0', podUid: 'uid-1', serviceAccountName: 'operator', dir },
    { api, caPem: CA, log: pino({ level: 'silent' }), now: () => new Date() },
  );
}

const read = (name: string) => readFileSync(join(dir, name), 'utf8');

test('mount writes the token, the CA and the namespace; the token is bound to the pod and private', async () => {
  const api = tokenApi();
  const mount = mountFor(api);
  await mount.mount();
  mount.stop();
  assert.deepEqual([read('token'), read('ca.crt'), read('namespace')], ['token-1', CA, 'team-a']);
  assert.equal(statSync(join(dir, 'token')).mode & 0o777, 0o600);
  assert.deepEqual(api.requests, [
    {
      namespace: 'team-a',
      serviceAccount: 'operator',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          expirationSeconds: 3607,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'operator-0', uid: 'uid-1' },
        },
      },
    },
  ]);
});

test('the token is replaced once 80 % of its lifetime has passed, again and again, until stop', async () => {
  const api = tokenApi();
  const mount = mountFor(api);
  await mount.mount();
  mock.timers.tick(REFRESH_AFTER_MS - 1);
  await settle();
  assert.equal(read('token'), 'token-1');
  mock.timers.tick(1);
  await settle();
  assert.equal(read('token'), 'token-2');
  mock.timers.tick(REFRESH_AFTER_MS);
  await settle();
  assert.equal(read('token'), 'token-3');

  mount.stop();
  mock.timers.tick(10 * LIFETIME_MS);
  await settle();
  assert.equal(api.requests.length, 3);
  assert.equal(read('token'), 'token-3');
});

test('a failed refresh keeps the old token and is retried within a second', async () => {
  const api = tokenApi();
  const mount = mountFor(api);
  await mount.mount();
  api.failNextCalls(1);
  mock.timers.tick(REFRESH_AFTER_MS);
  await settle();
  assert.equal(api.requests.length, 2);
  assert.equal(read('token'), 'token-1');
  mock.timers.tick(1_000);
  await settle();
  assert.equal(read('token'), 'token-3');
  mount.stop();
});

test('mount fails when no token can be had, and schedules nothing', async () => {
  const api = tokenApi();
  api.failNextCalls(1);
  await assert.rejects(mountFor(api).mount(), /API server unavailable/);
  mock.timers.tick(10 * LIFETIME_MS);
  await settle();
  assert.equal(api.requests.length, 1);
});
