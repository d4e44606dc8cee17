// make demo: the main job end to end on the local stack.
//
// Token transfers happen on anvil; two WorkerPool-style Deployments (reads and nonreads
// lanes of the `local` chain) run in the cluster through the local pod runner; batches of
// `ingest`, then `erc20_transfers`, then `erc20_balances` go through RabbitMQ; the workers
// write parquet to a lake folder, rows to Kafka, markers to ClickHouse and progress to
// Redis. The demo then asks the markers what is done and pending, and checks the output
// against what happened on chain. Re-running it is safe: each run makes new transfers
// and completed batches are skipped.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import IORedis from 'ioredis';
import { createServerClient } from '../adapters/clickhouse/clickhouseClient.ts';
import { ClickHouseMarkerStore } from '../adapters/clickhouse/markerStore.ts';
import { batchIdOf, type BatchMessage } from '../contract/batchMessage.ts';
import { RabbitConnection } from '../adapters/rabbitmq/connection.ts';
import { RabbitPublisher } from '../adapters/rabbitmq/publisher.ts';
import { workQueueName } from '../contract/queues.ts';
import { DEFAULT_RETRY_DELAYS_MS } from '../contract/retryPolicy.ts';
import { assertWorkQueueTopology } from '../adapters/rabbitmq/topology.ts';
import { RunProgressStore, type RunProgress } from '../adapters/redis/progress.ts';
import { loadChains, planChainBatches, requireChain } from '../dataplane/chains.ts';
import { INGESTION_ROOT_PATHS, modelOutputRootPath } from '../dataplane/paths.ts';
import { DuckDbSession } from '../adapters/parquet/duckDbSession.ts';
import { modelRegistry } from '../models/registry.ts';
import { AnvilSession, runErc20Scenario } from '../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../devtools/stackEnv.ts';
import { applyDemoWorkloads, demoKubeClients, scaleDemoWorkloads } from './demoWorkloads.ts';

const NAMESPACE = 'model-runner-demo';
const CHAIN = 'local';
const REDIS_PREFIX = 'model-runner-demo:';
const SINK_ENV = 'demo';
const log = pino({ name: 'demo', level: 'warn' });
const env = stackEnv();
const runSuffix = Date.now().toString(36);
const step = (text: string) => console.log(`\n▶ ${text}`);

const chain = requireChain(loadChains(), CHAIN);
// anvil keeps no state across restarts, so block numbers are reused by a new chain: the
// demo keys its lake and marker database by the chain's genesis hash, so markers of an
// earlier chain never mark this one's batches as done.
const genesis = await new AnvilSession(env.ETH_RPC_URL).rpc.request('eth_getBlockByNumber', ['0x0', false]);
const chainTag = /^0x([0-9a-f]{8})/.exec((genesis as { hash: string }).hash)?.[1];
if (!chainTag) throw new Error(`unexpected genesis block from ${env.ETH_RPC_URL}`);
const DATABASE = `model_runner_demo_${chainTag}`;
const lakeDir = join(env.MODEL_RUNNER_STACK_DIR, 'demo', chainTag, 'lake');
await mkdir(lakeDir, { recursive: true });

step('Kubernetes: namespace, endpoints Secret, worker Deployments (reads and nonreads lanes)');
const kube = demoKubeClients(env.KUBECONFIG);
const queues = {
  nonreads: workQueueName(CHAIN, 'backfill', 'nonreads'),
  reads: workQueueName(CHAIN, 'backfill', 'reads'),
};
await applyDemoWorkloads(kube, {
  namespace: NAMESPACE,
  lakeDir,
  database: DATABASE,
  redisPrefix: REDIS_PREFIX,
  sinkEnv: SINK_ENV,
  queues: Object.values(queues),
  endpoints: {
    RABBITMQ_URL: env.RABBITMQ_URL,
    CLICKHOUSE_URL: env.CLICKHOUSE_URL,
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    REDIS_URL: env.REDIS_URL,
    ETH_RPC_URL: env.ETH_RPC_URL,
  },
});

step('anvil: deploy two ERC-20 tokens and make transfers over a few hundred blocks');
const scenario = await runErc20Scenario(env.ETH_RPC_URL, {
  transfers: 60,
  minBlockSpan: 400,
  seed: Date.now(),
});
console.log(
  `  ${scenario.transfers.length} Transfer events from ${scenario.tokens.length} tokens, blocks ${scenario.fromBlock}-${scenario.toBlock}`,
);
// Mine one more batch of empty blocks so the scenario's last batch is below the safe tip.
await (await new AnvilSession(env.ETH_RPC_URL).init()).mine(chain.batchSizes[0]!.batchSize);
const tip = scenario.toBlock + chain.batchSizes[0]!.batchSize;
const batches = planChainBatches(
  chain,
  { minBlock: scenario.fromBlock, maxBlock: scenario.toBlock + 1 },
  tip,
);
const range = { minBlock: batches[0]!.minBlock, maxBlock: batches.at(-1)!.maxBlock };
console.log(
  `  planned ${batches.length} batches of ${chain.batchSizes[0]!.batchSize} blocks: [${range.minBlock}, ${range.maxBlock})`,
);

const rabbit = await RabbitConnection.open({
  url: env.RABBITMQ_URL,
  connectionName: 'model-runner-demo',
  logger: log,
});
const publisher = new RabbitPublisher(rabbit, log);
for (const queue of Object.values(queues)) {
  await rabbit.withChannel((channel) => assertWorkQueueTopology(channel, queue, DEFAULT_RETRY_DELAYS_MS));
}
const redis = new IORedis.Redis(env.REDIS_URL);
const progress = new RunProgressStore(redis, { prefix: REDIS_PREFIX });
const markers = new ClickHouseMarkerStore({
  client: createServerClient(env.CLICKHOUSE_URL),
  ownsClient: true,
  database: DATABASE,
});
await markers.ensureTable();

