import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  OperatorConfigError,
  describeOperatorConfig,
  parseOperatorConfig,
  workerPodEnv,
} from '../../../operator/operatorConfig.ts';

const SECRET_ENV = {
  RABBITMQ_URL: 'amqp://runner:rabbit-pass@127.0.0.1:5672/%2F',
  REDIS_URL: 'redis://:redis-pass@127.0.0.1:6379',
  CLICKHOUSE_URL: 'http://default:ch-pass@127.0.0.1:8123',
  POD_NAME: 'operator-0',
};
const MINIMAL = 'lakeUrl: gs://lake/dev\n';
const noFile = (path: string): string => {
  throw new Error(`no file ${path}`);
};

function parse(env: Record<string, string | undefined>, source: string | undefined, readFile = noFile) {
  return parseOperatorConfig({ ...SECRET_ENV, ...env }, source, readFile);
}

describe('parseOperatorConfig: defaults', () => {
  it('a document with only the lake and the env with only the endpoints', () => {
    const config = parse({}, MINIMAL);
    const { chains, rpcUrls, ...rest } = config;
    assert.deepEqual(rest, {
      namespace: 'model-runner-system',
      leaseName: 'model-runner-operator',
      identity: 'operator-0',
      watchNamespace: undefined,
      namespaceSelector: undefined,
      lakeUrl: 'gs://lake/dev',
      sinkEnv: 'dev',
      clickhouseDatabase: 'default',
      progressPrefix: 'model-runner:',
      worker: {
        image: 'model-runner/worker:dev',
        secretName: 'model-runner-worker',
        schedulerName: undefined,
        env: {},
      },
      maxInFlightPerRun: 100,
      reconcileConcurrency: 16,
      workerPools: { statisticsIntervalMs: 5_000 },
      statusIntervalMs: 5_000,
      waitPollMs: 5_000,
      metricsHost: '127.0.0.1',
      metricsPort: 9465,
      logLevel: 'info',
      endpoints: {
        rabbitmqUrl: SECRET_ENV.RABBITMQ_URL,
        redisUrl: SECRET_ENV.REDIS_URL,
        clickhouseUrl: SECRET_ENV.CLICKHOUSE_URL,
        gcsEndpoint: undefined,
        databaseUrl: undefined,
        rabbitmqManagementUrl: undefined,
      },
    });
    assert.deepEqual([...chains.keys()], ['local', 'ethereum', 'op', 'base', 'matic']);
    assert.equal(rpcUrls.size, 0);
  });

  it('an empty or missing document still needs the lake', () => {
    for (const source of [undefined, '', '  \n']) {
      assert.throws(() => parse({}, source), /lakeUrl is required/);
      assert.equal(parse({ LAKE_URL: '/lake' }, source).lakeUrl, '/lake');
    }
  });

  it('without POD_NAME the identity is the host and pid', () => {
    const config = parseOperatorConfig({ ...SECRET_ENV, POD_NAME: undefined }, MINIMAL, noFile);
    assert.match(config.identity, new RegExp(`-${process.pid}$`));
  });
});

