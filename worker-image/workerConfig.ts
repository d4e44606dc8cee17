// The worker's configuration, read once from the environment by a pure function (the env is
// passed in), so every variable, default and refusal is a row in a unit-test table. Secrets
// (URLs with passwords) are kept as given and never logged; describeConfig() redacts them.
import { MAX_RETRIES_LIMIT, type RunRequest, validateRunRequest } from '../contract/batchMessage.ts';
import { parseWorkQueueName } from '../contract/queues.ts';
import { DEFAULT_RETRY_DELAYS_MS, parseRetryDelays } from '../contract/retryPolicy.ts';
import { parseBrokers } from '../adapters/kafka/brokers.ts';
import { SINK_ENV_NAME, nameRuleProblem } from '../contract/names.ts';
import { DEFAULT_PROGRESS_PREFIX } from '../adapters/redis/progress.ts';
import { redactUrl } from '../adapters/redactUrl.ts';
import { type RpcClientSettings, parseRpcClientOverrides } from '../dataplane/rpcClientSettings.ts';
import { PROCESS_NAME, SQL_IDENTIFIER } from '../dataplane/validNames.ts';

export type WorkerMode = 'queue' | 'job';

export interface WorkerConfig {
  mode: WorkerMode;
  /** Queue mode: the work queues to consume. */
  queues: string[];
  prefetch: number;
  concurrency: number;
  retryDelaysMs: readonly number[];
  shutdownGraceMs: number;
  /** `writer_name` of markers, the AMQP connection name, the Kafka client id. */
  workerName: string;
  /** Job mode: the run (WORKER_RUN), whose batches the pod derives from the chain's batch sizes. */
  jobRun: RunRequest | undefined;
  /** Job mode: JOB_COMPLETION_INDEX of an Indexed Job (work only that batch of the run). */
  jobCompletionIndex: number | undefined;
  /** Job mode: this pod's attempt at its index (JOB_INDEX_FAILURE_COUNT + 1). */
  jobAttempt: number;
  lakeUrl: string;
  gcsEndpoint: string | undefined;
  clickhouseUrl: string;
  clickhouseDatabase: string;
  /** undefined: the sink is off (WORKER_SINK=none). */
  kafka: { brokers: string[]; sinkEnv: string; partitions: number; replicationFactor: number } | undefined;
  redisUrl: string;
  progressPrefix: string;
  rabbitmqUrl: string | undefined;
  metricsHost: string;
  metricsPort: number;
  logLevel: string;
  /** A chains file replacing the bundled chains/chains.json (e.g. a mounted ConfigMap). */
  chainsFile: string | undefined;
  /** JSON-RPC client settings that replace every chain's own (`WORKER_RPC_*`). */
  rpcClient: Partial<RpcClientSettings>;
}

type Env = Readonly<Record<string, string | undefined>>;

