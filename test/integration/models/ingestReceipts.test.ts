// ingest on the stack's anvil: transactions carry their receipts' fields as anvil reports them
// (a reverted transaction: status 0 and no logs; contract creations: the contract address),
// the SQL decoder gives exactly the rows of the JS reference decoder, and a node without
// eth_getBlockReceipts (a loopback proxy refusing it) gives the same rows again.
// anvil is shared: the batches also hold other tests' transactions, which is fine, since
// every check compares whole batches or asks anvil itself.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type EthereumRpc, openEthereumRpc } from '../../../adapters/ethereum/ethereumRpc.ts';
import type { BlockBatch } from '../../../dataplane/batches.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { createIngestModel } from '../../../models/ingest/ingestModel.ts';
import { ModelRegistry } from '../../../models/modelRegistry.ts';
import { AnvilSession, type Erc20Scenario, runErc20Scenario } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { FlakyRpc } from '../worker/flakyRpc.ts';
import { ProviderFaultInjector } from '../worker/providerFaults.ts';
import { batchesCovering, mineUntil, openModelTestStack, readLakeRows, runOver } from './modelTestSupport.ts';

const DATASETS: [rootPath: string, orderBy: string][] = [
  [INGESTION_ROOT_PATHS.blocks, 'block_number'],
  [INGESTION_ROOT_PATHS.transactions, 'block_number, transaction_index'],
  [INGESTION_ROOT_PATHS.logs, 'block_number, log_index'],
];
type Rows = Record<string, Record<string, unknown>[]>;
const LOCAL_SETTINGS = { batchSize: 100, concurrentRequests: 4, requestsPerSecond: 0, maxLogsBlockRange: 0 };

interface AnvilReceipt {
  transactionHash: string;
  status: string;
  gasUsed: string;
  cumulativeGasUsed: string;
  effectiveGasPrice: string;
  contractAddress: string | null;
  logs: unknown[];
}

/** ingest (the given decoder) over `batches` into a lake of its own; every row, read back. */
async function ingestRows(
  decoder: 'sql' | 'js',
  batches: readonly BlockBatch[],
  rpc?: EthereumRpc,
): Promise<Rows> {
  const stack = await openModelTestStack(`ingest-receipts-${decoder}`);
  try {
    const model = new ModelRegistry([createIngestModel({ decoder })]).get('ingest');
    await runOver(stack, model, batches, rpc ? { rpc } : {});
    const rows: Rows = {};
    for (const [rootPath, orderBy] of DATASETS) rows[rootPath] = await readLakeRows(stack, rootPath, orderBy);
    return rows;
  } finally {
    await stack.close();
  }
}

describe('ingest: transactions with their receipts, on anvil', () => {
  let scenario: Erc20Scenario;
  let batches: BlockBatch[];
  let reverted: AnvilReceipt;
  let rows: Rows;
  const anvilUrl = stackEnv().ETH_RPC_URL;

  before(async () => {
    scenario = await runErc20Scenario(anvilUrl, { transfers: 12, minBlockSpan: 20 });
    // A transfer of more than the sender holds: mined, and reverted by the token.
    const session = await new AnvilSession(anvilUrl).init(1);
    const token = scenario.tokens[0]!.address;
    const transfer = `0xa9059cbb${scenario.holders[0]!.slice(2).padStart(64, '0')}${'f'.repeat(64)}`;
    const hash = await session.send(session.accounts[0]!, token, transfer);
    let receipt: AnvilReceipt | null = null;
    for (const deadline = Date.now() + 10_000; !receipt && Date.now() < deadline;) {
      receipt = (await session.rpc.request('eth_getTransactionReceipt', [hash])) as AnvilReceipt | null;
      if (!receipt) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(receipt, 'the reverting transaction was mined');
    reverted = receipt;
    const lastBlock = Number((receipt as unknown as { blockNumber: string }).blockNumber);
    const probe = await openModelTestStack('ingest-receipts-plan');
    try {
      batches = batchesCovering(probe, scenario.fromBlock, lastBlock);
      await mineUntil(probe.rpc, batches.at(-1)!.maxBlock - 1);
    } finally {
      await probe.close();
    }
    rows = await ingestRows('sql', batches);
  });

  it('the receipt fields are what anvil reports: a revert has status 0 and no logs; creations their contract', async () => {
    const transactions = rows[INGESTION_ROOT_PATHS.transactions]!;
    assert.equal(reverted.status, '0x0');
    const rpc = openEthereumRpc(anvilUrl, LOCAL_SETTINGS);
    const receipts = (await rpc.client.requestBatch(
      transactions.map((row) => ({ method: 'eth_getTransactionReceipt', params: [row.transaction_hash] })),
    )) as AnvilReceipt[];
    assert.deepEqual(
      transactions.map((row) => [
        row.transaction_hash,
        row.receipt_status,
        row.receipt_gas_used,
        row.receipt_cumulative_gas_used,
        row.receipt_effective_gas_price,
        row.receipt_contract_address,
      ]),
      receipts.map((receipt) => [
        receipt.transactionHash,
        Number(receipt.status),
        BigInt(receipt.gasUsed),
        BigInt(receipt.cumulativeGasUsed),
        BigInt(receipt.effectiveGasPrice).toString(),
        receipt.contractAddress?.toLowerCase() ?? null,
      ]),
    );
    const revertedRow = transactions.find((row) => row.transaction_hash === reverted.transactionHash);
    assert.equal(revertedRow?.receipt_status, 0);
    assert.ok(
      !rows[INGESTION_ROOT_PATHS.logs]!.some((log) => log.transaction_hash === reverted.transactionHash),
      'a reverted transaction leaves no logs',
    );
    for (const token of scenario.tokens) {
      const creation = transactions.find((row) => row.receipt_contract_address === token.address);
      assert.ok(creation, `the creation of ${token.address}`);
      assert.equal(creation.to_address, null);
      assert.equal(creation.receipt_status, 1);
    }
  });

  it('the JS reference decoder gives exactly the same rows', async () => {
    const reference = await ingestRows('js', batches);
    for (const [rootPath] of DATASETS) assert.deepEqual(rows[rootPath], reference[rootPath], rootPath);
  });

  describe('through a node without eth_getBlockReceipts', () => {
    let proxy: FlakyRpc;

    before(async () => {
      proxy = await FlakyRpc.start(anvilUrl);
      proxy.failing = false;
    });

    after(async () => {
      await proxy.close();
    });

    it('asks for receipts per transaction and gives the same rows', async () => {
      const injector = new ProviderFaultInjector({ missingMethods: ['eth_getBlockReceipts'] });
      proxy.provider = injector;
      const viaProxy = await ingestRows('sql', batches, openEthereumRpc(proxy.url, LOCAL_SETTINGS));
      assert.ok(injector.injected.missingMethod > 0, 'eth_getBlockReceipts was refused');
      assert.ok(
        (injector.forwardedCalls.get('eth_getTransactionReceipt') ?? 0) > 0,
        'receipts per transaction',
      );
      assert.equal(injector.forwardedCalls.get('eth_getBlockReceipts') ?? 0, 0);
      for (const [rootPath] of DATASETS) assert.deepEqual(viaProxy[rootPath], rows[rootPath], rootPath);
    });
  });
});
