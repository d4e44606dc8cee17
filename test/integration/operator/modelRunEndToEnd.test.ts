// kubectl apply a ModelRun, watch it finish: with ERC-20 traffic on anvil over more than 2,000
// blocks, `ingest` then `erc20_transfers` run through the operator, once with executor `queue`
// (worker Deployments consuming) and once with executor `job` (an Indexed Job per run). Each
// ends Succeeded with N/N, the transfers in the lake equal those made on chain, every batch's
// markers are complete, the Kafka sink holds exactly the rows, and a finished run is left alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClickHouseMarkerStore } from '../../../adapters/clickhouse/markerStore.ts';
import { createServerClient } from '../../../adapters/clickhouse/clickhouseClient.ts';
import { DuckDbSession, duckDbString } from '../../../adapters/parquet/duckDbSession.ts';
import { AnvilSession, type Erc20Scenario, runErc20Scenario } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { loadChains, planChainBatches, requireChain } from '../../../dataplane/chains.ts';
import { INGESTION_ROOT_PATHS, modelOutputRootPath } from '../../../dataplane/paths.ts';
import type { ModelRun } from '../../../crds/generated/types.ts';
import { pollUntil } from '../../support/kube.ts';
import { OperatorWorld } from '../../support/operatorWorld.ts';
import { readAllRecords } from '../worker/support.ts';

const TRANSFERS_ROOT = modelOutputRootPath('erc20_transfers', 'erc20_transfers', 1);
const chain = requireChain(loadChains(), 'local');

let scenario: Erc20Scenario;
let blocks: { start: number; end: number };

before(async () => {
  scenario = await runErc20Scenario(stackEnv().ETH_RPC_URL, { transfers: 120, minBlockSpan: 2_050 });
  const batchSize = chain.batchSizes[0]!.batchSize;
  // One more batch of blocks so the scenario's last batch is below the safe tip.
  await (await new AnvilSession(stackEnv().ETH_RPC_URL).init()).mine(batchSize);
  const batches = planChainBatches(chain, { minBlock: scenario.fromBlock, maxBlock: scenario.toBlock + 1 });
  blocks = { start: batches[0]!.minBlock, end: batches.at(-1)!.maxBlock - 1 };
});

/** The transfers rows of the scenario's tokens, from the world's lake. */
async function lakeTransfers(world: OperatorWorld): Promise<string[]> {
  const session = await DuckDbSession.open({ threads: 1 });
  try {
    const files = `${world.lakeDir}/${TRANSFERS_ROOT}/chain=local/*/*.parquet`;
    const tokens = scenario.tokens.map((token) => `'${token.address}'`).join(', ');
    const rows = await session.query(
      `SELECT token_address, from_address, to_address, value, block_number FROM read_parquet(${duckDbString(files)})
       WHERE token_address IN (${tokens})`,
    );
    return rows
      .map((r) => `${r.token_address}|${r.from_address}|${r.to_address}|${r.value}|${r.block_number}`)
      .sort();
  } finally {
    session.close();
  }
}

function expectedTransfers(): string[] {
  return scenario.transfers.map((t) => `${t.token}|${t.from}|${t.to}|${t.value}|${t.blockNumber}`).sort();
}

function assertFinishedAllDone(run: ModelRun, batches: number): void {
  assert.equal(run.status?.phase, 'Succeeded', JSON.stringify(run.status));
  assert.equal(run.status?.progress, `${batches}/${batches}`);
  const counts = run.status?.batches;
  assert.equal(counts?.total, batches);
  assert.equal((counts?.succeeded ?? 0) + (counts?.skipped ?? 0), batches);
  assert.deepEqual([counts?.failed, counts?.queued, counts?.waiting], [0, 0, 0]);
}

