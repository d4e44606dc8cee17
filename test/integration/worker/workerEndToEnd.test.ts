// A real worker process, end to end on the stack: ERC-20 transfers made on anvil, `ingest` and
// `erc20_transfers` batches through RabbitMQ, then parquet in the lake, markers in ClickHouse,
// rows on the Kafka sink, progress in Redis and metrics over HTTP — each checked against what
// the test sent. Then the at-least-once cases: a redelivered batch is skipped, a forced rerun
// repeats exactly the same Kafka keys, and SIGTERM exits 0.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INGESTION_ROOT_PATHS, modelOutputRootPath } from '../../../dataplane/paths.ts';
import { AnvilSession, runErc20Scenario, type Erc20Scenario } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { modelRegistry } from '../../../models/registry.ts';
import { type ConsumedRecord, deleteTopic, readAllRecords } from './support.ts';
import type { WorkerProcess } from './workerProcess.ts';
import { BATCH_SIZE, batchStart, WorkerTestWorld } from './workerHarness.ts';

let world: WorkerTestWorld;
let worker: WorkerProcess;
let scenario: Erc20Scenario;
let batchStarts: number[];
const BATCHES_TOTAL = 'model_runner_worker_batches_total';
const TRANSFERS_ROOT = modelOutputRootPath('erc20_transfers', 'erc20_transfers', 1);
const ROOT_PATHS = [
  INGESTION_ROOT_PATHS.blocks,
  INGESTION_ROOT_PATHS.transactions,
  INGESTION_ROOT_PATHS.logs,
  TRANSFERS_ROOT,
];

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

before(async () => {
  world = await WorkerTestWorld.create();
  scenario = await runErc20Scenario(stackEnv().ETH_RPC_URL, {
    transfers: 30,
    minBlockSpan: 220,
    seed: 0x3011,
  });
  // Put the last batch below the tip (the chain's safety distance is 0).
  await (await new AnvilSession(stackEnv().ETH_RPC_URL).init()).mine(BATCH_SIZE);
  batchStarts = [];
  for (let start = batchStart(scenario.fromBlock); start <= scenario.toBlock; start += BATCH_SIZE)
    batchStarts.push(start);
  worker = await world.startWorker();
});

after(async () => {
  await world.cleanup();
});

test('ingest then erc20_transfers: files, markers, Kafka rows and progress match what happened on chain', async () => {
  await world.publish(...batchStarts.map((start) => world.batch('ingest', start)));
  await world.waitForProgress('ingestion', (p) => p.succeeded === batchStarts.length);
  await world.publish(...batchStarts.map((start) => world.batch('erc20_transfers', start)));
  const progress = await world.waitForProgress(
    'erc20_transfers',
    (p) => p.succeeded === 2 * batchStarts.length,
  );

  // Markers: every batch complete for every root path, one marker per file, written by the run.
  for (const rootPath of ROOT_PATHS) {
    for (const start of batchStarts) {
      assert.equal(
        await world.markers.isBatchComplete(world.chain, rootPath, start),
        true,
        `${rootPath} ${start}`,
      );
    }
  }
  const markerRows = await world.markerRows();
  const files = await world.lakeFiles();
  assert.deepEqual(markerRows.map((row) => row.data_path).sort(), files);
  assert.equal(new Set(files).size, files.length);

  // Kafka: one record per output row, each key once, with the provenance headers.
  const records = await world.sinkRecords();
  const rowsPerRoot = new Map<string, number>();
  for (const row of markerRows)
    rowsPerRoot.set(row.root_path, (rowsPerRoot.get(row.root_path) ?? 0) + row.row_count);
  const perDataset = countBy(records, (record) => record.headers.dataset!);
  assert.deepEqual(Object.fromEntries(perDataset), {
    blocks: rowsPerRoot.get(INGESTION_ROOT_PATHS.blocks),
    transactions: rowsPerRoot.get(INGESTION_ROOT_PATHS.transactions),
    logs: rowsPerRoot.get(INGESTION_ROOT_PATHS.logs),
    erc20_transfers: rowsPerRoot.get(TRANSFERS_ROOT),
  });
  assert.equal(perDataset.get('blocks'), batchStarts.length * BATCH_SIZE);
  assert.equal(new Set(records.map((record) => record.key)).size, records.length);
  for (const record of records) {
    assert.equal(record.headers.run, 'worker-test/run-1');
    assert.equal(record.headers.version, String(modelRegistry.get(record.headers.model!).version));
    assert.match(record.headers.batch!, new RegExp(`^${world.chain}/${record.headers.model}/\\d+$`));
    assert.ok(
      record.key.startsWith(`${record.headers.model}:${record.headers.dataset}:${world.chain}:`),
      record.key,
    );
  }

  // The transfers on the sink are exactly the ones the test made (the chain is shared, so
  // compare the scenario's own token contracts only).
  const tokens = new Set(scenario.tokens.map((token) => token.address));
  const sinkTransfers = records
    .filter((record) => record.headers.dataset === 'erc20_transfers')
    .map((record) => ({ record, value: JSON.parse(record.value) as Record<string, string | number> }))
    .filter(({ value }) => tokens.has(String(value.token_address)));
  const describe = (t: {
    token: string;
    from: string;
    to: string;
    value: string;
    hash: string;
    block: number;
  }) => `${t.block}:${t.hash}:${t.token}:${t.from}:${t.to}:${t.value}`;
  assert.deepEqual(
    sinkTransfers
      .map(({ value }) =>
        describe({
          block: Number(value.block_number),
          hash: String(value.transaction_hash),
          token: String(value.token_address),
          from: String(value.from_address),
          to: String(value.to_address),
          value: String(value.value),
        }),
      )
      .sort(),
    scenario.transfers
      .map((t) =>
        describe({
          block: t.blockNumber,
          hash: t.transactionHash,
          token: t.token,
          from: t.from,
          to: t.to,
          value: t.value,
        }),
      )
      .sort(),
  );
  for (const { record, value } of sinkTransfers) {
    assert.equal(
      record.key,
      `erc20_transfers:erc20_transfers:${world.chain}:${value.block_number}:${value.log_index}`,
    );
  }

  // Progress: every batch once, blocks and rows as written.
  const totalRows = [...rowsPerRoot.values()].reduce((sum, count) => sum + count, 0);
  assert.deepEqual(
    [progress.succeeded, progress.failed, progress.skipped, progress.blocks, progress.rows],
    [2 * batchStarts.length, 0, 0, 2 * batchStarts.length * BATCH_SIZE, totalRows],
  );
  assert.deepEqual(await world.queueCounts(), { ready: 0, dead: 0 });

  // Metrics over HTTP.
  const metrics = await worker.metricsText();
  assert.match(
    metrics,
    new RegExp(
      `^model_runner_worker_blocks_modeled_total\\{model="ingest",chain="${world.chain}"\\} ${batchStarts.length * BATCH_SIZE}$`,
      'm',
    ),
  );
  assert.match(
    metrics,
    new RegExp(
      `^model_runner_worker_rows_written_total\\{model="erc20_transfers",chain="${world.chain}",dataset="erc20_transfers"\\} ${rowsPerRoot.get(TRANSFERS_ROOT)}$`,
      'm',
    ),
  );
  assert.match(
    metrics,
    new RegExp(
      `^model_runner_worker_time_in_queue_seconds_count\\{queue="${world.queue}"\\} ${2 * batchStarts.length}$`,
      'm',
    ),
  );
});

