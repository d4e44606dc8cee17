// The operator's configuration: one document (a ConfigMap key given as OPERATOR_CONFIG, or a
// file at OPERATOR_CONFIG_FILE) for everything that is not secret, plus the environment for
// the service endpoints, whose URLs carry credentials and so come from a Secret. Pure: the env
// and the document's text are passed in, so every default and refusal is a table row.
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { NAMESPACE_NAME, SINK_ENV_NAME, nameRuleProblem } from '../contract/names.ts';
import { type Chains, loadChains, parseChains } from '../dataplane/chains.ts';
import { PROCESS_NAME, SQL_IDENTIFIER } from '../dataplane/validNames.ts';
import { redactUrl } from '../adapters/redactUrl.ts';

export interface OperatorConfig {
  /** Where the leader Lease lives (the operator's own namespace). */
  namespace: string;
  leaseName: string;
  /** This replica's name in the Lease, Events and logs. */
  identity: string;
  /** Reconcile only this namespace (tests, single-tenant installs); undefined: every namespace. */
  watchNamespace: string | undefined;
  /** Reconcile only in namespaces whose labels match this selector (e.g. `team=data`); undefined: all. */
  namespaceSelector: string | undefined;
  chains: Chains;
  /** Non-secret settings every worker pod gets. */
  lakeUrl: string;
  sinkEnv: string;
  clickhouseDatabase: string;
  progressPrefix: string;
  worker: {
    image: string;
    secretName: string;
    schedulerName: string | undefined;
    /** Extra non-secret env of every worker pod (e.g. METRICS_PORT on a shared host). */
    env: Record<string, string>;
  };
  maxInFlightPerRun: number;
  /** ModelRuns reconciled at once (each waits on the API, ClickHouse, Redis and the broker). */
  reconcileConcurrency: number;
  workerPools: {
    /**
     * The broker's collect_statistics_interval (RabbitMQ's default 5 s): how stale the
     * management API's figures may be. A scale-down waits at least two of them, so it never
     * acts on counts that do not show the latest deliveries yet.
     */
    statisticsIntervalMs: number;
  };
  statusIntervalMs: number;
  waitPollMs: number;
  metricsHost: string;
  metricsPort: number;
  logLevel: string;
  /** From the environment (a Secret): URLs with credentials. */
  endpoints: {
    rabbitmqUrl: string;
    redisUrl: string;
    clickhouseUrl: string;
    gcsEndpoint: string | undefined;
    /** The run history's Postgres; undefined: no history. */
    databaseUrl: string | undefined;
    /** The RabbitMQ management API (queue depth for WorkerPools); undefined: depth unknown. */
    rabbitmqManagementUrl: string | undefined;
  };
  /** The chains' JSON-RPC URLs the operator may read the tip from (env var per chain, optional). */
  rpcUrls: ReadonlyMap<string, string>;
}

export class OperatorConfigError extends Error {
  override name = 'OperatorConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const DOCUMENT_KEYS = new Set([
  'namespace',
  'leaseName',
  'watchNamespace',
  'namespaceSelector',
  'chainsFile',
  'lakeUrl',
  'sinkEnv',
  'clickhouseDatabase',
  'progressPrefix',
  'worker',
  'maxInFlightPerRun',
  'reconcileConcurrency',
  'workerPools',
  'statusIntervalSeconds',
  'waitPollSeconds',
  'metrics',
  'logLevel',
]);
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const IMAGE = /^[a-z0-9]+([._/:@-][a-zA-Z0-9]+)*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new OperatorConfigError(`${where} must be a string`);
  return value.trim();
}

function wholeNumber(value: unknown, where: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new OperatorConfigError(`${where} must be a whole number from ${min} to ${max}`);
  }
  return number;
}