/** Publishes one run's batches of a model to its lane and waits until every batch is done. */
async function runModel(modelName: string): Promise<RunProgress> {
  const model = modelRegistry.get(modelName);
  const queue = model.kind === 'reads' ? queues.reads : queues.nonreads;
  const runId = {
    namespace: NAMESPACE,
    name: `${modelName.replaceAll('_', '-')}-${runSuffix}`,
    uid: `demo-${modelName.replaceAll('_', '-')}-${runSuffix}`,
  };
  const started = Date.now();
  for (const batch of batches) {
    const message: BatchMessage = {
      runId,
      batchId: batchIdOf(CHAIN, modelName, batch.minBlock),
      model: modelName,
      version: model.version,
      chain: CHAIN,
      minBlock: batch.minBlock,
      maxBlock: batch.maxBlock,
      force: false,
      maxRetriesPerBatch: 5,
      attempt: 1,
      enqueuedAt: new Date().toISOString(),
    };
    await publisher.publishBatch(queue, message);
  }
  const deadline = Date.now() + 180_000;
  for (;;) {
    const done = await progress.readProgress(runId.uid);
    if (done.succeeded + done.skipped + done.failed >= batches.length) {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `  ${modelName.padEnd(16)} queue ${queue.padEnd(24)} ${done.succeeded} succeeded, ${done.skipped} skipped, ${done.failed} failed; ${done.rows} rows in ${seconds}s`,
      );
      if (done.failed > 0) throw new Error(`${modelName}: ${JSON.stringify(done.failedBatches.slice(0, 3))}`);
      return done;
    }
    if (Date.now() > deadline)
      throw new Error(`${modelName}: only ${done.succeeded} of ${batches.length} batches done after 180s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const transfersRoot = modelOutputRootPath('erc20_transfers', 'erc20_transfers', 1);

/** The erc20_transfers rows of the given tokens, read back from the lake's parquet with DuckDB. */
async function transferRowsOfTokens(tokens: readonly string[]): Promise<string[]> {
  const duckdb = await DuckDbSession.open({ threads: 1 });
  try {
    const files = join(lakeDir, transfersRoot, `chain=${CHAIN}`, '*', '*.parquet').replaceAll("'", "''");
    const tokenList = tokens.map((token) => `'${assertAddress(token)}'`).join(', ');
    const rows = await duckdb.query(
      `SELECT token_address, from_address, to_address, value, block_number FROM read_parquet('${files}')
       WHERE token_address IN (${tokenList})`,
    );
    return rows
      .map((r) => `${r.token_address}|${r.from_address}|${r.to_address}|${r.value}|${r.block_number}`)
      .sort();
  } finally {
    duckdb.close();
  }
}

function assertAddress(address: string): string {
  if (!/^0x[0-9a-f]{40}$/.test(address)) throw new Error(`not a lower-case address: ${address}`);
  return address;
}
const pendingTransfers = () =>
  markers.pendingBatches({
    chain: CHAIN,
    inputRootPaths: [INGESTION_ROOT_PATHS.logs],
    outputRootPaths: [transfersRoot],
    range,
  });

try {
  step('Workers: ingest (JSON-RPC → ingestion/*), then erc20_transfers, then erc20_balances');
  await runModel('ingest');
  console.log(
    `  markers say ${(await pendingTransfers()).length} erc20_transfers batches are pending (ingested, not processed)`,
  );
  const transfers = await runModel('erc20_transfers');
  console.log(`  markers say ${(await pendingTransfers()).length} erc20_transfers batches are pending now`);
  await runModel('erc20_balances');

  step('Check: the lake against what happened on chain');
  const written = await transferRowsOfTokens(scenario.tokens.map((token) => token.address));
  const expected = scenario.transfers
    .map((t) => `${t.token}|${t.from}|${t.to}|${t.value}|${t.blockNumber}`)
    .sort();
  const same = written.length === expected.length && written.every((row, i) => row === expected[i]);
  console.log(
    `  Transfer events sent ${expected.length}; rows in the lake for these tokens ${written.length}; identical: ${same}`,
  );
  if (!same) throw new Error('the erc20_transfers rows in the lake differ from the transfers made on chain');
  if (transfers.rows !== expected.length) {
    console.log(
      `  (the run wrote ${transfers.rows} rows in all: its batches also cover blocks of earlier runs)`,
    );
  }

  step('Markers: coverage per day (blocks covered by complete batches)');
  const today = new Date().toISOString().slice(0, 10);
  const coverage = await markers.coverage({
    chain: CHAIN,
    rootPaths: [...Object.values(INGESTION_ROOT_PATHS), transfersRoot],
    fromDt: today,
    toDt: today,
  });
  for (const row of coverage) {
    console.log(
      `  ${row.dt} ${row.rootPath.padEnd(48)} ${row.completeBatches} batches, ${row.coveredBlocks} blocks, ${row.rowCount} rows`,
    );
  }
  console.log(
    `\n✔ demo complete: lake at ${lakeDir}, markers in ClickHouse database ${DATABASE}, rows on Kafka topic ${SINK_ENV}-${CHAIN}-sink`,
  );
  console.log(`  kubectl -n ${NAMESPACE} get deployments,pods   (KUBECONFIG=${env.KUBECONFIG})`);
} finally {
  // Stop the workers gracefully (SIGTERM through the pod runner); the Deployments stay for inspection.
  await scaleDemoWorkloads(kube, NAMESPACE, 0);
  await rabbit.close();
  redis.disconnect();
  await markers.close();
}
