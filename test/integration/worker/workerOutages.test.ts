// Backing services failing under a real worker: an RPC node answering errors and garbage,
// ClickHouse unreachable (a closed port) or dropping the marker insert mid-batch, Kafka
// unreachable. Each time the batch fails with the service's name as the reason, is retried,
// is never acked as done meanwhile, and succeeds once the service is back — exactly once in
// markers and files. The stack's services are never touched: the worker is pointed at
// forwarders on 127.0.0.1 that the test closes and reopens.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { ClickHouseGate } from './clickhouseGate.ts';
import { FlakyRpc } from './flakyRpc.ts';
import { TcpProxy } from './tcpProxy.ts';
import type { WorkerProcess } from './workerProcess.ts';
import { BATCH_SIZE, batchStart, WorkerTestWorld } from './workerHarness.ts';

let world: WorkerTestWorld;
let firstStart: number;
const cleanups: (() => Promise<void>)[] = [];

/** Waits for `count` failed attempts of `reason` (the worker counts each one in its metrics). */
async function waitForFailedAttempts(worker: WorkerProcess, reason: string, count: number): Promise<void> {
  await worker.waitForMetric(
    `${count} ${reason} failures`,
    'model_runner_worker_batch_failures_total',
    { model: 'ingest', chain: world.chain, reason },
    (value) => value >= count,
  );
}

/** Ingestion of one batch is committed exactly once: complete, one marker per file, keys once. */
async function assertIngestedOnce(start: number, batchId: string): Promise<void> {
  for (const rootPath of Object.values(INGESTION_ROOT_PATHS)) {
    assert.equal(await world.markers.isBatchComplete(world.chain, rootPath, start), true, rootPath);
  }
  const rows = (await world.markerRows()).filter((row) => row.min_block === start);
  const files = (await world.lakeFiles()).filter((file) =>
    file.endsWith(`/${String(start).padStart(12, '0')}.parquet`),
  );
  assert.deepEqual(rows.map((row) => row.data_path).sort(), files);
  const records = (await world.sinkRecords()).filter((record) => record.headers.batch === batchId);
  const blocks = records.filter((record) => record.headers.dataset === 'blocks');
  assert.equal(new Set(blocks.map((record) => record.key)).size, BATCH_SIZE);
}

before(async () => {
  world = await WorkerTestWorld.create();
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  if ((await anvil.blockNumber()) < 1_000) await anvil.mine(1_000);
  firstStart = batchStart((await anvil.blockNumber()) - 900);
});

after(async () => {
  await world.cleanup(); // its workers first, then the forwarders they used
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
});

test('an RPC answering errors and garbage: retried with backoff, then the batch succeeds', async () => {
  const rpc = await FlakyRpc.start(stackEnv().ETH_RPC_URL);
  cleanups.push(() => rpc.close());
  const worker = await world.startWorker({ [world.rpcEnvVar]: rpc.url });
  const run = world.runOf('rpc-outage');
  const start = firstStart;
  await world.publish(world.batch('ingest', start, { ...run, maxRetriesPerBatch: 30 }));
  await waitForFailedAttempts(worker, 'rpc', 2);
  // Not done while failing: no markers, no ack (the batch waits in a retry tier or is in flight).
  assert.equal(await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.blocks, start), false);
  assert.equal((await world.readProgress(run.runId.uid)).succeeded, 0);
  assert.ok(rpc.failedRequests >= 2);

  rpc.failing = false;
  const progress = await world.waitForProgress(
    'the batch after recovery',
    (p) => p.succeeded === 1,
    45_000,
    run.runId.uid,
  );
  assert.ok(progress.retried >= 2, `retried ${progress.retried}`);
  assert.equal(progress.failed, 0);
  await assertIngestedOnce(start, `${world.chain}/ingest/${start}`);
  const failures = worker.lines.filter((line) => line.msg === 'batch attempt failed');
  assert.match(String(failures[0]!.err), /^rpc: eth_/);
  // The RPC client's own retry warnings are batch lines too: they carry the run and batch ids.
  const rpcWarnings = worker.lines.filter(
    (line) => line.endpoint !== undefined && line.delayMs !== undefined,
  );
  assert.ok(rpcWarnings.length > 0);
  for (const line of rpcWarnings) {
    assert.deepEqual([line.runUid, line.batchId], [run.runId.uid, `${world.chain}/ingest/${start}`]);
  }
  assert.match(
    await worker.metricsText(),
    new RegExp(`batch_failures_total\\{model="ingest",chain="${world.chain}",reason="rpc"\\} [2-9]`),
  );
  assert.equal((await world.queueCounts()).dead, 0);
  await worker.stop('SIGTERM');
});

