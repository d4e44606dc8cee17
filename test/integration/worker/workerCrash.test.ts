// Kill -9 a worker in the middle of a batch and start another: the batch completes once.
// Killed before its rows reached Kafka, the sink holds each key once; killed after Kafka but
// before the markers (the commit point), the rerun repeats exactly the same keys and nothing
// else. Markers and parquet files hold no duplicates either way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INGESTION_ROOT_PATHS, modelOutputRootPath } from '../../../dataplane/paths.ts';
import { AnvilSession, runErc20Scenario } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { ClickHouseGate } from './clickhouseGate.ts';
import { FlakyRpc } from './flakyRpc.ts';
import { eventually } from './support.ts';
import { BATCH_SIZE, batchStart, WorkerTestWorld } from './workerHarness.ts';

let world: WorkerTestWorld;
let slowRpc: FlakyRpc;
let gate: ClickHouseGate;
let start: number;
const TRANSFERS_ROOT = modelOutputRootPath('erc20_transfers', 'erc20_transfers', 1);

/** Distinct data paths of a root path's markers = its files; any repeat would be a duplicate. */
async function assertOneMarkerPerFile(rootPath: string): Promise<void> {
  const rows = (await world.markerRows()).filter((row) => row.root_path === rootPath);
  const files = (await world.lakeFiles()).filter((file) => file.startsWith(`${rootPath}/`));
  assert.deepEqual(rows.map((row) => row.data_path).sort(), files);
}

before(async () => {
  world = await WorkerTestWorld.create();
  const scenario = await runErc20Scenario(stackEnv().ETH_RPC_URL, {
    transfers: 12,
    minBlockSpan: 40,
    seed: 0xc4a5,
  });
  await (await new AnvilSession(stackEnv().ETH_RPC_URL).init()).mine(BATCH_SIZE);
  // The batch holding the scenario's first transfers.
  start = batchStart(scenario.transfers[0]!.blockNumber);
  slowRpc = await FlakyRpc.start(stackEnv().ETH_RPC_URL);
  slowRpc.failing = false;
  gate = await ClickHouseGate.start(stackEnv().CLICKHOUSE_URL);
});

after(async () => {
  await world.cleanup(); // its workers first, then the forwarders they used
  await slowRpc.close();
  await gate.close();
});

test('killed while fetching from the RPC: a new worker completes the batch once, every key once', async () => {
  slowRpc.delayMs = 3_000;
  const first = await world.startWorker({ [world.rpcEnvVar]: slowRpc.url });
  await world.publish(world.batch('ingest', start));
  // The worker asks the RPC only inside a batch: a request in flight is the batch under way.
  await eventually('an RPC request in flight', () => (slowRpc.forwardedRequests > 0 ? true : undefined));
  assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(await world.lakeFiles(), []);

  // The unacked delivery went back to the queue with the dead connection.
  const second = await world.startWorker();
  const progress = await world.waitForProgress(
    'the batch done by the second worker',
    (p) => p.succeeded === 1,
  );
  // Done by the second worker, from scratch: a success, not a skip.
  assert.deepEqual([progress.succeeded, progress.skipped, progress.failed], [1, 0, 0]);
  assert.equal(
    await second.waitForMetric(
      'the success in the second worker',
      'model_runner_worker_batches_total',
      {
        model: 'ingest',
        chain: world.chain,
        result: 'succeeded',
      },
      (value) => value >= 1,
    ),
    1,
  );

  for (const rootPath of Object.values(INGESTION_ROOT_PATHS)) {
    assert.equal(await world.markers.isBatchComplete(world.chain, rootPath, start), true);
    await assertOneMarkerPerFile(rootPath);
  }
  const records = await world.sinkRecords();
  assert.ok(records.length >= BATCH_SIZE, `only ${records.length} records`);
  assert.equal(new Set(records.map((record) => record.key)).size, records.length);
  assert.deepEqual(await world.queueCounts(), { ready: 0, dead: 0 });
  await second.stop('SIGTERM');
  assert.ok(second.lines.some((line) => line.msg === 'redelivered batch'));
});

test('killed after Kafka but before the markers: the rerun repeats only the same keys, markers once', async () => {
  gate.holdInserts = true;
  const first = await world.startWorker({ CLICKHOUSE_URL: gate.url });
  const batchId = `${world.chain}/erc20_transfers/${start}`;
  await world.publish(world.batch('erc20_transfers', start));
  // Hanging at the marker insert means everything before it, the Kafka sink included, is done.
  await eventually('the marker insert to hang', () => (gate.heldInserts > 0 ? true : undefined), 30_000);
  const sentBeforeKill = (await world.sinkRecords()).filter((record) => record.headers.batch === batchId);
  assert.ok(sentBeforeKill.length > 0, 'the scenario put transfers in this batch');
  assert.equal(await world.markers.isBatchComplete(world.chain, TRANSFERS_ROOT, start), false);
  await first.stop('SIGKILL');
  gate.holdInserts = false;

  const second = await world.startWorker();
  await world.waitForProgress('the transfers batch', (p) => p.succeeded === 2);
  assert.equal(await world.markers.isBatchComplete(world.chain, TRANSFERS_ROOT, start), true);
  await assertOneMarkerPerFile(TRANSFERS_ROOT);

  const records = (await world.sinkRecords()).filter((record) => record.headers.batch === batchId);
  const keys = sentBeforeKill.map((record) => record.key).sort();
  // At-least-once on the sink: two copies of each key, and no key the first attempt did not send.
  assert.equal(records.length, 2 * keys.length);
  assert.deepEqual([...new Set(records.map((record) => record.key))].sort(), keys);
  const markerRows = (await world.markerRows()).filter((row) => row.root_path === TRANSFERS_ROOT);
  assert.equal(
    markerRows.reduce((sum, row) => sum + row.row_count, 0),
    keys.length,
  );

  const progress = await world.readProgress();
  assert.deepEqual([progress.succeeded, progress.failed], [2, 0]);
  assert.deepEqual(await world.queueCounts(), { ready: 0, dead: 0 });
  assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
});
