// The whole chain of models on anvil: deploy two ERC-20s, make hundreds of transfers over
// more than 2,000 blocks, ingest, run erc20_transfers and erc20_balances, and compare
// every output row with what this test sent and with balanceOf read directly.
// anvil is shared: assertions concern only this test's contracts and recorded blocks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BlockBatch } from '../../../dataplane/batches.ts';
import { DuckDbSession, readParquetSql } from '../../../adapters/parquet/duckDbSession.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { ERC20_TRANSFER_TOPIC } from '../../../models/abi/erc20TransferLog.ts';
import { decodeTransferRows, type LogRow } from '../../../models/erc20_transfers/erc20TransfersJs.ts';
import { erc20TransfersSql } from '../../../models/erc20_transfers/erc20TransfersSql.ts';
import { modelRegistry } from '../../../models/registry.ts';
import type { BatchSummary } from '../../../models/runBatch.ts';
import {
  AnvilSession,
  type Erc20Scenario,
  ZERO_ADDRESS,
  runErc20Scenario,
} from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import {
  type ModelTestStack,
  batchesCovering,
  mineUntil,
  openModelTestStack,
  readLakeRows,
  runOver,
} from './modelTestSupport.ts';

const ingest = modelRegistry.get('ingest');
const transfersModel = modelRegistry.get('erc20_transfers');
const balancesModel = modelRegistry.get('erc20_balances');
const transfersRoot = transfersModel.datasets[0]!.rootPath;
const balancesRoot = balancesModel.datasets[0]!.rootPath;