test('ClickHouse on a closed port: failing attempts are never acked as done; it succeeds once reachable', async () => {
  const target = new URL(stackEnv().CLICKHOUSE_URL);
  const proxy = await TcpProxy.create({ host: target.hostname, port: Number(target.port) }, false);
  cleanups.push(() => proxy.close());
  const viaProxy = new URL(stackEnv().CLICKHOUSE_URL);
  viaProxy.host = proxy.url;
  const worker = await world.startWorker({ CLICKHOUSE_URL: viaProxy.toString() });
  const run = world.runOf('clickhouse-down');
  const start = firstStart + BATCH_SIZE;
  await world.publish(world.batch('ingest', start, { ...run, maxRetriesPerBatch: 30 }));
  await waitForFailedAttempts(worker, 'clickhouse', 2);
  assert.equal((await world.readProgress(run.runId.uid)).succeeded, 0);
  assert.equal(await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.blocks, start), false);

  await proxy.open();
  const progress = await world.waitForProgress(
    'the batch after recovery',
    (p) => p.succeeded === 1,
    45_000,
    run.runId.uid,
  );
  assert.ok(progress.retried >= 2);
  await assertIngestedOnce(start, `${world.chain}/ingest/${start}`);
  const failure = worker.lines.find((line) => line.msg === 'batch attempt failed');
  assert.match(String(failure?.err), /^clickhouse: .*ECONNREFUSED/);
  assert.equal((await world.queueCounts()).dead, 0);
  await worker.stop('SIGTERM');
});

test('ClickHouse dropping the marker insert mid-batch: the batch is redone; Kafka repeats only its keys', async () => {
  const gate = await ClickHouseGate.start(stackEnv().CLICKHOUSE_URL);
  cleanups.push(() => gate.close());
  gate.failInserts = true;
  const worker = await world.startWorker({ CLICKHOUSE_URL: gate.url });
  const run = world.runOf('clickhouse-insert');
  const start = firstStart + 2 * BATCH_SIZE;
  const batchId = `${world.chain}/ingest/${start}`;
  await world.publish(world.batch('ingest', start, { ...run, maxRetriesPerBatch: 30 }));
  await waitForFailedAttempts(worker, 'clickhouse', 2);
  assert.equal(await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.blocks, start), false);
  // The rows went to Kafka before each failed commit: the same keys, more than once.
  const sent = (await world.sinkRecords()).filter(
    (r) => r.headers.batch === batchId && r.headers.dataset === 'blocks',
  );
  assert.ok(sent.length >= 2 * BATCH_SIZE, `${sent.length} block records`);

  gate.failInserts = false;
  await world.waitForProgress('the batch after recovery', (p) => p.succeeded === 1, 45_000, run.runId.uid);
  await assertIngestedOnce(start, batchId);
  const blocks = (await world.sinkRecords()).filter(
    (r) => r.headers.batch === batchId && r.headers.dataset === 'blocks',
  );
  const expectedKeys = Array.from(
    { length: BATCH_SIZE },
    (_, i) => `ingest:blocks:${world.chain}:${start + i}:block`,
  );
  assert.deepEqual([...new Set(blocks.map((record) => record.key))].sort(), expectedKeys.sort());
  await worker.stop('SIGTERM');
});

test('Kafka on a closed port: the batch fails before its markers, is retried, and succeeds once reachable', async () => {
  const [host, port] = stackEnv().KAFKA_BROKERS.split(',')[0]!.split(':');
  const proxy = await TcpProxy.create({ host: host!, port: Number(port) }, false);
  cleanups.push(() => proxy.close());
  const worker = await world.startWorker({ KAFKA_BROKERS: proxy.url });
  const run = world.runOf('kafka-down');
  const start = firstStart + 3 * BATCH_SIZE;
  await world.publish(world.batch('ingest', start, { ...run, maxRetriesPerBatch: 30 }));
  await waitForFailedAttempts(worker, 'kafka', 2);
  // The files may be in the lake (they are overwritten next time), but nothing is committed.
  assert.equal(await world.markers.isBatchComplete(world.chain, INGESTION_ROOT_PATHS.blocks, start), false);
  assert.equal((await world.readProgress(run.runId.uid)).succeeded, 0);

  await proxy.open();
  await world.waitForProgress('the batch after recovery', (p) => p.succeeded === 1, 45_000, run.runId.uid);
  await assertIngestedOnce(start, `${world.chain}/ingest/${start}`);
  const failure = worker.lines.find((line) => line.msg === 'batch attempt failed');
  assert.match(String(failure?.err), /^kafka: /);
  assert.match(
    await worker.metricsText(),
    new RegExp(`batch_failures_total\\{model="ingest",chain="${world.chain}",reason="kafka"\\} [2-9]`),
  );
  assert.deepEqual(await world.queueCounts(), { ready: 0, dead: 0 });
  await worker.stop('SIGTERM');
});
