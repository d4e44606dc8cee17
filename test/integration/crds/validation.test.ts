// Invalid manifests are rejected at admission by the real API server, each with the
// message the schema promises. Every case starts from a valid object and breaks one thing,
// so a case fails for its own reason only (a schema error hides the CEL rules' messages).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTestNamespace,
  deleteTestNamespace,
  installCrds,
  kubectl,
  kubectlOk,
} from '../../support/crds.ts';

type Json = { [key: string]: unknown };

interface InvalidCase {
  name: string;
  /** Rejected on create. */
  manifest?: Json;
  /** Or: created first, then this merge patch to the spec is rejected. */
  existing?: Json;
  specPatch?: Json;
  /** Or: created first, then these kubectl arguments (object name appended) fail. */
  command?: string[];
  /** Fragments that must all appear in kubectl's error output. */
  expect: string[];
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge where `null` removes a key, as in a JSON merge patch. */
function merged(base: Json, patch: Json): Json {
  const result: Json = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isJson(value) && isJson(result[key])) result[key] = merged(result[key], value);
    else result[key] = value;
  }
  return result;
}

const API_VERSION = 'modelrunner.io/v1alpha1';

const modelRun = (spec: Json = {}, metadata: Json = {}): Json => ({
  apiVersion: API_VERSION,
  kind: 'ModelRun',
  metadata,
  spec: merged({ model: 'erc20_transfers', chain: 'ethereum', blocks: { start: 1000, end: 1999 } }, spec),
});

const modelSchedule = (spec: Json = {}, metadata: Json = {}): Json => ({
  apiVersion: API_VERSION,
  kind: 'ModelSchedule',
  metadata,
  spec: merged({ model: 'erc20_transfers', chain: 'ethereum', trigger: { schedule: '*/10 * * * *' } }, spec),
});

const workerPool = (spec: Json = {}, metadata: Json = {}): Json => ({
  apiVersion: API_VERSION,
  kind: 'WorkerPool',
  metadata,
  spec: merged(
    { queues: { names: ['ethereum_realtime_reads'] }, image: 'ghcr.io/example/model-runner-worker:0.1.0' },
    spec,
  ),
});

const memoryOver = { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } };

