// Everything one worker integration test needs, all its own: a chain name (so its queue, lake
// paths, markers and Kafka topic are unique), a chains file naming that chain with its own RPC
// env var, a lake folder, a ClickHouse database, a Redis prefix and a sink env. `workerEnv()`
// gives the env of a worker process pointed at them; `cleanup()` removes what it can.
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import IORedis from 'ioredis';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import { sinkTopicName } from '../../../adapters/kafka/sinkNames.ts';
import { batchIdOf, type BatchMessage } from '../../../contract/batchMessage.ts';
import type { RabbitConnection } from '../../../adapters/rabbitmq/connection.ts';
import { RabbitPublisher } from '../../../adapters/rabbitmq/publisher.ts';
import { workQueueName } from '../../../contract/queues.ts';
import { assertWorkQueueTopology } from '../../../adapters/rabbitmq/topology.ts';
import { RunProgressStore, type RunProgress } from '../../../adapters/redis/progress.ts';
import { loadChains, parseChains, requireChain } from '../../../dataplane/chains.ts';
import { modelRegistry } from '../../../models/registry.ts';
import { uniqueIdentifier, uniqueName } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { WorkerProcess } from './workerProcess.ts';
import {
  deleteTopic,
  eventually,
  openTestConnection,
  quietLogger,
  readAllRecords,
  removeQueues,
  type ConsumedRecord,
} from './support.ts';

export const TEST_RETRY_DELAYS_MS = [300, 600];
export const BATCH_SIZE = 100;

export class WorkerTestWorld {
  readonly chain = uniqueIdentifier('w');
  readonly rpcEnvVar = `RPC_${uniqueIdentifier('W').toUpperCase()}`;
  readonly queue = workQueueName(this.chain, 'backfill', 'nonreads');
  readonly database = uniqueIdentifier('wk');
  readonly redisPrefix = `${uniqueName('wk')}:`;
  readonly sinkEnv = `t${uniqueName('x').slice(2)}`;
  readonly topic: string;
  readonly runUid = uniqueName('uid');
  lakeDir = '';
  chainsFile = '';
  connection!: RabbitConnection;
  publisher!: RabbitPublisher;
  redis!: InstanceType<typeof IORedis.Redis>;
  progress!: RunProgressStore;
  markers!: ClickHouseMarkerStore;
  /** The worker processes this world started; cleanup() kills those still running. */
  readonly workers: WorkerProcess[] = [];

  constructor() {
    this.topic = sinkTopicName(this.sinkEnv, this.chain);
  }

  static async create(): Promise<WorkerTestWorld> {
    const world = new WorkerTestWorld();
    world.lakeDir = await mkdtemp(join(tmpdir(), 'worker-test-lake-'));
    world.chainsFile = join(world.lakeDir, '..', `${world.chain}-chains.json`);
    const chainsDocument = {
      chains: [
        {
          name: world.chain,
          chainId: 31337,
          rpc: { env: world.rpcEnvVar, secret: { name: 'rpc-test', key: 'url' } },
          expectedBlocksPerDay: 86400,
          batchSizes: [{ fromBlock: 0, batchSize: BATCH_SIZE }],
          tipSafetyBlocks: 0,
          // anvil's, not a hosted provider's: no rate limit to slow the tests down.
          rpcClient: requireChain(loadChains(), 'local').rpcClient,
        },
      ],
    };
    await writeFile(world.chainsFile, JSON.stringify(chainsDocument));
    world.connection = await openTestConnection(uniqueName('test-worker'));
    world.publisher = new RabbitPublisher(world.connection, quietLogger());
    await world.connection.withChannel((channel) =>
      assertWorkQueueTopology(channel, world.queue, TEST_RETRY_DELAYS_MS),
    );
    world.redis = new IORedis.Redis(stackEnv().REDIS_URL);
    world.progress = new RunProgressStore(world.redis, { prefix: world.redisPrefix });
    world.markers = new ClickHouseMarkerStore({
      client: createServerClient(stackEnv().CLICKHOUSE_URL),
      ownsClient: true,
      database: world.database,
      chains: parseChains(chainsDocument),
    });
    await world.markers.ensureTable();
    return world;
  }