for (const executor of ['queue', 'job'] as const) {
  describe(`executor ${executor}: ingest then erc20_transfers through the operator`, () => {
    let world: OperatorWorld;
    const batchCount = () =>
      planChainBatches(chain, { minBlock: blocks.start, maxBlock: blocks.end + 1 }).length;

    before(async () => {
      world = await OperatorWorld.create(`e2e-${executor}`);
      await world.startOperator();
      await world.leader();
      if (executor === 'queue') {
        await world.applyWorkers('workers-nonreads', ['local_backfill_nonreads'], 2);
      }
    });

    after(async () => {
      await world.cleanup();
    });

    it('ingest, then erc20_transfers, each end Succeeded with N/N', async () => {
      const spec = (model: string) => ({
        model,
        chain: 'local',
        blocks,
        executor,
        ...(executor === 'job' ? { job: { parallelism: 3 } } : {}),
      });
      await world.applyRun({ metadata: { name: 'ingest' }, spec: spec('ingest') });
      assertFinishedAllDone(
        await world.waitForPhase('ingest', ['Succeeded', 'Failed', 'Expired'], 240_000),
        batchCount(),
      );
      await world.applyRun({ metadata: { name: 'transfers' }, spec: spec('erc20_transfers') });
      const transfers = await world.waitForPhase('transfers', ['Succeeded', 'Failed', 'Expired'], 240_000);
      assertFinishedAllDone(transfers, batchCount());
      // A batch counts as modeled when this run's attempt wrote it. A Job pod replaced after its
      // batch was committed (a busy machine) finds it complete and reports it skipped instead.
      const blocksPerBatch = (blocks.end - blocks.start + 1) / batchCount();
      assert.equal(
        transfers.status?.blocksModeled,
        (transfers.status?.batches?.succeeded ?? 0) * blocksPerBatch,
      );
      assert.ok((transfers.status?.batches?.succeeded ?? 0) > 0, 'the run modeled its batches itself');
    });

    it('the lake holds exactly the transfers made on chain, and every batch is committed by its markers', async () => {
      assert.deepEqual(await lakeTransfers(world), expectedTransfers());
      const markers = new ClickHouseMarkerStore({
        client: createServerClient(stackEnv().CLICKHOUSE_URL),
        ownsClient: true,
        database: world.database,
      });
      try {
        const range = { minBlock: blocks.start, maxBlock: blocks.end + 1 };
        for (const rootPath of [...Object.values(INGESTION_ROOT_PATHS), TRANSFERS_ROOT]) {
          const complete = await markers.completeBatches('local', [rootPath], range);
          assert.equal(complete.length, batchCount(), rootPath);
        }
      } finally {
        await markers.close();
      }
    });

    it('the Kafka sink holds one record per row the runs wrote', async () => {
      const records = await readAllRecords(
        `${world.sinkEnv}-local-sink`,
        stackEnv().KAFKA_BROKERS.split(','),
      );
      const transfers = records.filter((record) => record.headers.dataset === 'erc20_transfers');
      const transfersInLake = await world.runs.get(world.namespace, 'transfers');
      assert.ok(transfersInLake);
      const session = await DuckDbSession.open({ threads: 1 });
      try {
        const files = `${world.lakeDir}/${TRANSFERS_ROOT}/chain=local/*/*.parquet`;
        const [counted] = await session.query(
          `SELECT count(*) AS n FROM read_parquet(${duckDbString(files)})`,
        );
        assert.equal(BigInt(transfers.length), counted!.n);
      } finally {
        session.close();
      }
      assert.equal(
        new Set(transfers.map((record) => record.key)).size,
        transfers.length,
        'no row sent twice',
      );
    });

    it('a finished run is left alone: a fresh operator reconciles it and writes nothing', async () => {
      const before = await world.getRun('transfers');
      for (const operator of world.operators) await operator.stop();
      const fresh = await world.startOperator();
      await world.leader();
      // Every run is reconciled once when the new leader's caches sync.
      await pollUntil(
        'the new operator to reconcile both runs',
        async () =>
          (await fresh
            .counter('model_runner_operator_reconciles_total', { controller: 'modelrun' })
            .catch(() => 0)) >= 2,
      );
      const afterwards = await world.getRun('transfers');
      assert.equal(afterwards?.metadata?.resourceVersion, before?.metadata?.resourceVersion);
    });
  });
}