const CASES: InvalidCase[] = [
  // ModelRun: ranges
  {
    name: 'ModelRun whose end block is before its start block',
    manifest: modelRun({ blocks: { start: 2000, end: 1999 } }),
    expect: ['spec.blocks', 'end must be >= start (both inclusive)'],
  },
  {
    name: 'ModelRun without a range',
    manifest: modelRun({ blocks: null }),
    expect: ['a ModelRun needs a range: set spec.blocks {start, end}'],
  },
  {
    name: 'ModelRun with both a block range and a date range',
    manifest: modelRun({ dates: { start: '2024-10-01', end: '2024-10-02' } }),
    expect: ['spec.dates', 'spec.blocks and spec.dates are mutually exclusive'],
  },
  {
    name: 'ModelRun with a day that does not exist',
    manifest: modelRun({ blocks: null, dates: { start: '2024-02-30', end: '2024-03-01' } }),
    expect: ['spec.dates.start', '"2024-02-30" is not a calendar day: write it as YYYY-MM-DD'],
  },
  {
    name: 'ModelRun with a date in another format',
    manifest: modelRun({ blocks: null, dates: { start: '2024-10-01', end: '01/10/2024' } }),
    expect: ['spec.dates.end', '"01/10/2024" is not a calendar day'],
  },
  {
    name: 'ModelRun whose end day is before its start day',
    manifest: modelRun({ blocks: null, dates: { start: '2024-10-07', end: '2024-10-01' } }),
    expect: ['spec.dates', 'end (2024-10-01) is before start (2024-10-07)'],
  },
  {
    name: 'ModelRun with a negative block number',
    manifest: modelRun({ blocks: { start: -1, end: 10 } }),
    expect: ['spec.blocks.start', 'should be greater than or equal to 0'],
  },
  // ModelRun: names
  {
    name: 'ModelRun with an upper-case chain name',
    manifest: modelRun({ chain: 'Ethereum' }),
    expect: ['spec.chain', 'chain name "Ethereum" must be a lower-case identifier'],
  },
  {
    name: 'ModelRun with a hyphen in the model name',
    manifest: modelRun({ model: 'erc20-transfers' }),
    expect: ['spec.model', 'model name "erc20-transfers" must be a lower-case identifier'],
  },
  {
    // 40, so every queue named after the chain (<chain>_backfill_nonreads) fits in 63.
    name: 'ModelRun with a chain name longer than 40 characters',
    manifest: modelRun({ chain: 'c'.repeat(41) }),
    expect: ['spec.chain', 'Too long', '40'],
  },
  {
    name: 'ModelRun with a version that is not v<number>',
    manifest: modelRun({ version: '1.0' }),
    expect: ['spec.version', 'model version "1.0" must be the letter v and a number from 1 to 9999'],
  },
  {
    name: 'ModelRun with an unknown lane',
    manifest: modelRun({ lane: 'fast' }),
    expect: ['spec.lane', 'Unsupported value: "fast"', '"realtime", "backfill"'],
  },
  {
    name: 'ModelRun with a queue name that is not an identifier',
    manifest: modelRun({ queue: 'Backfill-1' }),
    expect: [
      'spec.queue',
      'queue name "Backfill-1" must be a lane queue <chain>_<realtime|backfill>_<reads|nonreads> or an ad-hoc lane backfill_1 to backfill_4',
    ],
  },
  {
    name: 'ModelRun with a sink topic with dots',
    manifest: modelRun({ sink: { topic: 'prod.ethereum.sink' } }),
    expect: ['spec.sink.topic', 'topic name "prod.ethereum.sink" must be lower-case letters and digits'],
  },
  {
    name: 'ModelRun whose name has a dot',
    manifest: modelRun({}, { name: 'run.one' }),
    expect: ['metadata.name', 'must be a DNS label'],
  },
  {
    name: 'ModelRun whose name is longer than 52 characters',
    manifest: modelRun({}, { name: 'r'.repeat(53) }),
    expect: ['metadata.name', 'Too long', '52'],
  },
  // ModelRun: executor and numbers
  {
    name: 'ModelRun with an explicit queue and the job executor',
    manifest: modelRun({ executor: 'job', queue: 'backfill_1' }),
    expect: ['spec.queue', 'spec.queue applies only to executor: queue'],
  },
  {
    name: 'ModelRun with job settings and the queue executor',
    manifest: modelRun({ job: { parallelism: 2 } }),
    expect: ['spec.job', 'spec.job configures the job executor: set spec.executor: job'],
  },
  {
    name: 'ModelRun with an unknown executor',
    manifest: modelRun({ executor: 'lambda' }),
    expect: ['spec.executor', 'Unsupported value: "lambda"'],
  },
  {
    name: 'ModelRun with a queue the workers would refuse (an identifier, but no lane queue)',
    manifest: modelRun({ queue: 'my_queue' }),
    expect: ['spec.queue', 'queue name "my_queue" must be a lane queue'],
  },
  {
    // Batch boundaries are the chain's (they keep lake paths and markers deterministic).
    name: 'ModelRun with a batch size',
    manifest: modelRun({ batchSize: 500 }),
    expect: ['unknown field "spec.batchSize"'],
  },
  {
    name: 'ModelRun with too many retries per batch',
    manifest: modelRun({ maxRetriesPerBatch: 101 }),
    expect: ['spec.maxRetriesPerBatch', 'should be less than or equal to 100'],
  },
  {
    name: 'ModelRun job asking for more memory than its limit',
    manifest: modelRun({ executor: 'job', job: { resources: memoryOver } }),
    expect: ['spec.job.resources.requests', 'requests.memory must not exceed limits.memory'],
  },
  {
    name: 'ModelRun job with a CPU amount that is not a quantity',
    manifest: modelRun({ executor: 'job', job: { resources: { requests: { cpu: 'lots' } } } }),
    expect: ['spec.job.resources.requests.cpu', '"lots" is not a Kubernetes quantity'],
  },
  {
    name: 'ModelRun job with a password as a plain environment value',
    manifest: modelRun({
      executor: 'job',
      job: { env: [{ name: 'CLICKHOUSE_PASSWORD', value: 'hunter2' }] },
    }),
    expect: ['env CLICKHOUSE_PASSWORD looks like a credential', 'valueFrom.secretKeyRef'],
  },
  {
    name: 'ModelRun with a field the schema does not know',
    manifest: modelRun({ blocks: { start: 1, end: 2, step: 1 } }),
    expect: ['unknown field "spec.blocks.step"'],
  },
  // ModelRun: what must not change once the run exists
  {
    name: 'ModelRun whose model is changed',
    existing: modelRun(),
    specPatch: { model: 'erc20_balances' },
    expect: ['spec.model', 'spec.model is immutable: create a new ModelRun'],
  },
  {
    name: 'ModelRun whose chain is changed',
    existing: modelRun(),
    specPatch: { chain: 'op' },
    expect: ['spec.chain', 'spec.chain is immutable'],
  },
  {
    name: 'ModelRun whose block range is changed',
    existing: modelRun(),
    specPatch: { blocks: { end: 2999 } },
    expect: ['spec.blocks', 'spec.blocks is immutable: create a new ModelRun for another range'],
  },
  {
    name: 'ModelRun switched from a block range to a date range',
    existing: modelRun(),
    specPatch: { blocks: null, dates: { start: '2024-10-01', end: '2024-10-01' } },
    expect: ['the range is immutable: a ModelRun cannot switch between spec.blocks and spec.dates'],
  },
  {
    name: 'ModelRun whose date range is changed',
    existing: modelRun({ blocks: null, dates: { start: '2024-10-01', end: '2024-10-02' } }),
    specPatch: { dates: { end: '2024-10-03' } },
    expect: ['spec.dates', 'spec.dates is immutable'],
  },
  {
    name: 'ModelRun given a version after creation',
    existing: modelRun(),
    specPatch: { version: 'v2' },
    expect: ['spec.version', 'spec.version cannot be added or removed after creation'],
  },
  {
    name: 'ModelRun whose executor is changed',
    existing: modelRun(),
    specPatch: { executor: 'job' },
    expect: ['spec.executor', 'spec.executor is immutable'],
  },
  // ModelSchedule
  {
    name: 'ModelSchedule with a minute of 61',
    manifest: modelSchedule({ trigger: { schedule: '61 * * * *' } }),
    expect: ['spec.trigger.schedule', 'schedule "61 * * * *" is not a 5-field cron schedule'],
  },
  {
    name: 'ModelSchedule with a 6-field cron schedule',
    manifest: modelSchedule({ trigger: { schedule: '0 */5 * * * *' } }),
    expect: ['spec.trigger.schedule', 'is not a 5-field cron schedule'],
  },
  {
    name: 'ModelSchedule with the time zone inside the schedule',
    manifest: modelSchedule({ trigger: { schedule: 'CRON_TZ=UTC 0 * * * *' } }),
    expect: ['spec.trigger.schedule', 'put the time zone in spec.trigger.timeZone'],
  },
  {
    name: 'ModelSchedule with neither a schedule nor realtime',
    manifest: modelSchedule({ trigger: { schedule: null, realtime: false } }),
    expect: ['spec.trigger', 'spec.trigger needs a cron schedule'],
  },
  {
    name: 'ModelSchedule with a time zone but no schedule',
    manifest: modelSchedule({ trigger: { schedule: null, realtime: true, timeZone: 'UTC' } }),
    expect: ['spec.trigger.timeZone', 'spec.trigger.timeZone applies to a cron schedule'],
  },
  {
    name: 'ModelSchedule with a time zone that is not an IANA name',
    manifest: modelSchedule({ trigger: { timeZone: 'Europe Berlin' } }),
    expect: ['spec.trigger.timeZone', '"Europe Berlin" is not an IANA time zone name'],
  },
  {
    name: 'ModelSchedule with a backfill window given twice',
    manifest: modelSchedule({ backfill: { sinceBlock: 100, sinceDate: '2024-01-01' } }),
    expect: ['spec.backfill', 'spec.backfill needs exactly one of sinceBlock'],
  },
  {
    name: 'ModelSchedule with a backfill day that does not exist',
    manifest: modelSchedule({ backfill: { sinceDate: '2024-13-01' } }),
    expect: ['spec.backfill.sinceDate', '"2024-13-01" is not a calendar day'],
  },
  {
    name: 'ModelSchedule with an unknown concurrency policy',
    manifest: modelSchedule({ concurrencyPolicy: 'Skip' }),
    expect: ['spec.concurrencyPolicy', 'Unsupported value: "Skip"', '"Allow", "Forbid", "Replace"'],
  },
  {
    name: 'ModelSchedule with a starting deadline but only a realtime trigger',
    manifest: modelSchedule({ trigger: { schedule: null, realtime: true }, startingDeadlineSeconds: 60 }),
    expect: ['spec.startingDeadlineSeconds', 'applies to a cron schedule'],
  },
  {
    name: 'ModelSchedule with a negative history limit',
    manifest: modelSchedule({ failedRunsHistoryLimit: -1 }),
    expect: ['spec.failedRunsHistoryLimit', 'should be greater than or equal to 0'],
  },
  {
    name: 'ModelSchedule with a progress deadline under a minute',
    manifest: modelSchedule({ progressDeadlineSeconds: 10 }),
    expect: ['spec.progressDeadlineSeconds', 'should be greater than or equal to 60'],
  },
  {
    name: 'ModelSchedule whose name is longer than 40 characters',
    manifest: modelSchedule({}, { name: 's'.repeat(41) }),
    expect: ['metadata.name', 'Too long', '40'],
  },
  {
    name: 'ModelSchedule run template with a queue and the job executor',
    manifest: modelSchedule({ runTemplate: { spec: { executor: 'job', queue: 'backfill_1' } } }),
    expect: ['spec.runTemplate.spec.queue', 'applies only to executor: queue'],
  },
  {
    name: 'ModelSchedule run template with an invalid label key',
    manifest: modelSchedule({ runTemplate: { metadata: { labels: { 'bad key': 'x' } } } }),
    expect: ['spec.runTemplate.metadata.labels', 'label keys must be [prefix/]name'],
  },
  {
    name: 'ModelSchedule whose chain is changed',
    existing: modelSchedule(),
    specPatch: { chain: 'base' },
    expect: ['spec.chain', 'spec.chain is immutable: the schedule'],
  },
  // WorkerPool
  {
    name: 'WorkerPool with minReplicas above maxReplicas',
    manifest: workerPool({ replicas: 5, minReplicas: 5, maxReplicas: 3 }),
    expect: ['spec.minReplicas', 'spec.minReplicas must be <= spec.maxReplicas'],
  },
  {
    name: 'WorkerPool with replicas above maxReplicas',
    manifest: workerPool({ replicas: 11 }),
    expect: ['spec.replicas', 'spec.replicas must be within [spec.minReplicas, spec.maxReplicas]'],
  },
  {
    name: 'WorkerPool scaled above maxReplicas with kubectl scale',
    existing: workerPool(),
    command: ['scale', '--replicas=50', 'workerpool'],
    expect: ['spec.replicas must be within [spec.minReplicas, spec.maxReplicas]'],
  },
  {
    name: 'WorkerPool with both queue names and a selector',
    manifest: workerPool({ queues: { selector: { chain: 'ethereum' } } }),
    expect: ['spec.queues', 'spec.queues needs exactly one of names'],
  },
  {
    name: 'WorkerPool without queues',
    manifest: workerPool({ queues: { names: null } }),
    expect: ['spec.queues', 'spec.queues needs exactly one of names'],
  },
  {
    name: 'WorkerPool listing a queue twice',
    manifest: workerPool({ queues: { names: ['backfill_1', 'backfill_1'] } }),
    expect: ['spec.queues.names[1]', 'Duplicate value: "backfill_1"'],
  },
  {
    name: 'WorkerPool selecting an unknown lane',
    manifest: workerPool({ queues: { names: null, selector: { chain: 'ethereum', lanes: ['fast'] } } }),
    expect: ['spec.queues.selector.lanes[0]', 'Unsupported value: "fast"'],
  },
  {
    name: 'WorkerPool with a token as a plain environment value',
    manifest: workerPool({ env: [{ name: 'GITHUB_TOKEN', value: 'ghp_x' }] }),
    expect: ['env GITHUB_TOKEN looks like a credential', 'use valueFrom.secretKeyRef'],
  },
  {
    name: 'WorkerPool with a password inside a URL',
    manifest: workerPool({ env: [{ name: 'BROKER', value: 'amqp://guest:guest@rabbitmq:5672' }] }),
    expect: ['env BROKER embeds a password in a URL', 'store the URL in a Secret'],
  },
  {
    name: 'WorkerPool environment variable with both value and valueFrom',
    manifest: workerPool({
      env: [
        { name: 'LOG_LEVEL', value: 'info', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'level' } } },
      ],
    }),
    expect: ['env LOG_LEVEL needs exactly one of value'],
  },
  {
    name: 'WorkerPool with an environment variable defined twice',
    manifest: workerPool({
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'LOG_LEVEL', value: 'debug' },
      ],
    }),
    expect: ['spec.env[1]', 'Duplicate value'],
  },
  {
    name: 'WorkerPool envFrom entry naming a Secret and a ConfigMap',
    manifest: workerPool({ envFrom: [{ secretRef: { name: 'a' }, configMapRef: { name: 'b' } }] }),
    expect: ['spec.envFrom[0]', 'set exactly one of secretRef or configMapRef'],
  },
  {
    name: 'WorkerPool with an image reference containing spaces',
    manifest: workerPool({ image: 'Model Runner Worker' }),
    expect: ['spec.image', '"Model Runner Worker" is not a container image reference'],
  },
  {
    name: 'WorkerPool without an image',
    manifest: workerPool({ image: null }),
    expect: ['spec.image', 'Required value'],
  },
  {
    name: 'WorkerPool with a prefetch of zero',
    manifest: workerPool({ prefetch: 0 }),
    expect: ['spec.prefetch', 'should be greater than or equal to 1'],
  },
  {
    name: 'WorkerPool polling the queue more often than every second',
    manifest: workerPool({ autoscaling: { pollIntervalSeconds: 0 } }),
    expect: ['spec.autoscaling.pollIntervalSeconds', 'should be greater than or equal to 1'],
  },
];

