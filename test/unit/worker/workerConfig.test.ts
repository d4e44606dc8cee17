import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY_DELAYS_MS } from '../../../contract/retryPolicy.ts';
import { describeConfig, parseWorkerConfig } from '../../../worker-image/workerConfig.ts';

const base = {
  WORKER_QUEUES: 'ethereum_backfill_nonreads,backfill_2',
  RABBITMQ_URL: 'amqp://guest:secret@127.0.0.1:5672',
  LAKE_URL: '/data/lake',
  CLICKHOUSE_URL: 'http://default:chpass@127.0.0.1:8123',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.2:9092',
  SINK_ENV: 'prod',
  REDIS_URL: 'redis://127.0.0.1:6379',
};
const defaults = { hostname: 'host-1' };

test('queue mode with the defaults', () => {
  const config = parseWorkerConfig(base, defaults);
  assert.deepEqual(config, {
    mode: 'queue',
    queues: ['ethereum_backfill_nonreads', 'backfill_2'],
    prefetch: 1,
    concurrency: 1,
    retryDelaysMs: DEFAULT_RETRY_DELAYS_MS,
    shutdownGraceMs: 25_000,
    workerName: 'host-1',
    jobRun: undefined,
    jobCompletionIndex: undefined,
    jobAttempt: 1,
    lakeUrl: '/data/lake',
    gcsEndpoint: undefined,
    clickhouseUrl: 'http://default:chpass@127.0.0.1:8123',
    clickhouseDatabase: 'default',
    kafka: {
      brokers: ['127.0.0.1:9092', '127.0.0.2:9092'],
      sinkEnv: 'prod',
      partitions: 3,
      replicationFactor: 1,
    },
    redisUrl: 'redis://127.0.0.1:6379',
    progressPrefix: 'model-runner:',
    rabbitmqUrl: 'amqp://guest:secret@127.0.0.1:5672',
    metricsHost: '127.0.0.1',
    metricsPort: 9464,
    logLevel: 'info',
    chainsFile: undefined,
    rpcClient: {},
  });
});

test('prefetch follows concurrency unless set; the pod name becomes the worker name', () => {
  const config = parseWorkerConfig({ ...base, WORKER_CONCURRENCY: '4', HOSTNAME: 'worker-abc' }, defaults);
  assert.deepEqual([config.concurrency, config.prefetch, config.workerName], [4, 4, 'worker-abc']);
  const explicit = parseWorkerConfig(
    { ...base, WORKER_CONCURRENCY: '2', WORKER_PREFETCH: '3', WORKER_NAME: 'w' },
    defaults,
  );
  assert.deepEqual([explicit.concurrency, explicit.prefetch, explicit.workerName], [2, 3, 'w']);
});

const JOB_RUN = {
  runId: { namespace: 'default', name: 'run', uid: 'u-1' },
  model: 'ingest',
  version: 1,
  chain: 'local',
  range: { minBlock: 0, maxBlock: 500 },
  force: false,
  maxRetriesPerBatch: 3,
};

test('job mode takes the run, an optional completion index and failure count, and needs no RabbitMQ', () => {
  const { RABBITMQ_URL: _url, WORKER_QUEUES: _queues, ...rest } = base;
  const config = parseWorkerConfig(
    {
      ...rest,
      WORKER_MODE: 'job',
      WORKER_RUN: JSON.stringify(JOB_RUN),
      JOB_COMPLETION_INDEX: '7',
      JOB_INDEX_FAILURE_COUNT: '2',
    },
    defaults,
  );
  assert.deepEqual(
    [
      config.mode,
      config.jobRun,
      config.jobCompletionIndex,
      config.jobAttempt,
      config.rabbitmqUrl,
      config.queues,
    ],
    ['job', JOB_RUN, 7, 3, undefined, []],
  );
  const first = parseWorkerConfig(
    { ...rest, WORKER_MODE: 'job', WORKER_RUN: JSON.stringify(JOB_RUN) },
    defaults,
  );
  assert.deepEqual([first.jobCompletionIndex, first.jobAttempt], [undefined, 1]);
});

test("WORKER_RPC_* override the chains' JSON-RPC client settings, each only when set", () => {
  const cases: [Record<string, string>, Record<string, number>][] = [
    [{}, {}],
    [{ WORKER_RPC_BATCH_SIZE: '10' }, { batchSize: 10 }],
    [{ WORKER_RPC_BATCH_SIZE: ' ' }, {}],
    [
      {
        WORKER_RPC_BATCH_SIZE: '1',
        WORKER_RPC_CONCURRENT_REQUESTS: '2',
        WORKER_RPC_REQUESTS_PER_SECOND: '12.5',
        WORKER_RPC_MAX_LOGS_BLOCK_RANGE: '100',
      },
      { batchSize: 1, concurrentRequests: 2, requestsPerSecond: 12.5, maxLogsBlockRange: 100 },
    ],
    [
      { WORKER_RPC_REQUESTS_PER_SECOND: '0', WORKER_RPC_MAX_LOGS_BLOCK_RANGE: '0' },
      { requestsPerSecond: 0, maxLogsBlockRange: 0 },
    ],
  ];
  for (const [env, expected] of cases) {
    assert.deepEqual(
      parseWorkerConfig({ ...base, ...env }, defaults).rpcClient,
      expected,
      JSON.stringify(env),
    );
  }
});

