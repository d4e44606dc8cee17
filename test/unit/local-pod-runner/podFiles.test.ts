import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  containerLogPath,
  isDnsLabel,
  isDnsSubdomain,
  parsePodKey,
  podKey,
  podSandboxDir,
  serviceAccountDir,
} from '../../../devtools/local-pod-runner/podFiles.ts';

test('container logs live in one flat directory, named namespace_pod_container', () => {
  assert.equal(containerLogPath('/s/pods', 'team-a', 'job-x.1', 'main'), '/s/pods/team-a_job-x.1_main.log');
  assert.equal(podSandboxDir('/s/pods', 'team-a', 'job-x'), '/s/pods/team-a_job-x');
  assert.equal(
    serviceAccountDir('/s/pods', 'team-a', 'job-x'),
    '/s/pods/team-a_job-x/var/run/secrets/kubernetes.io/serviceaccount',
  );
  assert.throws(() => serviceAccountDir('/s/pods', '../etc', 'job-x'), /invalid/);
});

const unsafe: [string, string, string][] = [
  ['../etc', 'pod', 'main'],
  ['ns', '../../etc/passwd', 'main'],
  ['ns', 'pod', 'a/b'],
  ['ns', 'pod', 'Main'],
  ['ns_x', 'pod', 'main'],
  ['ns', 'a..b', 'main'],
  ['', 'pod', 'main'],
];
for (const [namespace, pod, container] of unsafe) {
  test(`refuses to build a path from ${JSON.stringify([namespace, pod, container])}`, () => {
    assert.throws(() => containerLogPath('/s/pods', namespace, pod, container), /invalid/);
  });
}

test('DNS label and subdomain rules', () => {
  assert.deepEqual(['a', 'a-1', '-a', 'a-', 'A', 'a.b', 'x'.repeat(63), 'x'.repeat(64)].map(isDnsLabel), [
    true,
    true,
    false,
    false,
    false,
    false,
    true,
    false,
  ]);
  assert.deepEqual(['a.b', 'a..b', '.a', 'job-x.1'].map(isDnsSubdomain), [true, false, false, true]);
});

test('pod keys round-trip', () => {
  assert.deepEqual(parsePodKey(podKey('ns', 'pod.a')), { namespace: 'ns', name: 'pod.a' });
  assert.throws(() => parsePodKey('nokey'), /invalid pod key/);
});
