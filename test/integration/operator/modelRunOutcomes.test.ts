// How ModelRuns end, through the operator and worker Deployments (executor queue) on the local
// stack: a batch that always fails does not stop the others and the run ends Failed naming it;
// suspend holds dispatch back and resume continues it; a deadline expires a run that waits;
// dryRun plans and sends nothing; force rewrites complete batches; bad input fails with a reason
// that says what to fix; a range beyond what is ingested waits and says for which blocks; a run
// deleted mid-way is cancelled and its queued batches are dropped by the workers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import IORedis from 'ioredis';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { RunProgressStore } from '../../../adapters/redis/progress.ts';
import { AnvilSession } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { findCondition } from '../../../controllers/planning/conditions.ts';
import { mergePatch } from '../../../adapters/kube/index.ts';
import { kubeClients, pollUntil } from '../../support/kube.ts';
import { OperatorWorld } from '../../support/operatorWorld.ts';

const FINAL = ['Succeeded', 'Failed', 'Expired'];
let world: OperatorWorld;
let redis: IORedis.Redis;
let progress: RunProgressStore;
let markers: ClickHouseMarkerStore;
let firstBatch: number;

/** `count` 100-block batches from `first` (the local chain's batch size), as the API writes them. */
function blocksOf(first: number, count: number): { start: number; end: number } {
  return { start: first, end: first + count * 100 - 1 };
}

function condition(run: ModelRun, type: string) {
  return findCondition(run.status?.conditions, type);
}

before(async () => {
  world = await OperatorWorld.create('outcomes', { config: { maxInFlightPerRun: 2 } });
  await world.startOperator();
  await world.leader();
  await world.applyWorkers('workers-nonreads', ['local_backfill_nonreads'], 2);
  redis = new IORedis.Redis(stackEnv().REDIS_URL);
  progress = new RunProgressStore(redis, { prefix: world.redisPrefix });
  markers = new ClickHouseMarkerStore({
    client: createServerClient(stackEnv().CLICKHOUSE_URL),
    ownsClient: true,
    database: world.database,
  });
  const anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init();
  // Blocks other tests may also be using: ingest writes them to this world's own lake and markers.
  if ((await anvil.blockNumber()) < 1_300) await anvil.mine(1_300);
  firstBatch = Math.floor(((await anvil.blockNumber()) - 1_100) / 100) * 100;
});

after(async () => {
  redis?.disconnect();
  await markers?.close();
  await world?.cleanup();
});

describe('dispatch and its limits', () => {
  it('dryRun plans in status and sends nothing', async () => {
    await world.applyRun({
      metadata: { name: 'dry' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch, 3), dryRun: true },
    });
    const run = await world.waitForPhase('dry', FINAL);
    assert.equal(run.status?.phase, 'Succeeded');
    assert.equal(condition(run, 'Complete')?.reason, 'DryRun');
    assert.deepEqual(run.status?.batches, {
      total: 3,
      skipped: 0,
      waiting: 3,
      queued: 0,
      succeeded: 0,
      failed: 0,
    });
    assert.equal((await progress.readDispatched(run.metadata!.uid!)).size, 0);
    assert.equal(await markers.isBatchComplete('local', INGESTION_ROOT_PATHS.blocks, firstBatch), false);
  });

  it('a suspended run sends nothing; resumed, it finishes', async () => {
    await world.applyRun({
      metadata: { name: 'paused' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch, 4), suspend: true },
    });
    const held = await pollUntil('the suspended run to be planned', async () => {
      const run = await world.getRun('paused');
      return run?.status?.batches?.total === 4 ? run : undefined;
    });
    assert.equal(condition(held, 'Suspended')?.status, 'True');
    assert.equal(held.status?.batches?.waiting, 4);
    assert.equal((await progress.readDispatched(held.metadata!.uid!)).size, 0);
    await kubeClients().customObjects.patchNamespacedCustomObject(
      {
        group: 'modelrunner.io',
        version: 'v1alpha1',
        namespace: world.namespace,
        plural: 'modelruns',
        name: 'paused',
        body: { spec: { suspend: false } },
      },
      mergePatch,
    );
    const done = await world.waitForPhase('paused', FINAL);
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(done.status?.progress, '4/4');
    assert.equal(condition(done, 'Suspended')?.status, 'False');
    assert.ok((done.status?.suspendedSeconds ?? -1) >= 0);
  });

  it('force rewrites batches whose markers are complete (succeeded, not skipped)', async () => {
    // The batches of the suspended run are complete now.
    await world.applyRun({
      metadata: { name: 'again' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch, 2) },
    });
    const skipped = await world.waitForPhase('again', FINAL);
    assert.deepEqual([skipped.status?.batches?.skipped, skipped.status?.batches?.succeeded], [2, 0]);
    await world.applyRun({
      metadata: { name: 'forced' },
      spec: { model: 'ingest', chain: 'local', blocks: blocksOf(firstBatch, 2), force: true },
    });
    const forced = await world.waitForPhase('forced', FINAL);
    assert.deepEqual([forced.status?.batches?.skipped, forced.status?.batches?.succeeded], [0, 2]);
    assert.equal(forced.status?.blocksModeled, 200);
  });
});