test('WORKER_SINK=none turns the Kafka sink off and needs no brokers', () => {
  const { KAFKA_BROKERS: _brokers, SINK_ENV: _env, ...rest } = base;
  assert.equal(parseWorkerConfig({ ...rest, WORKER_SINK: 'none' }, defaults).kafka, undefined);
});

const refusals: [string, Record<string, string | undefined>, RegExp][] = [
  ['unknown mode', { WORKER_MODE: 'batch' }, /WORKER_MODE must be queue or job/],
  ['no queues', { WORKER_QUEUES: '' }, /WORKER_QUEUES is required/],
  [
    'a bad queue name',
    { WORKER_QUEUES: 'ethereum_backfill_nonreads,orders' },
    /"orders" is not a work queue/,
  ],
  ['a DLQ as work queue', { WORKER_QUEUES: 'ethereum_backfill_nonreads.dlq' }, /is not a work queue/],
  ['a queue twice', { WORKER_QUEUES: 'backfill_1,backfill_1' }, /lists a queue twice/],
  ['no RabbitMQ URL', { RABBITMQ_URL: undefined }, /RABBITMQ_URL is required/],
  ['RabbitMQ over http', { RABBITMQ_URL: 'http://127.0.0.1' }, /RABBITMQ_URL must be amqp/],
  ['no lake', { LAKE_URL: ' ' }, /LAKE_URL is required/],
  ['ClickHouse not a URL', { CLICKHOUSE_URL: 'clickhouse' }, /CLICKHOUSE_URL is not a URL/],
  ['a bad database', { CLICKHOUSE_DATABASE: 'db;drop' }, /CLICKHOUSE_DATABASE/],
  ['no sink env', { SINK_ENV: undefined }, /SINK_ENV is required/],
  ['sink env with a hyphen', { SINK_ENV: 'pr-od' }, /SINK_ENV: sink environment "pr-od" must be/],
  ['a bad broker', { KAFKA_BROKERS: 'kafka' }, /invalid Kafka broker/],
  ['unknown sink', { WORKER_SINK: 'stdout' }, /WORKER_SINK must be kafka or none/],
  ['redis over http', { REDIS_URL: 'http://127.0.0.1' }, /REDIS_URL must be redis/],
  ['concurrency zero', { WORKER_CONCURRENCY: '0' }, /WORKER_CONCURRENCY must be between 1 and 64/],
  ['prefetch a word', { WORKER_PREFETCH: 'many' }, /WORKER_PREFETCH must be an integer/],
  [
    'retry delays decreasing',
    { WORKER_RETRY_DELAYS_MS: '500,100' },
    /WORKER_RETRY_DELAYS_MS: retry delays must be strictly increasing/,
  ],
  ['a bad prefix', { REDIS_PROGRESS_PREFIX: 'a b' }, /REDIS_PROGRESS_PREFIX/],
  ['a bad log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  ['a bad worker name', { WORKER_NAME: 'a b' }, /WORKER_NAME/],
  [
    'batch size zero',
    { WORKER_RPC_BATCH_SIZE: '0' },
    /WORKER_RPC_BATCH_SIZE must be an integer from 1 to 1000/,
  ],
  [
    'concurrency a word',
    { WORKER_RPC_CONCURRENT_REQUESTS: 'many' },
    /WORKER_RPC_CONCURRENT_REQUESTS must be/,
  ],
  [
    'a negative rate',
    { WORKER_RPC_REQUESTS_PER_SECOND: '-5' },
    /WORKER_RPC_REQUESTS_PER_SECOND must be a number/,
  ],
  [
    'a fractional log range',
    { WORKER_RPC_MAX_LOGS_BLOCK_RANGE: '1.5' },
    /WORKER_RPC_MAX_LOGS_BLOCK_RANGE must be an integer/,
  ],
  ['job mode without a run', { WORKER_MODE: 'job' }, /WORKER_RUN is required/],
  ['job mode with a run that is not JSON', { WORKER_MODE: 'job', WORKER_RUN: '{' }, /WORKER_RUN is not JSON/],
  [
    'job mode with an invalid run',
    { WORKER_MODE: 'job', WORKER_RUN: JSON.stringify({ ...JOB_RUN, chain: 'Bad' }) },
    /WORKER_RUN: chain name "Bad"/,
  ],
  [
    'a negative index',
    { WORKER_MODE: 'job', WORKER_RUN: JSON.stringify(JOB_RUN), JOB_COMPLETION_INDEX: '-1' },
    /JOB_COMPLETION_INDEX must be an integer/,
  ],
];

for (const [name, overrides, expected] of refusals) {
  test(`refuses: ${name}`, () => {
    assert.throws(() => parseWorkerConfig({ ...base, ...overrides }, defaults), expected);
  });
}

test('describeConfig hides passwords', () => {
  const described = describeConfig(
    parseWorkerConfig({ ...base, WORKER_MODE: 'job', WORKER_RUN: JSON.stringify(JOB_RUN) }, defaults),
  );
  const text = JSON.stringify(described);
  assert.doesNotMatch(text, /chpass/);
  assert.equal(described.clickhouseUrl, 'http://default:***@127.0.0.1:8123/');
  assert.deepEqual(described.jobRun, JOB_RUN);
});