test('a redelivered batch is skipped; a forced rerun repeats the same keys and replaces the same files', async () => {
  const before = await world.sinkRecords();
  const filesBefore = await world.lakeFiles();
  const start = batchStarts[0]!;
  await world.publish(world.batch('erc20_transfers', start));
  // Success is final in progress, so the worker's own count is what shows the skip.
  const transfers = { model: 'erc20_transfers', chain: world.chain };
  assert.equal(
    await worker.waitForMetric('the skip', BATCHES_TOTAL, { ...transfers, result: 'skipped' }, (n) => n >= 1),
    1,
  );
  let progress = await world.readProgress();
  assert.deepEqual([progress.succeeded, progress.skipped], [2 * batchStarts.length, 0]);
  assert.equal((await world.sinkRecords()).length, before.length);

  await world.publish(world.batch('erc20_transfers', start, { force: true }));
  assert.equal(
    await worker.waitForMetric(
      'the forced rerun',
      BATCHES_TOTAL,
      { ...transfers, result: 'succeeded' },
      (n) => n > batchStarts.length,
    ),
    batchStarts.length + 1,
  );
  const after = await world.sinkRecords();
  const rerunKeys = (records: ConsumedRecord[]) =>
    records
      .filter((record) => record.headers.batch === `${world.chain}/erc20_transfers/${start}`)
      .map((record) => record.key);
  // Every record of the rerun repeats a key of the first run: consumers de-duplicate by key.
  assert.equal(after.length, before.length + rerunKeys(before).length);
  assert.deepEqual(new Set(after.map((record) => record.key)), new Set(before.map((record) => record.key)));
  assert.deepEqual(
    countBy(rerunKeys(after), (key) => key),
    new Map(rerunKeys(before).map((key) => [key, 2])),
  );
  assert.deepEqual(await world.lakeFiles(), filesBefore);
  assert.equal(await world.markers.isBatchComplete(world.chain, TRANSFERS_ROOT, start), true);
  progress = await world.readProgress();
  assert.equal(progress.succeeded, 2 * batchStarts.length);
});

test("a run's own sink topic (spec.sink.topic, in the message) gets its rows instead of the default", async () => {
  const topic = `${world.topic}-own`;
  const start = batchStarts[0]!;
  const rowsBefore = (await world.sinkRecords()).length;
  await world.publish(world.batch('erc20_transfers', start, { force: true, sinkTopic: topic }));
  const transfers = { model: 'erc20_transfers', chain: world.chain, result: 'succeeded' };
  await worker.waitForMetric(
    'the rerun to its own topic',
    BATCHES_TOTAL,
    transfers,
    (n) => n > batchStarts.length + 1,
  );
  try {
    const own = await readAllRecords(topic, stackEnv().KAFKA_BROKERS.split(','));
    assert.ok(own.length > 0);
    assert.ok(own.every((record) => record.headers.batch === `${world.chain}/erc20_transfers/${start}`));
    assert.equal((await world.sinkRecords()).length, rowsBefore, 'nothing more on the default topic');
  } finally {
    await deleteTopic(topic, stackEnv().KAFKA_BROKERS.split(','));
  }
});

test('SIGTERM stops the worker cleanly with exit code 0', async () => {
  const exit = await worker.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(worker.lines.some((line) => line.msg === 'worker stopped'));
});
