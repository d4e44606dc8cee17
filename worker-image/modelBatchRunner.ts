// The BatchRunner over the models package: the registry decides what can run, runModelBatch
// does skip → inputs → model → parquet → sink hook → markers, and the sink hook sends every
// output row to Kafka before the markers commit the batch. The lake, the marker store and
// the sink are wrapped so an outage is reported as theirs (see batchFailure.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import type IORedis from 'ioredis';
import type { Logger } from 'pino';
import { EthereumRpc, openEthereumRpc } from '../adapters/ethereum/ethereumRpc.ts';
import { JsonRpcClient } from '../adapters/ethereum/jsonRpcClient.ts';
import { sinkRecordHeaders, sinkRecordKey, sinkTopicName } from '../adapters/kafka/sinkNames.ts';
import type { KafkaSink, SinkRecord } from '../adapters/kafka/sinkProducer.ts';
import type { DataLake } from '../adapters/lake/dataLake.ts';
import { runLabel, type BatchMessage } from '../contract/batchMessage.ts';
import { TokenMetadataCache } from '../adapters/redis/tokenMetadataCache.ts';
import type { ChainConfig, Chains } from '../dataplane/chains.ts';
import type { MarkerStore } from '../dataplane/markers.ts';
import type { ModelRegistry, RegisteredModel } from '../models/modelRegistry.ts';
import { modelRegistry } from '../models/registry.ts';
import { runModelBatch, type WrittenDataset, type WrittenOutput } from '../models/runBatch.ts';
import { BatchFailure, tagFailures } from './batchFailure.ts';
import type { BatchRunner, BatchRunRequest, BatchRunResult } from './batchRunner.ts';

type RedisClient = InstanceType<typeof IORedis.Redis>;

export interface ModelBatchRunnerOptions {
  chains: Chains;
  /** Where the chains' RPC URLs are read (`chain.rpc.env`). */
  env: Readonly<Record<string, string | undefined>>;
  lake: DataLake;
  markers: MarkerStore;
  /** undefined: no Kafka sink (WORKER_SINK=none). */
  sink: { producer: KafkaSink; env: string } | undefined;
  workerName: string;
  /** For the token metadata cache shared by all workers. */
  redis: RedisClient;
  tokenCachePrefix?: string;
  logger: Logger;
  registry?: ModelRegistry;
  /** Rows read back from the lake and sent per chunk. */
  sinkChunkSize?: number;
}

/** Ingest reads the chain, reads models call contracts; the others never touch the RPC. */
function needsRpc(model: RegisteredModel): boolean {
  return model.kind === 'reads' || model.inputRootPaths.length === 0;
}

function keyPart(value: unknown, column: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  throw new Error(`key column ${column} has no usable value (${String(value)})`);
}

/**
 * The stable Kafka key of one output row: model, dataset, chain, block, then the dataset's
 * key columns other than the block (e.g. the log index). Nothing in it depends on the run,
 * the attempt or the worker, so a batch processed twice repeats exactly the same keys.
 */
export function sinkKeyOf(
  output: Pick<WrittenOutput, 'model' | 'chain' | 'batch'>,
  dataset: Pick<WrittenDataset, 'dataset' | 'keyColumns'>,
  row: Record<string, unknown>,
): string {
  const blockValue = row.block_number;
  const block =
    typeof blockValue === 'bigint' || typeof blockValue === 'number'
      ? Number(blockValue)
      : output.batch.maxBlock - 1;
  const rest = dataset.keyColumns.filter((column) => column !== 'block_number');
  const rowKey = rest.length === 0 ? 'block' : rest.map((column) => keyPart(row[column], column)).join(':');
  return sinkRecordKey({ model: output.model, dataset: dataset.dataset, chain: output.chain, block, rowKey });
}