function url(env: Env, name: string, protocols: string[], required = true): string | undefined {
  const value = env[name]?.trim();
  if (!value) {
    if (required) throw new OperatorConfigError(`${name} is required: give it from the operator's Secret`);
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new OperatorConfigError(`${name} is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new OperatorConfigError(`${name} must be ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value;
}

function requireRule(rule: Parameters<typeof nameRuleProblem>[0], value: string, where: string): string {
  const problem = nameRuleProblem(rule, value);
  if (problem) throw new OperatorConfigError(`${where}: ${problem}`);
  return value;
}

function parseDocument(source: string | undefined): Record<string, unknown> {
  if (source === undefined || source.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(source);
  } catch (error) {
    throw new OperatorConfigError(`the operator configuration is not YAML: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new OperatorConfigError('the operator configuration must be a mapping');
  const unknown = Object.keys(parsed).filter((key) => !DOCUMENT_KEYS.has(key));
  if (unknown.length > 0) throw new OperatorConfigError(`unknown configuration keys: ${unknown.join(', ')}`);
  return parsed;
}

/**
 * The configuration from the document (`source`, YAML or JSON) and the environment. Settings a
 * deployment varies by cluster may also come from env: WATCH_NAMESPACE, LAKE_URL,
 * CLICKHOUSE_DATABASE, SINK_ENV, POD_NAMESPACE and POD_NAME (the downward API).
 */
export function parseOperatorConfig(
  env: Env,
  source: string | undefined,
  readFile: (path: string) => string,
): OperatorConfig {
  const document = parseDocument(source);
  const worker = document.worker === undefined ? {} : document.worker;
  if (!isRecord(worker)) throw new OperatorConfigError('worker must be a mapping');
  const metrics = document.metrics === undefined ? {} : document.metrics;
  if (!isRecord(metrics)) throw new OperatorConfigError('metrics must be a mapping');
  const workerPools = document.workerPools === undefined ? {} : document.workerPools;
  if (!isRecord(workerPools)) throw new OperatorConfigError('workerPools must be a mapping');

  const namespace = requireRule(
    NAMESPACE_NAME,
    env.POD_NAMESPACE ?? text(document.namespace, 'namespace') ?? 'model-runner-system',
    'namespace',
  );
  const watchNamespaceText = env.WATCH_NAMESPACE ?? text(document.watchNamespace, 'watchNamespace');
  const watchNamespace = watchNamespaceText
    ? requireRule(NAMESPACE_NAME, watchNamespaceText, 'watchNamespace')
    : undefined;
  const namespaceSelector = text(document.namespaceSelector, 'namespaceSelector');
  if (namespaceSelector !== undefined && !/^[A-Za-z0-9_./!=,() -]{1,512}$/.test(namespaceSelector)) {
    throw new OperatorConfigError('namespaceSelector is not a label selector');
  }
  const identity = env.POD_NAME ?? `${hostname()}-${process.pid}`;
  if (!PROCESS_NAME.test(identity))
    throw new OperatorConfigError(`POD_NAME ${JSON.stringify(identity)} is not a valid name`);

  const chainsFile = text(document.chainsFile, 'chainsFile');
  let chains: Chains;
  try {
    chains = chainsFile ? parseChains(JSON.parse(readFile(chainsFile)) as unknown) : loadChains();
  } catch (error) {
    throw new OperatorConfigError(`chainsFile ${chainsFile}: ${(error as Error).message}`);
  }

  const lakeUrl = env.LAKE_URL ?? text(document.lakeUrl, 'lakeUrl');
  if (!lakeUrl) throw new OperatorConfigError('lakeUrl is required (the data lake workers write to)');
  const sinkEnv = requireRule(
    SINK_ENV_NAME,
    env.SINK_ENV ?? text(document.sinkEnv, 'sinkEnv') ?? 'dev',
    'sinkEnv',
  );
  const clickhouseDatabase =
    env.CLICKHOUSE_DATABASE ?? text(document.clickhouseDatabase, 'clickhouseDatabase') ?? 'default';
  if (!SQL_IDENTIFIER.test(clickhouseDatabase))
    throw new OperatorConfigError('clickhouseDatabase is not a SQL identifier');
  const progressPrefix = text(document.progressPrefix, 'progressPrefix') ?? 'model-runner:';
  if (!/^[A-Za-z0-9_.:-]{0,64}$/.test(progressPrefix))
    throw new OperatorConfigError('progressPrefix has invalid characters');

  const image = text(worker.image, 'worker.image') ?? 'model-runner/worker:dev';
  if (!IMAGE.test(image))
    throw new OperatorConfigError(`worker.image ${JSON.stringify(image)} is not an image reference`);
  const secretName = requireRule(
    NAMESPACE_NAME,
    text(worker.secretName, 'worker.secretName') ?? 'model-runner-worker',
    'worker.secretName',
  );
  const schedulerName = text(worker.schedulerName, 'worker.schedulerName');
  const workerEnv = worker.env === undefined ? {} : worker.env;
  if (!isRecord(workerEnv)) throw new OperatorConfigError('worker.env must be a mapping of names to values');
  for (const [name, value] of Object.entries(workerEnv)) {
    if (!ENV_NAME.test(name) || typeof value !== 'string') {
      throw new OperatorConfigError(`worker.env.${name} must be an upper-case env name with a string value`);
    }
  }

  const logLevel = text(document.logLevel, 'logLevel') ?? env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new OperatorConfigError(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  const rpcUrls = new Map<string, string>();
  for (const chain of chains.values()) {
    const rpc = url(env, chain.rpc.env, ['http:', 'https:'], false);
    if (rpc) rpcUrls.set(chain.name, rpc);
  }

  return {
    namespace,
    leaseName: requireRule(
      NAMESPACE_NAME,
      text(document.leaseName, 'leaseName') ?? 'model-runner-operator',
      'leaseName',
    ),
    identity,
    watchNamespace,
    namespaceSelector,
    chains,
    lakeUrl,
    sinkEnv,
    clickhouseDatabase,
    progressPrefix,
    worker: { image, secretName, schedulerName, env: workerEnv as Record<string, string> },
    maxInFlightPerRun: wholeNumber(document.maxInFlightPerRun, 'maxInFlightPerRun', 100, 1, 100_000),
    reconcileConcurrency: wholeNumber(document.reconcileConcurrency, 'reconcileConcurrency', 16, 1, 256),
    workerPools: {
      statisticsIntervalMs:
        wholeNumber(
          workerPools.statisticsIntervalSeconds,
          'workerPools.statisticsIntervalSeconds',
          5,
          1,
          60,
        ) * 1000,
    },
    statusIntervalMs: wholeNumber(document.statusIntervalSeconds, 'statusIntervalSeconds', 5, 1, 3600) * 1000,
    waitPollMs: wholeNumber(document.waitPollSeconds, 'waitPollSeconds', 5, 1, 3600) * 1000,
    metricsHost: text(metrics.host, 'metrics.host') ?? env.METRICS_HOST ?? '127.0.0.1',
    metricsPort: wholeNumber(metrics.port ?? env.METRICS_PORT, 'metrics.port', 9465, 0, 65_535),
    logLevel,
    endpoints: {
      rabbitmqUrl: url(env, 'RABBITMQ_URL', ['amqp:', 'amqps:'])!,
      redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:'])!,
      clickhouseUrl: url(env, 'CLICKHOUSE_URL', ['http:', 'https:'])!,
      gcsEndpoint: url(env, 'GCS_ENDPOINT', ['http:', 'https:'], false),
      databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], false),
      rabbitmqManagementUrl: url(env, 'RABBITMQ_MANAGEMENT_URL', ['http:', 'https:'], false),
    },
    rpcUrls,
  };
}

/** The configuration as it may be logged: credentials in URLs replaced, RPC URLs by host only. */
export function describeOperatorConfig(config: OperatorConfig): Record<string, unknown> {
  return {
    ...config,
    chains: [...config.chains.keys()],
    endpoints: Object.fromEntries(
      Object.entries(config.endpoints).map(([key, value]) => [
        key,
        value === undefined ? undefined : redactUrl(value),
      ]),
    ),
    rpcUrls: Object.fromEntries([...config.rpcUrls].map(([chain, value]) => [chain, new URL(value).host])),
  };
}

/** The non-secret env every worker pod gets from the operator's configuration. */
export function workerPodEnv(config: OperatorConfig): Record<string, string> {
  return {
    LAKE_URL: config.lakeUrl,
    CLICKHOUSE_DATABASE: config.clickhouseDatabase,
    SINK_ENV: config.sinkEnv,
    REDIS_PROGRESS_PREFIX: config.progressPrefix,
    ...config.worker.env,
  };
}