  /** The env of a worker process working this world's queue; `overrides` win. */
  workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
    const env = stackEnv();
    return {
      WORKER_MODE: 'queue',
      WORKER_QUEUES: this.queue,
      WORKER_NAME: uniqueName('worker'),
      WORKER_RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(','),
      WORKER_SHUTDOWN_GRACE_MS: '10000',
      WORKER_CHAINS_FILE: this.chainsFile,
      RABBITMQ_URL: env.RABBITMQ_URL,
      LAKE_URL: this.lakeDir,
      CLICKHOUSE_URL: env.CLICKHOUSE_URL,
      CLICKHOUSE_DATABASE: this.database,
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      SINK_ENV: this.sinkEnv,
      KAFKA_SINK_PARTITIONS: '2',
      REDIS_URL: env.REDIS_URL,
      REDIS_PROGRESS_PREFIX: this.redisPrefix,
      LOG_LEVEL: 'info',
      [this.rpcEnvVar]: env.ETH_RPC_URL,
      ...overrides,
    };
  }

  /** Starts a queue-mode worker (`overrides` win over workerEnv) and waits until it consumes. */
  async startWorker(overrides: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start(this.workerEnv(overrides));
    this.workers.push(worker);
    try {
      await this.waitForConsumers(this.workers.filter((each) => each.running).length);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the worker said:\n${worker.recentOutput()}`);
    }
    return worker;
  }

  batch(model: string, minBlock: number, overrides: Partial<BatchMessage> = {}): BatchMessage {
    return {
      runId: { namespace: 'worker-test', name: 'run-1', uid: this.runUid },
      batchId: batchIdOf(this.chain, model, minBlock),
      model,
      version: modelRegistry.has(model) ? modelRegistry.get(model).version : 1,
      chain: this.chain,
      minBlock,
      maxBlock: minBlock + BATCH_SIZE,
      force: false,
      maxRetriesPerBatch: 5,
      attempt: 1,
      enqueuedAt: new Date().toISOString(),
      ...overrides,
    };
  }

  async publish(...messages: BatchMessage[]): Promise<void> {
    for (const message of messages) await this.publisher.publishBatch(this.queue, message);
  }

  async readProgress(runUid = this.runUid): Promise<RunProgress> {
    return this.progress.readProgress(runUid);
  }

  /** Waits until the run's progress satisfies `done` (e.g. two batches succeeded). */
  async waitForProgress(
    what: string,
    done: (progress: RunProgress) => boolean,
    timeoutMs = 45_000,
    runUid = this.runUid,
  ): Promise<RunProgress> {
    return eventually(
      what,
      async () => {
        const progress = await this.readProgress(runUid);
        return done(progress) ? progress : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /** A batch of a run of its own (its own progress keys), for tests that share one world. */
  runOf(name: string): { runId: { namespace: string; name: string; uid: string } } {
    return { runId: { namespace: 'worker-test', name, uid: uniqueName('uid') } };
  }

  /**
   * Waits until `count` consumers are attached to this world's queue: how a test knows its
   * workers consume (one consumer per worker; a stopped worker's goes with its connection).
   */
  async waitForConsumers(count: number, timeoutMs = 30_000): Promise<void> {
    await eventually(
      `${count} consumers on ${this.queue}`,
      async () => {
        const { consumerCount } = await this.connection.withChannel((channel) =>
          channel.checkQueue(this.queue),
        );
        return consumerCount === count ? true : undefined;
      },
      timeoutMs,
    );
  }

  async queueCounts(): Promise<{ ready: number; dead: number }> {
    return this.connection.withChannel(async (channel) => ({
      ready: (await channel.checkQueue(this.queue)).messageCount,
      dead: (await channel.checkQueue(`${this.queue}.dlq`)).messageCount,
    }));
  }

  async deadLetters(): Promise<{ body: string; headers: Record<string, unknown> }[]> {
    return this.connection.withChannel(async (channel) => {
      const letters: { body: string; headers: Record<string, unknown> }[] = [];
      for (;;) {
        const message = await channel.get(`${this.queue}.dlq`, { noAck: true });
        if (!message) return letters;
        letters.push({ body: message.content.toString(), headers: message.properties.headers ?? {} });
      }
    });
  }

  /** Every parquet file in the lake, as lake paths. */
  async lakeFiles(): Promise<string[]> {
    const entries = await readdir(this.lakeDir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.parquet'))
      .map((entry) => relative(this.lakeDir, join(entry.parentPath, entry.name)))
      .sort();
  }

  async sinkRecords(): Promise<ConsumedRecord[]> {
    return readAllRecords(this.topic, stackEnv().KAFKA_BROKERS.split(','));
  }

  /** Raw marker rows of this world's chain (all of them, not de-duplicated). */
  async markerRows(): Promise<
    { root_path: string; data_path: string; min_block: number; row_count: number; num_parts: number }[]
  > {
    const client = createServerClient(stackEnv().CLICKHOUSE_URL);
    try {
      const result = await client.query({
        query: `SELECT root_path, data_path, min_block, row_count, num_parts FROM ${this.database}.blockbatch_markers ORDER BY data_path`,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return (await result.json()) as {
        root_path: string;
        data_path: string;
        min_block: number;
        row_count: number;
        num_parts: number;
      }[];
    } finally {
      await client.close();
    }
  }

  async cleanup(): Promise<void> {
    for (const worker of this.workers)
      if (worker.running) await worker.stop('SIGKILL').catch(() => undefined);
    await removeQueues(this.connection, [this.queue], TEST_RETRY_DELAYS_MS).catch(() => undefined);
    await this.publisher.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
    await deleteTopic(this.topic, stackEnv().KAFKA_BROKERS.split(',')).catch(() => undefined);
    const keys = await this.redis.keys(`${this.redisPrefix}*`).catch(() => [] as string[]);
    if (keys.length > 0) await this.redis.del(...keys).catch(() => undefined);
    this.redis.disconnect();
    const admin = createServerClient(stackEnv().CLICKHOUSE_URL);
    await admin.command({ query: `DROP DATABASE IF EXISTS ${this.database}` }).catch(() => undefined);
    await admin.close();
    await this.markers.close().catch(() => undefined);
    await rm(this.lakeDir, { recursive: true, force: true });
    await rm(this.chainsFile, { force: true });
  }
}

/** The batch start at or below `block` (100-block batches from block 0). */
export function batchStart(block: number): number {
  return block - (block % BATCH_SIZE);
}