export class WorkerConfigError extends Error {
  override name = 'WorkerConfigError';
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new WorkerConfigError(`${name} is required`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  if (!/^[0-9]{1,10}$/.test(text))
    throw new WorkerConfigError(`${name} must be an integer, not ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new WorkerConfigError(`${name} must be between ${min} and ${max}`);
  return value;
}

function url(env: Env, name: string, protocols: string[]): string {
  const value = required(env, name);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new WorkerConfigError(`${name} is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new WorkerConfigError(`${name} must be ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value;
}

/** The `WORKER_RPC_*` variables that are set, each checked against its setting's limits. */
function rpcClientOverrides(env: Env): Partial<RpcClientSettings> {
  try {
    return parseRpcClientOverrides('env', env);
  } catch (error) {
    throw new WorkerConfigError((error as Error).message);
  }
}

/** WORKER_RUN: the run request the operator writes into a Job's pod template. */
function runRequestFrom(text: string): RunRequest {
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (error) {
    throw new WorkerConfigError(`WORKER_RUN is not JSON: ${(error as Error).message}`);
  }
  const parsed = validateRunRequest(decoded);
  if (!parsed.ok) throw new WorkerConfigError(`WORKER_RUN: ${parsed.reason}`);
  return parsed.run;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;

export function parseWorkerConfig(env: Env, defaults: { hostname: string }): WorkerConfig {
  const mode = optional(env, 'WORKER_MODE') ?? 'queue';
  if (mode !== 'queue' && mode !== 'job') throw new WorkerConfigError('WORKER_MODE must be queue or job');

  let queues: string[] = [];
  let rabbitmqUrl: string | undefined;
  if (mode === 'queue') {
    queues = required(env, 'WORKER_QUEUES')
      .split(',')
      .map((queue) => queue.trim())
      .filter((queue) => queue.length > 0);
    for (const queue of queues) {
      if (!parseWorkQueueName(queue)) {
        throw new WorkerConfigError(
          `WORKER_QUEUES: ${JSON.stringify(queue)} is not a work queue (<chain>_<realtime|backfill>_<reads|nonreads> or backfill_1..4)`,
        );
      }
    }
    if (new Set(queues).size !== queues.length)
      throw new WorkerConfigError('WORKER_QUEUES lists a queue twice');
    rabbitmqUrl = url(env, 'RABBITMQ_URL', ['amqp:', 'amqps:']);
  }

  let jobRun: RunRequest | undefined;
  let jobCompletionIndex: number | undefined;
  let jobAttempt = 1;
  if (mode === 'job') {
    jobRun = runRequestFrom(required(env, 'WORKER_RUN'));
    if (optional(env, 'JOB_COMPLETION_INDEX') !== undefined) {
      jobCompletionIndex = integer(env, 'JOB_COMPLETION_INDEX', 0, 0, 1_000_000);
    }
    jobAttempt = integer(env, 'JOB_INDEX_FAILURE_COUNT', 0, 0, MAX_RETRIES_LIMIT) + 1;
  }

  const workerName = optional(env, 'WORKER_NAME') ?? optional(env, 'HOSTNAME') ?? defaults.hostname;
  if (!PROCESS_NAME.test(workerName))
    throw new WorkerConfigError(`WORKER_NAME ${JSON.stringify(workerName)} is not a valid name`);

  let retryDelaysMs = DEFAULT_RETRY_DELAYS_MS;
  const retryText = optional(env, 'WORKER_RETRY_DELAYS_MS');
  if (retryText !== undefined) {
    try {
      retryDelaysMs = parseRetryDelays(retryText);
    } catch (error) {
      throw new WorkerConfigError(`WORKER_RETRY_DELAYS_MS: ${(error as Error).message}`);
    }
  }

  const sink = optional(env, 'WORKER_SINK') ?? 'kafka';
  if (sink !== 'kafka' && sink !== 'none') throw new WorkerConfigError('WORKER_SINK must be kafka or none');
  let kafka: WorkerConfig['kafka'];
  if (sink === 'kafka') {
    const sinkEnv = required(env, 'SINK_ENV');
    const problem = nameRuleProblem(SINK_ENV_NAME, sinkEnv);
    if (problem !== undefined) throw new WorkerConfigError(`SINK_ENV: ${problem}`);
    let brokers: string[];
    try {
      brokers = parseBrokers(required(env, 'KAFKA_BROKERS'));
    } catch (error) {
      throw new WorkerConfigError((error as Error).message);
    }
    kafka = {
      brokers,
      sinkEnv,
      partitions: integer(env, 'KAFKA_SINK_PARTITIONS', 3, 1, 1_000),
      replicationFactor: integer(env, 'KAFKA_SINK_REPLICATION_FACTOR', 1, 1, 10),
    };
  }

  const clickhouseDatabase = optional(env, 'CLICKHOUSE_DATABASE') ?? 'default';
  if (!SQL_IDENTIFIER.test(clickhouseDatabase))
    throw new WorkerConfigError('CLICKHOUSE_DATABASE is not a SQL identifier');
  const progressPrefix = env.REDIS_PROGRESS_PREFIX ?? DEFAULT_PROGRESS_PREFIX;
  if (!/^[A-Za-z0-9_.:-]{0,64}$/.test(progressPrefix))
    throw new WorkerConfigError('REDIS_PROGRESS_PREFIX has invalid characters');
  const metricsHost = optional(env, 'METRICS_HOST') ?? '127.0.0.1';
  if (!HOST.test(metricsHost)) throw new WorkerConfigError('METRICS_HOST is not a host');
  const logLevel = optional(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new WorkerConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const concurrency = integer(env, 'WORKER_CONCURRENCY', 1, 1, 64);
  return {
    mode,
    queues,
    // Prefetch beyond concurrency only parks batches on this worker that another could take.
    prefetch: integer(env, 'WORKER_PREFETCH', concurrency, 1, 1_000),
    concurrency,
    retryDelaysMs,
    shutdownGraceMs: integer(env, 'WORKER_SHUTDOWN_GRACE_MS', 25_000, 0, 3_600_000),
    workerName,
    jobRun,
    jobCompletionIndex,
    jobAttempt,
    lakeUrl: required(env, 'LAKE_URL'),
    gcsEndpoint: optional(env, 'GCS_ENDPOINT'),
    clickhouseUrl: url(env, 'CLICKHOUSE_URL', ['http:', 'https:']),
    clickhouseDatabase,
    kafka,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    progressPrefix,
    rabbitmqUrl,
    metricsHost,
    metricsPort: integer(env, 'METRICS_PORT', 9464, 0, 65_535),
    logLevel,
    chainsFile: optional(env, 'WORKER_CHAINS_FILE'),
    rpcClient: rpcClientOverrides(env),
  };
}

function redact(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redactUrl(value);
}

/** The configuration as it may be logged: passwords in URLs replaced. */
export function describeConfig(config: WorkerConfig): Record<string, unknown> {
  return {
    ...config,
    clickhouseUrl: redact(config.clickhouseUrl),
    redisUrl: redact(config.redisUrl),
    rabbitmqUrl: redact(config.rabbitmqUrl),
    lakeUrl: redact(config.lakeUrl),
  };
}
