// The worker process: `node worker-image/main.ts`. Configuration comes from the environment
// (see workerConfig.ts and docs/worker.md). Queue mode consumes work queues until SIGTERM;
// job mode works a batch list (or one index of it) and exits 0 only when every batch is done.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import IORedis from 'ioredis';
import pino from 'pino';
import type { Logger } from 'pino';
import { openMarkerStore } from '../adapters/clickhouse/index.ts';
import { openLake } from '../adapters/lake/openLake.ts';
import { startMetricsServer, type MetricsServer } from '../adapters/metrics/metricsServer.ts';
import { createWorkerMetrics } from '../adapters/metrics/workerMetrics.ts';
import { RabbitConnection } from '../adapters/rabbitmq/connection.ts';
import { RabbitConsumer } from '../adapters/rabbitmq/consumer.ts';
import { RabbitPublisher } from '../adapters/rabbitmq/publisher.ts';
import { assertWorkQueueTopology } from '../adapters/rabbitmq/topology.ts';
import { RunProgressStore } from '../adapters/redis/progress.ts';
import { loadChains, parseChains, withRpcClientOverrides } from '../dataplane/chains.ts';
import type { AttemptDeps } from './batchAttempt.ts';
import { jobBatches, runJobBatches } from './jobMode.ts';
import { createModelBatchRunner } from './modelBatchRunner.ts';
import { createDeliveryHandler } from './queueDelivery.ts';
import { describeConfig, parseWorkerConfig, WorkerConfigError, type WorkerConfig } from './workerConfig.ts';

/** Exit codes: 0 done / clean shutdown, 1 work left undone or a fatal error, 2 bad configuration. */
const EXIT_INCOMPLETE = 1;
const EXIT_CONFIG = 2;

function readConfig(): WorkerConfig {
  try {
    return parseWorkerConfig(process.env, { hostname: hostname() });
  } catch (error) {
    if (error instanceof WorkerConfigError) {
      process.stderr.write(`worker configuration: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
}

/** Resolves on the first SIGTERM or SIGINT; a second one ends the process at once. */
function onShutdownSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    let received = false;
    const handle = (signal: string) => {
      if (received) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(EXIT_INCOMPLETE);
      }
      received = true;
      logger.info({ signal }, 'shutting down');
      resolve(signal);
    };
    process.on('SIGTERM', () => handle('SIGTERM'));
    process.on('SIGINT', () => handle('SIGINT'));
  });
}

async function main(): Promise<number> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel, base: { worker: config.workerName } });
  process.on('unhandledRejection', (reason) => {
    // Crash-only: whatever was in flight goes back to its queue with the connection.
    logger.fatal({ err: (reason as Error)?.message ?? String(reason) }, 'unhandled rejection');
    process.exit(EXIT_INCOMPLETE);
  });
  logger.info({ config: describeConfig(config) }, 'worker starting');

  const chains = withRpcClientOverrides(
    config.chainsFile
      ? parseChains(JSON.parse(readFileSync(config.chainsFile, 'utf8')) as unknown)
      : loadChains(),
    config.rpcClient,
  );
  const metrics = createWorkerMetrics();
  const redis = new IORedis.Redis(config.redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
  redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis error'));
  const progress = new RunProgressStore(redis, { prefix: config.progressPrefix });
  const markers = await openMarkerStore(config.clickhouseUrl, {
    database: config.clickhouseDatabase,
    chains,
  });
  const lake = await openLake(config.lakeUrl, { gcsEndpoint: config.gcsEndpoint });
  // The Kafka client loads only when the sink is on: its import is most of a worker's start-up.
  const sink = config.kafka
    ? new (await import('../adapters/kafka/sinkProducer.ts')).KafkaSink({
        brokers: config.kafka.brokers,
        clientId: config.workerName,
        logger,
        partitions: config.kafka.partitions,
        replicationFactor: config.kafka.replicationFactor,
      })
    : undefined;
  const runner = createModelBatchRunner({
    chains,
    env: process.env,
    lake,
    markers,
    sink: sink && config.kafka ? { producer: sink, env: config.kafka.sinkEnv } : undefined,
    workerName: config.workerName,
    redis,
    logger,
  });
  const attemptDeps: AttemptDeps = {
    runner,
    progress,
    metrics,
    logger,
    clock: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    workerName: config.workerName,
  };

  // Set once queue mode connects; /healthz reads it.
  const broker: { connection?: RabbitConnection } = {};
  const metricsServer: MetricsServer = await startMetricsServer({
    registry: metrics.registry,
    host: config.metricsHost,
    port: config.metricsPort,
    health: () => ({
      healthy: config.mode === 'job' || (broker.connection?.isConnected ?? false),
      details: { mode: config.mode, rabbitmq: broker.connection?.isConnected ?? null },
    }),
  });
  logger.info({ host: config.metricsHost, port: metricsServer.port }, 'metrics listening');

  const closeAll = async () => {
    await runner
      .close()
      .catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'runner close'));
    await sink?.close();
    await markers.close().catch(() => undefined);
    redis.disconnect();
    await metricsServer.close();
  };

  const shutdown = onShutdownSignal(logger);

  if (config.mode === 'job') {
    const run = config.jobRun!;
    let batches;
    try {
      batches = jobBatches(run, chains, config.jobCompletionIndex);
    } catch (error) {
      // A run this worker cannot plan (an unknown chain, an index past the end) is a bad pod spec.
      logger.error({ err: (error as Error).message }, 'job configuration');
      await closeAll();
      return EXIT_CONFIG;
    }
    const abort = new AbortController();
    void shutdown.then(() => {
      // Give the batch in flight the grace period, then interrupt it (the index exits non-zero).
      setTimeout(() => abort.abort(new Error('worker shutting down')), config.shutdownGraceMs).unref();
    });
    const outcome = await runJobBatches(
      run,
      batches,
      config.jobAttempt,
      abort.signal,
      attemptDeps,
      config.concurrency,
    );
    logger.info({ complete: outcome.complete, results: outcome.results }, 'job finished');
    await closeAll();
    return outcome.complete ? 0 : EXIT_INCOMPLETE;
  }

  const connection = await RabbitConnection.open({
    url: config.rabbitmqUrl!,
    connectionName: config.workerName,
    logger,
  });
  broker.connection = connection;
  const lost = new Promise<string>((resolve) =>
    connection.once('failed', () => resolve('rabbitmq recovery gave up')),
  );
  await connection.withChannel(async (channel) => {
    for (const queue of config.queues) await assertWorkQueueTopology(channel, queue, config.retryDelaysMs);
  });
  const publisher = new RabbitPublisher(connection, logger);
  const consumer = new RabbitConsumer(connection, {
    queues: config.queues,
    prefetch: config.prefetch,
    concurrency: config.concurrency,
    logger,
  });
  await consumer.start(
    createDeliveryHandler({
      ...attemptDeps,
      publisher,
      retryDelaysMs: config.retryDelaysMs,
    }),
  );
  const why = await Promise.race([shutdown, lost]);
  await consumer.stop(config.shutdownGraceMs);
  await publisher.close();
  await connection.close().catch(() => undefined);
  await closeAll();
  logger.info({ why }, 'worker stopped');
  return why === 'SIGTERM' || why === 'SIGINT' ? 0 : EXIT_INCOMPLETE;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`worker failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(EXIT_INCOMPLETE);
  },
);