describe('waiting and bad input', () => {
  it('an unknown model or chain ends Failed with a reason that says what to fix', async () => {
    await world.applyRun({
      metadata: { name: 'no-model' },
      spec: { model: 'token_flows', chain: 'local', blocks: blocksOf(0, 1) },
    });
    await world.applyRun({
      metadata: { name: 'no-chain' },
      spec: { model: 'ingest', chain: 'moonbeam', blocks: blocksOf(0, 1) },
    });
    const noModel = await world.waitForPhase('no-model', FINAL);
    assert.equal(noModel.status?.phase, 'Failed');
    assert.equal(condition(noModel, 'Failed')?.reason, 'UnknownModel');
    assert.match(
      noModel.status?.message ?? '',
      /known models: ingest, erc20_transfers, erc20_balances\. Create a new ModelRun/,
    );
    const noChain = await world.waitForPhase('no-chain', FINAL);
    assert.equal(condition(noChain, 'Failed')?.reason, 'UnknownChain');
    assert.match(noChain.status?.message ?? '', /configured chains: local, ethereum/);
  });

  it('a range beyond what is ingested waits and says for which blocks; its deadline expires it', async () => {
    const far = firstBatch + 1_000_000;
    await world.applyRun({
      metadata: { name: 'beyond' },
      spec: { model: 'erc20_transfers', chain: 'local', blocks: blocksOf(far, 2), activeDeadlineSeconds: 6 },
    });
    const waiting = await pollUntil('the run to wait for its inputs', async () => {
      const run = await world.getRun('beyond');
      return condition(run ?? ({} as ModelRun), 'WaitingForInputs')?.status === 'True' ? run : undefined;
    });
    assert.equal(waiting?.status?.phase, 'Pending');
    assert.match(
      condition(waiting!, 'WaitingForInputs')!.message,
      new RegExp(`batches ${far}-${far + 99}, ${far + 100}-${far + 199} wait`),
    );
    const expired = await world.waitForPhase('beyond', FINAL);
    assert.equal(expired.status?.phase, 'Expired');
    assert.equal(condition(expired, 'Failed')?.reason, 'DeadlineExceeded');
  });
});

describe('a batch that always fails', () => {
  let proxy: Server;
  let brokenBlock: number;

  before(async () => {
    // A JSON-RPC endpoint that refuses one block of anvil's: that batch of ingest always fails.
    brokenBlock = firstBatch + 650;
    proxy = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as
          | { id: number; method: string; params: unknown[] }
          | { id: number; method: string; params: unknown[] }[];
        const calls = Array.isArray(body) ? body : [body];
        if (
          calls.some(
            (call) => call.method === 'eth_getBlockByNumber' && Number(call.params[0]) === brokenBlock,
          )
        ) {
          const refusal = (call: { id: number }) => ({
            jsonrpc: '2.0',
            id: call.id,
            error: { code: -32000, message: `block ${brokenBlock} is cursed` },
          });
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify(Array.isArray(body) ? calls.map(refusal) : refusal(calls[0]!)));
          return;
        }
        const upstream = await fetch(stackEnv().ETH_RPC_URL, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        response
          .writeHead(upstream.status, { 'content-type': 'application/json' })
          .end(await upstream.text());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    // The workers of this world read the chain through the proxy from now on (env wins over the Secret).
    const port = (proxy.address() as AddressInfo).port;
    await world.applyWorkers('workers-nonreads', ['local_backfill_nonreads'], 2, {
      ETH_RPC_URL: `http://127.0.0.1:${port}`,
    });
  });

  after(() => {
    proxy?.closeAllConnections();
    proxy?.close();
  });

  it('does not stop the others; the run ends Failed and names it with its error', async () => {
    await world.applyRun({
      metadata: { name: 'cursed' },
      spec: {
        model: 'ingest',
        chain: 'local',
        blocks: blocksOf(firstBatch + 500, 3),
        maxRetriesPerBatch: 1,
        force: true,
      },
    });
    const run = await world.waitForPhase('cursed', FINAL, 180_000);
    assert.equal(run.status?.phase, 'Failed');
    assert.equal(condition(run, 'Failed')?.reason, 'BatchesFailed');
    assert.deepEqual([run.status?.batches?.succeeded, run.status?.batches?.failed], [2, 1]);
    const [failed] = run.status?.failedBatches ?? [];
    assert.deepEqual([failed?.startBlock, failed?.endBlock], [firstBatch + 600, firstBatch + 699]);
    assert.match(failed?.error ?? '', /cursed/);
    assert.equal(failed?.attempts, 2);
  });
});
