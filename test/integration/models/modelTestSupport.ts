// What the model integration tests share: a private lake folder, a private ClickHouse
// database, a private Redis key prefix, and helpers to run models over batches and read
// the lake back with DuckDB.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { pino } from 'pino';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import { EthereumRpc } from '../../../adapters/ethereum/ethereumRpc.ts';
import { JsonRpcClient, type JsonRpcClientOptions } from '../../../adapters/ethereum/jsonRpcClient.ts';
import { LocalLake } from '../../../adapters/lake/localLake.ts';
import { TokenMetadataCache } from '../../../adapters/redis/tokenMetadataCache.ts';
import type { BlockBatch } from '../../../dataplane/batches.ts';
import { type ChainConfig, loadChains, planChainBatches, requireChain } from '../../../dataplane/chains.ts';
import { DuckDbSession, duckDbString } from '../../../adapters/parquet/duckDbSession.ts';
import type { RegisteredModel } from '../../../models/modelRegistry.ts';
import { type BatchSummary, type RunModelBatchOptions, runModelBatch } from '../../../models/runBatch.ts';
import { uniqueIdentifier, uniqueName } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';

export const silentLogger = pino({ level: 'silent' });

export interface ModelTestStack {
  chain: ChainConfig;
  lakeDir: string;
  lake: LocalLake;
  database: string;
  markers: ClickHouseMarkerStore;
  redis: IORedis.Redis;
  tokenCache: TokenMetadataCache;
  rpc: EthereumRpc;
  /** An RPC client for another URL (a failing proxy), same settings otherwise. */
  rpcFor(url: string, options?: Partial<JsonRpcClientOptions>): EthereumRpc;
  close(): Promise<void>;
}

/** Which ClickHouse holds the markers: the stack's server (18.16) or an embedded current one (chdb). */
export type MarkerEngine = 'server' | 'chdb';

// libchdb binds one data folder per process: every chdb store of a test file shares one client.
let chdbClient: Promise<ClickHouseClient> | undefined;

export async function openModelTestStack(
  name: string,
  options: {
    markerEngine?: MarkerEngine;
    /** Stamps the markers' `updated_at` (second precision); the wall clock by default. */
    markerClock?: () => Date;
    /** The local chain's batch size, for the runs and for the marker store's completeness rule. */
    batchSize?: number;
  } = {},
): Promise<ModelTestStack> {
  const env = stackEnv();
  const chains = loadChains();
  const local = requireChain(chains, 'local');
  const chain: ChainConfig =
    options.batchSize === undefined
      ? local
      : { ...local, batchSizes: [{ fromBlock: 0, batchSize: options.batchSize }] };
  const lakeDir = await mkdtemp(join(tmpdir(), `${uniqueName(name)}-`));
  const database = uniqueIdentifier(`test_${name.replaceAll('-', '_')}`);
  const engine = options.markerEngine ?? 'server';
  const client =
    engine === 'server'
      ? createServerClient(env.CLICKHOUSE_URL)
      : await (chdbClient ??= createClickHouseClient('chdb:memory'));
  const markers = new ClickHouseMarkerStore({
    client,
    ownsClient: engine === 'server',
    database,
    clock: options.markerClock,
    chains: new Map([...chains, [chain.name, chain]]),
  });
  await markers.ensureTable();
  const redis = new IORedis.Redis(env.REDIS_URL);
  const keyPrefix = `${uniqueName(`test-${name}`)}:`;
  const rpcFor = (url: string, options: Partial<JsonRpcClientOptions> = {}): EthereumRpc =>
    new EthereumRpc(
      new JsonRpcClient({
        url,
        maxAttempts: 4,
        backoff: { baseDelayMs: 5, maxDelayMs: 50, jitter: true },
        ...options,
      }),
    );
  return {
    chain,
    lakeDir,
    lake: new LocalLake(lakeDir),
    database,
    markers,
    redis,
    tokenCache: new TokenMetadataCache({ redis, keyPrefix }),
    rpc: rpcFor(env.ETH_RPC_URL),
    rpcFor,
    async close() {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await markers.close();
      if (engine === 'chdb') {
        await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      } else {
        const admin = createServerClient(env.CLICKHOUSE_URL);
        try {
          await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
        } finally {
          await admin.close();
        }
      }
      await rm(lakeDir, { recursive: true, force: true });
    },
  };
}

/** The chain's batches that cover blocks `first`…`last` (inclusive). */
export function batchesCovering(stack: ModelTestStack, first: number, last: number): BlockBatch[] {
  return planChainBatches(stack.chain, { minBlock: first, maxBlock: last + 1 });
}

export function batchOptions(
  stack: ModelTestStack,
  model: RegisteredModel,
  batch: BlockBatch,
  extra: Partial<RunModelBatchOptions> = {},
): RunModelBatchOptions {
  return {
    model,
    chain: stack.chain,
    batch,
    lake: stack.lake,
    markers: stack.markers,
    rpc: stack.rpc,
    tokenMetadata: stack.tokenCache,
    logger: silentLogger,
    processName: 'test/models',
    writerName: 'test-host',
    ...extra,
  };
}

export async function runOver(
  stack: ModelTestStack,
  model: RegisteredModel,
  batches: readonly BlockBatch[],
  extra: Partial<RunModelBatchOptions> = {},
): Promise<BatchSummary[]> {
  const summaries: BatchSummary[] = [];
  for (const batch of batches) summaries.push(await runModelBatch(batchOptions(stack, model, batch, extra)));
  return summaries;
}

/** Every row of a root path in the lake, read back with DuckDB (a check that the files are standard). */
export async function readLakeRows(
  stack: ModelTestStack,
  rootPath: string,
  orderBy = 'block_number',
): Promise<Record<string, unknown>[]> {
  const session = await DuckDbSession.open({ threads: 1 });
  try {
    const glob = join(stack.lakeDir, rootPath, 'chain=*', 'dt=*', '*.parquet');
    return await session.query(`SELECT * FROM read_parquet(${duckDbString(glob)}) ORDER BY ${orderBy}`);
  } finally {
    session.close();
  }
}

/** Mines until the chain's tip reaches `block` (other tests may mine too: never assume it is exact). */
export async function mineUntil(rpc: EthereumRpc, block: number): Promise<void> {
  const tip = await rpc.blockNumber();
  if (tip < block) await rpc.client.request('anvil_mine', [`0x${(block - tip).toString(16)}`]);
}