describe('parseOperatorConfig: the document and env overrides', () => {
  const document = [
    'namespace: mr-system',
    'leaseName: mr-leader',
    'watchNamespace: team-a',
    'namespaceSelector: team=data',
    'lakeUrl: gs://lake/prod',
    'sinkEnv: prod',
    'clickhouseDatabase: markers_prod',
    'progressPrefix: "mr:"',
    'worker:',
    '  image: registry.example/worker:1.2',
    '  secretName: worker-creds',
    '  schedulerName: local-pod-runner',
    '  env: { METRICS_PORT: "0" }',
    'maxInFlightPerRun: 7',
    'reconcileConcurrency: 3',
    'statusIntervalSeconds: 2',
    'waitPollSeconds: "9"',
    'metrics: { host: 0.0.0.0, port: 9000 }',
    'logLevel: debug',
    '',
  ].join('\n');

  it('every key of the document', () => {
    const config = parse({}, document);
    assert.deepEqual(
      {
        namespace: config.namespace,
        leaseName: config.leaseName,
        watchNamespace: config.watchNamespace,
        namespaceSelector: config.namespaceSelector,
        lakeUrl: config.lakeUrl,
        sinkEnv: config.sinkEnv,
        clickhouseDatabase: config.clickhouseDatabase,
        progressPrefix: config.progressPrefix,
        worker: config.worker,
        maxInFlightPerRun: config.maxInFlightPerRun,
        reconcileConcurrency: config.reconcileConcurrency,
        statusIntervalMs: config.statusIntervalMs,
        waitPollMs: config.waitPollMs,
        metricsHost: config.metricsHost,
        metricsPort: config.metricsPort,
        logLevel: config.logLevel,
      },
      {
        namespace: 'mr-system',
        leaseName: 'mr-leader',
        watchNamespace: 'team-a',
        namespaceSelector: 'team=data',
        lakeUrl: 'gs://lake/prod',
        sinkEnv: 'prod',
        clickhouseDatabase: 'markers_prod',
        progressPrefix: 'mr:',
        worker: {
          image: 'registry.example/worker:1.2',
          secretName: 'worker-creds',
          schedulerName: 'local-pod-runner',
          env: { METRICS_PORT: '0' },
        },
        maxInFlightPerRun: 7,
        reconcileConcurrency: 3,
        statusIntervalMs: 2_000,
        waitPollMs: 9_000,
        metricsHost: '0.0.0.0',
        metricsPort: 9000,
        logLevel: 'debug',
      },
    );
  });

  it('the settings a cluster varies come from env first', () => {
    const config = parse(
      {
        POD_NAMESPACE: 'ops',
        WATCH_NAMESPACE: 'team-b',
        LAKE_URL: '/local/lake',
        SINK_ENV: 'staging',
        CLICKHOUSE_DATABASE: 'markers_staging',
      },
      document,
    );
    assert.deepEqual(
      [config.namespace, config.watchNamespace, config.lakeUrl, config.sinkEnv, config.clickhouseDatabase],
      ['ops', 'team-b', '/local/lake', 'staging', 'markers_staging'],
    );
  });

  it('metrics and log level from env only where the document says nothing', () => {
    const fromEnv = parse({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.2', LOG_LEVEL: 'warn' }, MINIMAL);
    assert.deepEqual([fromEnv.metricsPort, fromEnv.metricsHost, fromEnv.logLevel], [0, '127.0.0.2', 'warn']);
    const fromDocument = parse({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.2', LOG_LEVEL: 'warn' }, document);
    assert.deepEqual(
      [fromDocument.metricsPort, fromDocument.metricsHost, fromDocument.logLevel],
      [9000, '0.0.0.0', 'debug'],
    );
  });

  it('a chains file, and the RPC URLs of its chains from their env vars', () => {
    const chainsFile = JSON.stringify({
      chains: [
        {
          name: 'local',
          chainId: 31337,
          rpc: { env: 'ETH_RPC_URL', secret: { name: 'rpc-local', key: 'url' } },
          expectedBlocksPerDay: 86400,
          batchSizes: [{ fromBlock: 0, batchSize: 10 }],
          tipSafetyBlocks: 2,
        },
      ],
    });
    const config = parse(
      { ETH_RPC_URL: 'https://eth.example/v2/api-key-123', OP_RPC_URL: 'https://op.example' },
      `${MINIMAL}chainsFile: /etc/mr/chains.json\n`,
      (path) => (path === '/etc/mr/chains.json' ? chainsFile : noFile(path)),
    );
    assert.deepEqual([...config.chains.keys()], ['local']);
    assert.equal(config.chains.get('local')?.batchSizes[0]?.batchSize, 10);
    assert.deepEqual([...config.rpcUrls], [['local', 'https://eth.example/v2/api-key-123']]);
  });

  it('workerPodEnv: the non-secret settings, with the configured extras last', () => {
    assert.deepEqual(workerPodEnv(parse({}, document)), {
      LAKE_URL: 'gs://lake/prod',
      CLICKHOUSE_DATABASE: 'markers_prod',
      SINK_ENV: 'prod',
      REDIS_PROGRESS_PREFIX: 'mr:',
      METRICS_PORT: '0',
    });
  });
});

describe('parseOperatorConfig: refusals', () => {
  const cases: {
    name: string;
    env?: Record<string, string | undefined>;
    source?: string;
    message: RegExp;
  }[] = [
    { name: 'not YAML', source: 'lakeUrl: [', message: /^the operator configuration is not YAML/ },
    { name: 'not a mapping', source: '- lakeUrl', message: /must be a mapping$/ },
    {
      name: 'an unknown key (a typo)',
      source: `${MINIMAL}maxInflightPerRun: 3\n`,
      message: /^unknown configuration keys: maxInflightPerRun$/,
    },
    {
      name: 'worker not a mapping',
      source: `${MINIMAL}worker: model-runner/worker\n`,
      message: /^worker must be a mapping$/,
    },
    {
      name: 'metrics not a mapping',
      source: `${MINIMAL}metrics: 9000\n`,
      message: /^metrics must be a mapping$/,
    },
    {
      name: 'a number where a string belongs',
      source: `${MINIMAL}sinkEnv: 7\n`,
      message: /^sinkEnv must be a string$/,
    },
    { name: 'a bad namespace', source: `${MINIMAL}namespace: Team_A\n`, message: /^namespace: / },
    {
      name: 'a bad WATCH_NAMESPACE',
      env: { WATCH_NAMESPACE: 'a/b' },
      source: MINIMAL,
      message: /^watchNamespace: /,
    },
    {
      name: 'a namespace selector with odd characters',
      source: `${MINIMAL}namespaceSelector: "a;b"\n`,
      message: /^namespaceSelector is not a label selector$/,
    },
    {
      name: 'a bad POD_NAME',
      env: { POD_NAME: 'op 0' },
      source: MINIMAL,
      message: /^POD_NAME "op 0" is not a valid name$/,
    },
    {
      name: 'a database that is not an identifier',
      env: { CLICKHOUSE_DATABASE: 'x; DROP' },
      source: MINIMAL,
      message: /^clickhouseDatabase is not a SQL identifier$/,
    },
    {
      name: 'a progress prefix with spaces',
      source: `${MINIMAL}progressPrefix: "a b"\n`,
      message: /^progressPrefix has invalid characters$/,
    },
    {
      name: 'a bad image',
      source: `${MINIMAL}worker: { image: "Worker Image" }\n`,
      message: /^worker\.image "Worker Image" is not an image reference$/,
    },
    {
      name: 'a lower-case worker env name',
      source: `${MINIMAL}worker: { env: { lake: x } }\n`,
      message: /^worker\.env\.lake must be/,
    },
    {
      name: 'a worker env value that is not a string',
      source: `${MINIMAL}worker: { env: { PORT: 9 } }\n`,
      message: /^worker\.env\.PORT must be/,
    },
    {
      name: 'worker env as a list',
      source: `${MINIMAL}worker: { env: [A] }\n`,
      message: /^worker\.env must be a mapping/,
    },
    {
      name: 'maxInFlightPerRun 0',
      source: `${MINIMAL}maxInFlightPerRun: 0\n`,
      message: /^maxInFlightPerRun must be a whole number from 1 to 100000$/,
    },
    {
      name: 'reconcileConcurrency 0',
      source: `${MINIMAL}reconcileConcurrency: 0\n`,
      message: /^reconcileConcurrency must be a whole number from 1 to 256$/,
    },
    {
      name: 'maxInFlightPerRun 1.5',
      source: `${MINIMAL}maxInFlightPerRun: 1.5\n`,
      message: /^maxInFlightPerRun must be a whole number/,
    },
    {
      name: 'statusIntervalSeconds as words',
      source: `${MINIMAL}statusIntervalSeconds: five\n`,
      message: /^statusIntervalSeconds must be a whole number from 1 to 3600$/,
    },
    {
      name: 'a port out of range',
      env: { METRICS_PORT: '70000' },
      source: MINIMAL,
      message: /^metrics\.port must be a whole number from 0 to 65535$/,
    },
    {
      name: 'an unknown log level',
      source: `${MINIMAL}logLevel: verbose\n`,
      message: /^logLevel must be one of fatal, error/,
    },
    {
      name: 'a missing endpoint',
      env: { REDIS_URL: undefined },
      source: MINIMAL,
      message: /^REDIS_URL is required: give it from the operator's Secret$/,
    },
    {
      name: 'an endpoint that is not a URL',
      env: { CLICKHOUSE_URL: 'ch-pass@clickhouse' },
      source: MINIMAL,
      message: /^CLICKHOUSE_URL is not a URL$/,
    },
    {
      name: 'an endpoint of the wrong kind',
      env: { RABBITMQ_URL: 'http://runner:rabbit-pass@rabbit' },
      source: MINIMAL,
      message: /^RABBITMQ_URL must be amqp:\/\/ or amqps:\/\/$/,
    },
    {
      name: 'a chain RPC URL of the wrong kind',
      env: { ETH_RPC_URL: 'ws://eth.example/key' },
      source: MINIMAL,
      message: /^ETH_RPC_URL must be http:\/\/ or https:\/\/$/,
    },
    {
      name: 'a chains file that cannot be read',
      source: `${MINIMAL}chainsFile: /nowhere.json\n`,
      message: /^chainsFile \/nowhere\.json: no file \/nowhere\.json$/,
    },
  ];
  for (const { name, env, source, message } of cases) {
    it(name, () => {
      assert.throws(
        () => parse(env ?? {}, source),
        (error: unknown) => {
          assert.ok(error instanceof OperatorConfigError, String(error));
          assert.match(error.message, message);
          for (const secret of ['rabbit-pass', 'redis-pass', 'ch-pass', '/key'])
            assert.ok(!error.message.includes(secret), `${error.message} shows ${secret}`);
          return true;
        },
      );
    });
  }
});

describe('describeOperatorConfig: what may be logged', () => {
  it('never a password, never the path of an RPC URL (providers put keys there)', () => {
    const config = parse(
      {
        ETH_RPC_URL: 'https://user:rpc-pass@eth.example:8443/v2/api-key-123?token=q',
        GCS_ENDPOINT: 'http://gcs:gcs-pass@127.0.0.1:4443',
        DATABASE_URL: 'postgres://runner:pg-pass@127.0.0.1:5432/runs',
        RABBITMQ_MANAGEMENT_URL: 'http://runner:mgmt-pass@127.0.0.1:15672',
      },
      MINIMAL,
    );
    const described = describeOperatorConfig(config);
    const text = JSON.stringify(described);
    for (const secret of [
      'rabbit-pass',
      'redis-pass',
      'ch-pass',
      'rpc-pass',
      'gcs-pass',
      'pg-pass',
      'mgmt-pass',
      'api-key-123',
      'token=q',
      'user:',
    ])
      assert.ok(!text.includes(secret), `the description shows ${secret}: ${text}`);
    assert.deepEqual(described.rpcUrls, { local: 'eth.example:8443' });
    assert.deepEqual(described.endpoints, {
      rabbitmqUrl: 'amqp://runner:***@127.0.0.1:5672/%2F',
      redisUrl: 'redis://:***@127.0.0.1:6379',
      clickhouseUrl: 'http://default:***@127.0.0.1:8123/',
      gcsEndpoint: 'http://gcs:***@127.0.0.1:4443/',
      databaseUrl: 'postgres://runner:***@127.0.0.1:5432/runs',
      rabbitmqManagementUrl: 'http://runner:***@127.0.0.1:15672/',
    });
    assert.deepEqual(described.chains, ['local', 'ethereum', 'op', 'base', 'matic']);
    assert.equal(described.lakeUrl, 'gs://lake/dev');
  });
});