let namespace = '';

before(async () => {
  await installCrds();
  namespace = await createTestNamespace('crd-validation');
});

after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

test('the table holds at least 30 invalid manifests', () => {
  assert.ok(CASES.length >= 30, `only ${CASES.length} cases`);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names must be unique');
});

function withName(manifest: Json, index: number): { manifest: Json; kind: string; name: string } {
  const metadata = isJson(manifest.metadata) ? manifest.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : `invalid-${index}`;
  return { manifest: { ...manifest, metadata: { ...metadata, name } }, kind: String(manifest.kind), name };
}

describe('invalid manifests are rejected with a message that says what to fix', { concurrency: 8 }, () => {
  CASES.forEach((invalid, index) => {
    test(invalid.name, async () => {
      let result;
      if (invalid.manifest) {
        const { manifest, kind, name } = withName(invalid.manifest, index);
        result = await kubectl(['create', '--filename', '-'], { namespace, input: JSON.stringify(manifest) });
        const lookup = await kubectl(['get', kind.toLowerCase(), name, '--ignore-not-found', '-o', 'name'], {
          namespace,
        });
        assert.equal(lookup.stdout.trim(), '', `${kind}/${name} was created`);
      } else {
        assert.ok(invalid.existing, 'a case needs a manifest or an existing object');
        const { manifest, kind, name } = withName(invalid.existing, index);
        await kubectlOk(['create', '--filename', '-'], { namespace, input: JSON.stringify(manifest) });
        const before = await kubectlOk(['get', kind.toLowerCase(), name, '-o', 'jsonpath={.spec}'], {
          namespace,
        });
        result = invalid.command
          ? await kubectl([...invalid.command, name], { namespace })
          : await kubectl(
              [
                'patch',
                kind.toLowerCase(),
                name,
                '--type=merge',
                '--patch',
                JSON.stringify({ spec: invalid.specPatch }),
              ],
              { namespace },
            );
        const afterwards = await kubectlOk(['get', kind.toLowerCase(), name, '-o', 'jsonpath={.spec}'], {
          namespace,
        });
        assert.deepEqual(
          JSON.parse(afterwards),
          JSON.parse(before),
          'the rejected change must not be stored',
        );
      }
      assert.notEqual(result.exitCode, 0, `accepted: ${result.stdout}`);
      for (const fragment of invalid.expect) {
        assert.ok(result.stderr.includes(fragment), `expected "${fragment}" in:\n${result.stderr}`);
      }
    });
  });
});
