// The local pod runner leaves nothing behind when it dies. A second runner, with
// its own node, is killed with SIGKILL while its pods run; meanwhile one pod is
// force-deleted and one is deleted gracefully. When it starts again it stops
// every process it left behind (gracefully), completes the pending deletion and
// restarts the pod that still exists, counting the restart.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  findOrUndefined,
  isProcessAlive,
  kubeClients,
  pidOfContainer,
  pollUntil,
} from '../../support/kube.ts';
import {
  logTail,
  retireLocalPodRunner,
  startLocalPodRunner,
  stopLocalPodRunner,
  waitUntilNodeReady,
} from '../../support/localPodRunner.ts';
import { uniqueName } from '../../support/names.ts';

const nodeName = uniqueName('lpr-test');
let namespace: string;
let workDir: string;
let runner: ChildProcess | undefined;

function runnerLog(): string {
  return logTail(join(workDir, 'runner.log'));
}

function startRunner(): ChildProcess {
  return startLocalPodRunner(nodeName, join(workDir, 'runner.log'));
}

async function stopRunner(signal: NodeJS.Signals): Promise<void> {
  const child = runner;
  runner = undefined;
  await stopLocalPodRunner(child, signal);
}

function loopPod(name: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      schedulerName: nodeName,
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'loop',
          image: 'busybox:1.36',
          command: [
            'sh',
            '-c',
            'trap \'touch "$MARKER_DIR/$POD_NAME.$$$$.term"; exit 0\' TERM; while true; do sleep 0.2; done',
          ],
          env: [
            { name: 'MARKER_DIR', value: workDir },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
        },
      ],
    },
  };
}

async function runningPid(name: string, restartCount: number): Promise<number> {
  const { core } = kubeClients();
  let pod: V1Pod | undefined;
  const status = await pollUntil(
    `pod ${name} to run with restartCount ${restartCount}`,
    async () => {
      pod = await core.readNamespacedPod({ namespace, name });
      const container = pod.status?.containerStatuses?.[0];
      return container?.state?.running && container.restartCount === restartCount ? container : undefined;
    },
    { timeoutMs: 30_000, describe: () => ({ status: pod?.status?.containerStatuses, runner: runnerLog() }) },
  );
  return pidOfContainer(status.containerID);
}

before(async () => {
  namespace = await createTestNamespace('kube-runner-restart');
  workDir = mkdtempSync(join(tmpdir(), 'kube-runner-restart-'));
  runner = startRunner();
  await waitUntilNodeReady(nodeName, runnerLog);
});

after(async () => {
  await retireLocalPodRunner(runner, nodeName, namespace, runnerLog);
  runner = undefined;
  if (namespace) await deleteTestNamespace(namespace);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a killed runner stops its leftover processes, completes deletions and restarts pods when it returns', async () => {
  const { core } = kubeClients();
  for (const name of ['keeps', 'vanishes', 'deleted'])
    await core.createNamespacedPod({ namespace, body: loopPod(name) });
  const before = {
    keeps: await runningPid('keeps', 0),
    vanishes: await runningPid('vanishes', 0),
    deleted: await runningPid('deleted', 0),
  };

  await stopRunner('SIGKILL');
  for (const [pod, pid] of Object.entries(before)) {
    assert.equal(isProcessAlive(pid), true, `the process of pod ${pod} outlives a killed runner`);
  }
  // While the runner is down: one pod disappears at once, one is deleted gracefully (it waits for the node).
  await core.deleteNamespacedPod({ namespace, name: 'vanishes', body: { gracePeriodSeconds: 0 } });
  await core.deleteNamespacedPod({ namespace, name: 'deleted' });
  const terminating = await core.readNamespacedPod({ namespace, name: 'deleted' });
  assert.ok(terminating.metadata?.deletionTimestamp);

  runner = startRunner();
  await pollUntil(
    'the pod deleted while the runner was down to be gone',
    async () => !(await findOrUndefined(() => core.readNamespacedPod({ namespace, name: 'deleted' }))),
    { timeoutMs: 30_000, describe: runnerLog },
  );
  const restarted = await runningPid('keeps', 1);
  assert.notEqual(restarted, before.keeps);
  assert.equal(isProcessAlive(restarted), true);
  for (const [pod, pid] of Object.entries(before)) {
    assert.equal(isProcessAlive(pid), false, `the left-behind process of pod ${pod} was stopped`);
    assert.ok(
      existsSync(join(workDir, `${pod}.${pid}.term`)),
      `the process of pod ${pod} got SIGTERM and ran its trap`,
    );
  }
  const keeps = await core.readNamespacedPod({ namespace, name: 'keeps' });
  assert.equal(keeps.status?.containerStatuses?.[0]?.lastState?.terminated?.reason, 'ContainerStatusUnknown');
});
