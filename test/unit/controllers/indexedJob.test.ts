import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateRunRequest } from '../../../contract/batchMessage.ts';
import {
  RUN_LABEL,
  RUN_UID_LABEL,
  type WorkerPodSettings,
  indexedJobFor,
  jobNameFor,
  parseIndexes,
} from '../../../controllers/planning/indexedJob.ts';
import { UID, modelRun, request } from './runFixtures.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('jobNameFor: the Job name leaves room for every pod hostname (<job>-<index>)', () => {
  const cases: { name: string; runName: string; completions: number; expected: string | RegExp }[] = [
    { name: 'a short name is kept', runName: 'daily', completions: 5, expected: 'daily' },
    {
      name: '61 characters and one-digit indexes fit exactly',
      runName: 'a'.repeat(61),
      completions: 10,
      expected: 'a'.repeat(61),
    },
    {
      name: '61 characters and two-digit indexes do not: shortened, with a hash of the uid',
      runName: 'a'.repeat(61),
      completions: 11,
      expected: /^a{51}-[0-9a-f]{8}$/,
    },
    {
      name: 'a dash where the name is cut is dropped',
      runName: `${'b'.repeat(47)}-${'c'.repeat(30)}`,
      completions: 100_000,
      expected: /^b{47}-[0-9a-f]{8}$/,
    },
    { name: 'a run with no batches keeps its name', runName: 'empty', completions: 0, expected: 'empty' },
  ];
  for (const { name, runName, completions, expected } of cases) {
    it(name, () => {
      const jobName = jobNameFor(runName, UID, completions);
      if (typeof expected === 'string') assert.equal(jobName, expected);
      else assert.match(jobName, expected);
    });
  }

  it('every pod hostname is a valid DNS label, for any name and index count', () => {
    const names = ['a', 'run-7', 'x'.repeat(52), 'y'.repeat(63), `${'z'.repeat(40)}-${'-'.repeat(11)}9`];
    for (const runName of names) {
      for (const completions of [1, 9, 10, 11, 999, 1_000, 100_000, 10_000_000]) {
        const hostname = `${jobNameFor(runName, UID, completions)}-${completions - 1}`;
        assert.ok(hostname.length <= 63, `${hostname} is ${hostname.length} characters`);
        assert.match(hostname, DNS_LABEL);
      }
    }
  });

  it('shortened names of two runs that share a prefix differ by their uids, and are stable', () => {
    const long = 'l'.repeat(63);
    assert.notEqual(jobNameFor(long, 'uid-one', 10), jobNameFor(long, 'uid-two', 10));
    assert.equal(jobNameFor(long, 'uid-one', 10), jobNameFor(long, 'uid-one', 10));
  });
});

describe('parseIndexes: the Job status index lists', () => {
  const cases: { text: string | undefined; expected: number[] }[] = [
    { text: undefined, expected: [] },
    { text: '', expected: [] },
    { text: '4', expected: [4] },
    { text: '1,3-5,7', expected: [1, 3, 4, 5, 7] },
    { text: ' 0 , 2-2 ', expected: [0, 2] },
    { text: '0-3,2-4', expected: [0, 1, 2, 3, 4] },
    { text: 'x,3,-1,5-', expected: [3] },
    { text: '5-3', expected: [] },
  ];
  for (const { text, expected } of cases) {
    it(JSON.stringify(text), () =>
      assert.deepEqual(
        [...parseIndexes(text)].sort((a, b) => a - b),
        expected,
      ),
    );
  }
});