describe('ingest → erc20_transfers → erc20_balances on anvil', () => {
  let stack: ModelTestStack;
  let scenario: Erc20Scenario;
  let batches: BlockBatch[];
  let anvil: AnvilSession;
  const summaries: Record<string, BatchSummary[]> = {};
  /** `token|holder|block` → balanceOf read directly from the node. */
  const directBalances = new Map<string, bigint>();

  before(async () => {
    stack = await openModelTestStack('models-pipeline');
    scenario = await runErc20Scenario(stackEnv().ETH_RPC_URL, { transfers: 300, minBlockSpan: 2_050 });
    batches = batchesCovering(stack, scenario.fromBlock, scenario.toBlock);
    await mineUntil(stack.rpc, batches.at(-1)!.maxBlock - 1);
    anvil = await new AnvilSession(stackEnv().ETH_RPC_URL).init(0);
    const ours = new Set(scenario.tokens.map((token) => token.address));
    summaries.ingest = [];
    summaries.transfers = [];
    summaries.balances = [];
    // Batch by batch through all three models, oldest first, with the direct balanceOf
    // reads right behind: anvil keeps historical state for a few thousand blocks only,
    // and other tests keep mining.
    for (const batch of batches) {
      summaries.ingest.push(...(await runOver(stack, ingest, [batch])));
      summaries.transfers.push(...(await runOver(stack, transfersModel, [batch])));
      const [balances] = await runOver(stack, balancesModel, [batch]);
      summaries.balances.push(balances!);
      const lastBlock = batch.maxBlock - 1;
      for (const transfer of scenario.transfers) {
        if (transfer.blockNumber < batch.minBlock || transfer.blockNumber > lastBlock) continue;
        for (const holder of [transfer.from, transfer.to]) {
          const key = `${transfer.token}|${holder}|${lastBlock}`;
          if (holder === ZERO_ADDRESS || !ours.has(transfer.token) || directBalances.has(key)) continue;
          directBalances.set(key, await anvil.balanceOf(transfer.token, holder, lastBlock));
        }
      }
    }
  });

  after(async () => {
    await stack?.close();
  });

  it('the scenario is what the task asks for', () => {
    assert.ok(scenario.toBlock - scenario.fromBlock + 1 > 2_000, 'more than 2,000 blocks');
    assert.ok(scenario.transfers.length >= 300, 'hundreds of transfers');
    assert.ok(
      scenario.transfers.some((t) => t.from === t.to && t.from !== ZERO_ADDRESS),
      'self-transfers',
    );
    assert.ok(
      scenario.transfers.some((t) => t.value === '0'),
      'zero values',
    );
    assert.ok(
      scenario.transfers.some((t) => BigInt(t.value) >= 2n ** 128n),
      'values beyond 128 bits',
    );
    assert.equal(new Set(scenario.transfers.map((t) => t.token)).size, 2, 'two tokens');
  });

  it('ingests every block once, chained by parent hash, with every batch committed', async () => {
    const blocks = await readLakeRows(stack, INGESTION_ROOT_PATHS.blocks);
    const first = batches[0]!.minBlock;
    const last = batches.at(-1)!.maxBlock - 1;
    assert.equal(blocks.length, last - first + 1);
    blocks.forEach((block, i) => {
      assert.equal(Number(block.block_number), first + i);
      if (i > 0)
        assert.equal(block.parent_hash, blocks[i - 1]!.block_hash, `block ${first + i} extends its parent`);
    });
    const sample = blocks[Math.floor(blocks.length / 2)]!;
    const header = await stack.rpc.getBlockHeader(Number(sample.block_number));
    assert.equal(sample.block_hash, header.hash);
    assert.equal((sample.block_timestamp as Date).getTime(), header.timestamp * 1000);

    for (const rootPath of Object.values(INGESTION_ROOT_PATHS)) {
      const complete = await stack.markers.completeBatches(stack.chain.name, [rootPath], {
        minBlock: first,
        maxBlock: last + 1,
      });
      assert.deepEqual(
        complete.map((batch) => batch.minBlock),
        batches.map((batch) => batch.minBlock),
        `${rootPath} complete for every batch`,
      );
    }
    assert.equal(summaries.ingest!.filter((s) => s.skipped).length, 0);
  });

  it('ingests our transactions and the look-alike logs as they are', async () => {
    const transactions = await readLakeRows(stack, INGESTION_ROOT_PATHS.transactions);
    const byHash = new Map(transactions.map((tx) => [tx.transaction_hash as string, tx]));
    for (const transfer of scenario.transfers) {
      const tx = byHash.get(transfer.transactionHash);
      assert.ok(tx, `transaction ${transfer.transactionHash} ingested`);
      assert.equal(tx.to_address, transfer.token);
      assert.equal(Number(tx.block_number), transfer.blockNumber);
    }
    const logs = await readLakeRows(stack, INGESTION_ROOT_PATHS.logs, 'block_number, log_index');
    const lookalikeLogs = logs.filter((log) => log.address === scenario.lookalikes);
    assert.equal(lookalikeLogs.length, scenario.lookalikeLogs.length);
    assert.ok(lookalikeLogs.every((log) => log.topic0 === ERC20_TRANSFER_TOPIC));
    assert.equal(
      lookalikeLogs.filter((log) => log.topic3 !== null).length,
      scenario.lookalikeLogs.filter((l) => l.kind === 'nft').length,
    );
  });

  it('erc20_transfers holds exactly the transfers the test made, value for value', async () => {
    const ours = new Set(scenario.tokens.map((token) => token.address));
    const rows = (await readLakeRows(stack, transfersRoot, 'block_number, log_index')).filter((row) =>
      ours.has(row.token_address as string),
    );
    const blocks = await readLakeRows(stack, INGESTION_ROOT_PATHS.blocks);
    const timestampOf = new Map(
      blocks.map((block) => [Number(block.block_number), (block.block_timestamp as Date).getTime()]),
    );
    const actual = rows.map((row) => ({
      token: row.token_address,
      from: row.from_address,
      to: row.to_address,
      value: row.value,
      blockNumber: Number(row.block_number),
      transactionHash: row.transaction_hash,
    }));
    const expected = [...scenario.transfers].sort((a, b) => a.blockNumber - b.blockNumber);
    assert.equal(actual.length, expected.length);
    assert.deepEqual(actual, expected);
    for (const row of rows) {
      assert.equal((row.block_timestamp as Date).getTime(), timestampOf.get(Number(row.block_number)));
    }
    assert.ok(!rows.some((row) => row.token_address === scenario.lookalikes));
    const allRows = await readLakeRows(stack, transfersRoot);
    assert.ok(
      !allRows.some((row) => row.token_address === scenario.lookalikes),
      'look-alikes are never transfers',
    );
  });

  it('counts the look-alike logs as skipped instead of failing', () => {
    const total = (name: string): number =>
      summaries.transfers!.reduce((sum, s) => sum + (s.counters[name] ?? 0), 0);
    const nft = scenario.lookalikeLogs.filter((log) => log.kind === 'nft').length;
    const short = scenario.lookalikeLogs.filter((log) => log.kind === 'short').length;
    assert.ok(nft > 0 && short > 0);
    // Other tests may emit look-alikes into the same blocks: at least ours are counted.
    assert.ok(
      total('skipped_wrong_topic_count') >= nft,
      `wrong topic count ${total('skipped_wrong_topic_count')} >= ${nft}`,
    );
    assert.ok(total('skipped_wrong_data_length') >= short);
  });

  it('the SQL decoder and the JS decoder agree on every log of the range', async () => {
    const files = (await stack.lake.list(`${INGESTION_ROOT_PATHS.logs}/chain=${stack.chain.name}`)).map(
      (path) => stack.lake.localFileOf(path),
    );
    const session = await DuckDbSession.open({ threads: 1 });
    try {
      const source = readParquetSql(files);
      const sqlRows = await session.query(
        `SELECT block_number, epoch(block_timestamp)::BIGINT AS ts, transaction_hash, log_index, token_address, from_address, to_address, value
         FROM (${erc20TransfersSql(source)})`,
      );
      const logs = (await session.query(
        `SELECT block_number, epoch(block_timestamp)::BIGINT AS block_timestamp, transaction_hash, log_index, address,
                topic0, topic1, topic2, topic3, data FROM ${source}`,
      )) as unknown as LogRow[];
      const jsRows = decodeTransferRows(logs).rows;
      assert.ok(jsRows.length >= scenario.transfers.length);
      assert.deepEqual(
        sqlRows.map((row) => [
          row.block_number,
          row.ts,
          row.transaction_hash,
          row.log_index,
          row.token_address,
          row.from_address,
          row.to_address,
          row.value,
        ]),
        jsRows.map((row) => [
          row.block_number,
          row.block_timestamp,
          row.transaction_hash,
          row.log_index,
          row.token_address,
          row.from_address,
          row.to_address,
          row.value,
        ]),
      );
    } finally {
      session.close();
    }
  });

  it('erc20_balances has, per batch, every holder our transfers touched, with the replayed and the direct balance', async () => {
    const ours = new Set(scenario.tokens.map((token) => token.address));
    const rows = (
      await readLakeRows(stack, balancesRoot, 'block_number, token_address, holder_address')
    ).filter((row) => ours.has(row.token_address as string));
    const expected: { token: string; holder: string; blockNumber: number; balance: string }[] = [];
    for (const batch of batches) {
      const lastBlock = batch.maxBlock - 1;
      const touched = new Set<string>();
      for (const t of scenario.transfers) {
        if (t.blockNumber < batch.minBlock || t.blockNumber > lastBlock) continue;
        if (t.from !== ZERO_ADDRESS) touched.add(`${t.token}|${t.from}`);
        if (t.to !== ZERO_ADDRESS) touched.add(`${t.token}|${t.to}`);
      }
      for (const pair of [...touched].sort()) {
        const [token, holder] = pair.split('|') as [string, string];
        let balance = 0n;
        for (const t of scenario.transfers) {
          if (t.token !== token || t.blockNumber > lastBlock) continue;
          if (t.from === holder) balance -= BigInt(t.value);
          if (t.to === holder) balance += BigInt(t.value);
        }
        expected.push({ token, holder, blockNumber: lastBlock, balance: balance.toString() });
      }
    }
    const actual = rows.map((row) => ({
      token: row.token_address as string,
      holder: row.holder_address as string,
      blockNumber: Number(row.block_number),
      balance: row.balance as string,
    }));
    assert.equal(actual.length, expected.length);
    assert.deepEqual(actual, expected);
    for (const row of rows) {
      const direct = directBalances.get(
        `${String(row.token_address)}|${String(row.holder_address)}|${String(row.block_number)}`,
      );
      assert.equal(row.balance, direct?.toString(), 'balanceOf read directly agrees');
      const token = scenario.tokens.find((t) => t.address === row.token_address)!;
      assert.equal(row.decimals, token.decimals);
      assert.equal(row.symbol, token.symbol, `${token.symbolKind} symbol decoded`);
    }
  });

  it('token metadata went through the shared Redis cache', async () => {
    for (const token of scenario.tokens) {
      const cached = await stack.redis.get(stack.tokenCache.valueKey(stack.chain.name, token.address));
      assert.deepEqual(JSON.parse(cached ?? 'null'), { decimals: token.decimals, symbol: token.symbol });
      assert.ok(
        (await stack.redis.ttl(stack.tokenCache.valueKey(stack.chain.name, token.address))) > 0,
        'with a TTL',
      );
    }
    // Many batches touch our two tokens; each was loaded once, later batches hit the cache.
    assert.ok(stack.tokenCache.stats.hits > 0);
  });

  it('every output batch is committed with one marker per day file', async () => {
    for (const rootPath of [transfersRoot, balancesRoot]) {
      for (const batch of batches) {
        const markers = await stack.markers.batchMarkers(stack.chain.name, rootPath, batch.minBlock);
        assert.ok(markers.length >= 1);
        assert.ok(
          markers.every((marker) => marker.numParts === markers.length && marker.maxBlock === batch.maxBlock),
        );
        assert.ok(
          markers.every(
            (marker) => marker.processName === 'test/models' && marker.writerName === 'test-host',
          ),
        );
      }
    }
  });
});