export function createModelBatchRunner(options: ModelBatchRunnerOptions): BatchRunner {
  const registry = options.registry ?? modelRegistry;
  const lake = tagFailures(options.lake, 'lake');
  const markers = tagFailures(options.markers, 'clickhouse');
  const tokenMetadata = new TokenMetadataCache({
    redis: options.redis,
    keyPrefix: options.tokenCachePrefix ?? 'model-runner:',
  });
  const rpcs = new Map<string, EthereumRpc>();
  // One RPC client per chain (its rate limit, request slots and the batch size and log range
  // it learned from the endpoint are per process), but its warnings belong to the batch that
  // made the call: they go to that batch's logger, which carries runId and batchId.
  const currentBatchLogger = new AsyncLocalStorage<Logger>();
  const rpcLogger: Pick<Logger, 'warn'> = {
    warn: ((...args: Parameters<Logger['warn']>) =>
      (currentBatchLogger.getStore() ?? options.logger).warn(...args)) as Logger['warn'],
  };
  let tableReady: Promise<void> | undefined;

  /** The markers table, created once per process (again after a failure). */
  const ensureMarkersTable = (): Promise<void> => {
    tableReady ??= markers.ensureTable().catch((error: unknown) => {
      tableReady = undefined;
      throw error;
    });
    return tableReady;
  };

  const rpcFor = (chain: ChainConfig): EthereumRpc => {
    const url = options.env[chain.rpc.env];
    if (!url) {
      // A nonreads model never calls it; should one try, it gets this message, not a crash.
      return new EthereumRpc(
        new JsonRpcClient({
          url: 'http://127.0.0.1:9',
          maxAttempts: 1,
          fetch: () => Promise.reject(new Error(`no JSON-RPC endpoint: ${chain.rpc.env} is not set`)),
        }),
      );
    }
    let rpc = rpcs.get(chain.name);
    if (!rpc) {
      rpc = openEthereumRpc(url, chain.rpcClient, { logger: rpcLogger });
      rpcs.set(chain.name, rpc);
    }
    return rpc;
  };

  const sendToSink = async (message: BatchMessage, output: WrittenOutput): Promise<void> => {
    const sink = options.sink;
    if (!sink) return;
    // The run may name its topic (spec.sink.topic); otherwise <env>-<chain>-sink.
    const topic = message.sinkTopic ?? sinkTopicName(sink.env, output.chain);
    const chunkSize = options.sinkChunkSize ?? 5_000;
    try {
      for (const dataset of output.datasets) {
        const headers = sinkRecordHeaders({
          model: output.model,
          version: output.version,
          dataset: dataset.dataset,
          run: runLabel(message.runId),
          batchId: message.batchId,
        });
        for await (const rows of dataset.readRows(chunkSize)) {
          output.signal.throwIfAborted();
          const records: SinkRecord[] = rows.map((row) => ({
            key: sinkKeyOf(output, dataset, row),
            value: row,
            headers,
          }));
          await sink.producer.send(topic, records);
        }
      }
    } catch (error) {
      if (output.signal.aborted) throw error;
      throw new BatchFailure('kafka', `kafka: ${(error as Error).message}`, { cause: error });
    }
  };

  return {
    refuse(message) {
      if (!registry.has(message.model)) {
        return {
          reason: 'unknownModel',
          message: `unknown model ${JSON.stringify(message.model)}; known: ${registry
            .list()
            .map((model) => model.name)
            .join(', ')}`,
        };
      }
      const model = registry.get(message.model);
      if (model.version !== message.version) {
        return {
          reason: 'unknownModel',
          message: `model ${model.name} has version ${model.version}, not ${message.version}`,
        };
      }
      const chain = options.chains.get(message.chain);
      if (!chain) {
        return {
          reason: 'unknownChain',
          message: `unknown chain ${JSON.stringify(message.chain)}; known: ${[...options.chains.keys()].join(', ')}`,
        };
      }
      if (needsRpc(model) && !options.env[chain.rpc.env]) {
        return {
          reason: 'unknownChain',
          message: `model ${model.name} needs chain ${chain.name}'s JSON-RPC endpoint: ${chain.rpc.env} is not set on this worker`,
        };
      }
      return undefined;
    },

    async run(request: BatchRunRequest): Promise<BatchRunResult> {
      const { message } = request;
      const model = registry.get(message.model, message.version);
      const chain = options.chains.get(message.chain)!;
      await ensureMarkersTable();
      const summary = await currentBatchLogger.run(request.logger, () =>
        runModelBatch({
          model,
          chain,
          batch: { minBlock: message.minBlock, maxBlock: message.maxBlock },
          lake,
          markers,
          rpc: rpcFor(chain),
          tokenMetadata,
          logger: request.logger,
          signal: request.signal,
          force: message.force,
          processName: runLabel(message.runId),
          writerName: options.workerName,
          onOutputWritten: (output) => sendToSink(message, output),
        }),
      );
      return { skipped: summary.skipped, rowsByDataset: summary.rows };
    },

    async close() {
      // The lake, the marker store and the sink belong to the caller, which closes them.
    },
  };
}