describe('indexedJobFor', () => {
  const settings: WorkerPodSettings = {
    image: 'model-runner/worker:dev',
    secretName: 'model-runner-worker',
    schedulerName: 'local-pod-runner',
    env: { LAKE_URL: '/lake', SINK_ENV: 'dev' },
  };
  const runRequest = request({ maxRetriesPerBatch: 4 });

  it('an Indexed Job owned by the run, one index per batch, retries per index from maxRetriesPerBatch', () => {
    const job = indexedJobFor(modelRun(), runRequest, 5, settings);
    assert.equal(job.metadata?.name, 'daily');
    assert.equal(job.metadata?.namespace, 'team-a');
    assert.deepEqual(job.metadata?.ownerReferences, [
      {
        apiVersion: 'modelrunner.io/v1alpha1',
        kind: 'ModelRun',
        name: 'daily',
        uid: UID,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(job.metadata?.labels?.[RUN_LABEL], 'daily');
    assert.equal(job.metadata?.labels?.[RUN_UID_LABEL], UID);
    assert.deepEqual(job.spec?.template.metadata?.labels, job.metadata?.labels);
    const { template, ...spec } = job.spec!;
    assert.deepEqual(spec, {
      completionMode: 'Indexed',
      completions: 5,
      parallelism: 1,
      backoffLimitPerIndex: 4,
      podReplacementPolicy: 'Failed',
      suspend: false,
    });
    assert.equal(template.spec?.restartPolicy, 'Never');
    assert.equal(template.spec?.schedulerName, 'local-pod-runner');
    assert.equal(template.spec?.serviceAccountName, undefined);
  });

  it('maxRetriesPerBatch 0: no retry of an index', () => {
    const job = indexedJobFor(modelRun(), request({ maxRetriesPerBatch: 0 }), 5, settings);
    assert.equal(job.spec?.backoffLimitPerIndex, 0);
  });

  it('parallelism from the spec, never above the batch count; suspend follows the run', () => {
    const cases: {
      parallelism?: number;
      completions: number;
      suspend?: boolean;
      expected: [number, boolean];
    }[] = [
      { completions: 5, expected: [1, false] },
      { parallelism: 3, completions: 5, expected: [3, false] },
      { parallelism: 8, completions: 5, suspend: true, expected: [5, true] },
    ];
    for (const { parallelism, completions, suspend, expected } of cases) {
      const run = modelRun({
        executor: 'job',
        ...(parallelism === undefined ? {} : { job: { parallelism } }),
        ...(suspend === undefined ? {} : { suspend }),
      });
      const job = indexedJobFor(run, runRequest, completions, settings);
      assert.deepEqual([job.spec?.parallelism, job.spec?.suspend], expected);
    }
  });

  it('the worker container: the Secret as envFrom, settings, the run, the pod name and the attempt count', () => {
    const job = indexedJobFor(modelRun(), runRequest, 5, settings);
    const [container, ...more] = job.spec?.template.spec?.containers ?? [];
    assert.equal(more.length, 0);
    assert.equal(container?.image, 'model-runner/worker:dev');
    assert.deepEqual(container?.envFrom, [{ secretRef: { name: 'model-runner-worker' } }]);
    assert.deepEqual(container?.env, [
      { name: 'LAKE_URL', value: '/lake' },
      { name: 'SINK_ENV', value: 'dev' },
      { name: 'WORKER_MODE', value: 'job' },
      { name: 'WORKER_RUN', value: JSON.stringify(runRequest) },
      { name: 'WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      {
        name: 'JOB_INDEX_FAILURE_COUNT',
        valueFrom: {
          fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-index-failure-count']" },
        },
      },
    ]);
    const worker = container?.env?.find((entry) => entry.name === 'WORKER_RUN')?.value ?? '';
    assert.deepEqual(validateRunRequest(JSON.parse(worker)), { ok: true, run: runRequest });
  });

  it("the run's job settings: image, service account, resources, env after the operator's, envFrom after the Secret", () => {
    const run = modelRun({
      executor: 'job',
      job: {
        image: 'registry.example/worker:2',
        serviceAccountName: 'worker-sa',
        resources: { limits: { memory: '1Gi' } },
        env: [{ name: 'LAKE_URL', value: '/other-lake' }],
        envFrom: [{ configMapRef: { name: 'extra' } }],
      },
    });
    const job = indexedJobFor(run, runRequest, 5, { ...settings, schedulerName: undefined });
    const spec = job.spec?.template.spec;
    const container = spec?.containers[0];
    assert.equal(container?.image, 'registry.example/worker:2');
    assert.equal(spec?.serviceAccountName, 'worker-sa');
    assert.equal(spec?.schedulerName, undefined);
    assert.deepEqual(container?.resources, { limits: { memory: '1Gi' } });
    assert.deepEqual(container?.envFrom, [
      { secretRef: { name: 'model-runner-worker' } },
      { configMapRef: { name: 'extra' } },
    ]);
    // The later entry wins in Kubernetes: the run may override a setting, never WORKER_RUN.
    const names = container?.env?.map((entry) => entry.name);
    assert.deepEqual(names?.slice(0, 3), ['LAKE_URL', 'SINK_ENV', 'LAKE_URL']);
    assert.equal(names?.at(-3), 'WORKER_RUN');
  });

  it('the longest run name (52) with 12-digit indexes gets the shortened name', () => {
    const run = modelRun();
    run.metadata!.name = 'n'.repeat(52);
    const job = indexedJobFor(run, runRequest, 100_000_000_000, settings);
    assert.equal(job.metadata?.name, jobNameFor('n'.repeat(52), UID, 100_000_000_000));
    assert.notEqual(job.metadata?.name, 'n'.repeat(52));
    assert.equal(job.metadata?.labels?.[RUN_LABEL], 'n'.repeat(52));
  });
});
