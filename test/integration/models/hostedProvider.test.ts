// ingest and erc20_transfers through a loopback proxy in front of anvil that answers like a
// hosted provider (providerFaults.ts): for each provider habit alone and all of them
// together, the rows in the parquet files are exactly those of a run straight against anvil.
// The clients start from the local chain's settings (batches of 100, no log range), so every
// cap has to be found from the endpoint's answers. ingest's default (SQL) decoder never asks
// eth_getLogs (logs come from receipts): the eth_getLogs caps are met by its JS decoder.
// anvil is shared: the runs cover only this test's scenario blocks, mined before the first run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type EthereumRpc, openEthereumRpc } from '../../../adapters/ethereum/ethereumRpc.ts';
import type { BlockBatch } from '../../../dataplane/batches.ts';
import { type ChainConfig, planChainBatches } from '../../../dataplane/chains.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { createIngestModel } from '../../../models/ingest/ingestModel.ts';
import type { RegisteredModel } from '../../../models/modelRegistry.ts';
import { ModelRegistry } from '../../../models/modelRegistry.ts';
import { modelRegistry } from '../../../models/registry.ts';
import { type Erc20Scenario, runErc20Scenario } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { FlakyRpc } from '../worker/flakyRpc.ts';
import { type InjectedFault, ProviderFaultInjector, type ProviderFaults } from '../worker/providerFaults.ts';
import { mineUntil, openModelTestStack, readLakeRows, runOver } from './modelTestSupport.ts';

const ingest = modelRegistry.get('ingest');
const ingestJs = new ModelRegistry([createIngestModel({ decoder: 'js' })]).get('ingest');
const transfers = modelRegistry.get('erc20_transfers');
/** Batches wider than the 100-block log range cap, so that cap bites. */
const BATCH_SIZE = 250;
/** Transfer logs in one block: over the 300-result cap on its own. */
const CROWDED_BLOCK_LOGS = 350;
const OUTPUTS: [rootPath: string, orderBy: string][] = [
  [INGESTION_ROOT_PATHS.blocks, 'block_number'],
  [INGESTION_ROOT_PATHS.transactions, 'block_number, transaction_index'],
  [INGESTION_ROOT_PATHS.logs, 'block_number, log_index'],
  [transfers.datasets[0]!.rootPath!, 'block_number, log_index'],
];

interface Outputs {
  /** Lake paths of every parquet file written. */
  files: string[];
  /** By root path, every row, in block order. */
  rows: Record<string, Record<string, unknown>[]>;
}

/** Both models over `batches` with `rpc`, into a lake and a marker database of their own. */
async function runModels(
  rpc: EthereumRpc,
  batches: readonly BlockBatch[],
  ingestModel: RegisteredModel = ingest,
): Promise<Outputs> {
  const stack = await openModelTestStack('hosted-provider', { batchSize: BATCH_SIZE });
  try {
    const chain = stack.chain;
    await runOver(stack, ingestModel, batches, { rpc });
    await runOver(stack, transfers, batches, { rpc });
    const outputs: Outputs = { files: [], rows: {} };
    for (const [rootPath, orderBy] of OUTPUTS) {
      outputs.files.push(...(await stack.lake.list(`${rootPath}/chain=${chain.name}`)));
      outputs.rows[rootPath] = await readLakeRows(stack, rootPath, orderBy);
    }
    outputs.files.sort();
    return outputs;
  } finally {
    await stack.close();
  }
}

const ALL_FAULTS: ProviderFaults = {
  batchCap: 10,
  noBatches: true,
  logRangeCap: 100,
  logResultCap: 300,
  rateLimitOneIn: 5,
  resetOneIn: 10,
  missingMethods: ['eth_getBlockReceipts'],
};

const HABITS: {
  name: string;
  faults: ProviderFaults;
  /** ingest's decoder: the JS one for eth_getLogs caps, which only it meets. */
  decoder?: 'js';
  expect: (rpc: EthereumRpc, injector: ProviderFaultInjector) => void;
}[] = [
  {
    name: 'a batch cap of 10',
    faults: { batchCap: 10 },
    expect: (rpc) => assert.ok(rpc.client.batchSize <= 10, `batch size ${rpc.client.batchSize}`),
  },
  {
    name: 'batching refused',
    faults: { noBatches: true },
    expect: (rpc) => assert.equal(rpc.client.batchSize, 1),
  },
  {
    name: 'a 100-block log range cap',
    faults: { logRangeCap: 100 },
    decoder: 'js',
    expect: (rpc) => assert.ok(rpc.maxLogsBlockRange > 0 && rpc.maxLogsBlockRange <= 100),
  },
  {
    name: 'a 300-result log cap with one block over it',
    faults: { logResultCap: 300 },
    decoder: 'js',
    expect: (_rpc, injector) => assert.ok((injector.forwardedCalls.get('eth_getBlockReceipts') ?? 0) > 0),
  },
  { name: '20% of answers 429 with Retry-After', faults: { rateLimitOneIn: 5 }, expect: () => undefined },
  { name: 'a connection reset mid-response', faults: { resetOneIn: 10 }, expect: () => undefined },
  {
    name: 'all of them together, and no eth_getBlockReceipts',
    faults: ALL_FAULTS,
    expect: (rpc, injector) => {
      assert.equal(rpc.client.batchSize, 1);
      assert.equal(injector.forwardedCalls.get('eth_getLogs') ?? 0, 0, 'logs come from receipts');
      assert.ok(
        (injector.forwardedCalls.get('eth_getTransactionReceipt') ?? 0) > 0,
        'receipts per transaction',
      );
    },
  },
];

/**
 * The faults a configuration must have injected at least once, or the run proved nothing.
 * eth_getLogs caps only when ingest asks eth_getLogs (its JS decoder).
 */
function expectedInjections(faults: ProviderFaults, decoder: 'sql' | 'js'): InjectedFault[] {
  const injected: InjectedFault[] = [];
  if (faults.batchCap !== undefined) injected.push('batchCap');
  if (faults.noBatches) injected.push('noBatches');
  if (faults.logRangeCap !== undefined && decoder === 'js') injected.push('logRangeCap');
  if (faults.logResultCap !== undefined && decoder === 'js') injected.push('logResultCap');
  if (faults.missingMethods) injected.push('missingMethod');
  if (faults.rateLimitOneIn) injected.push('rateLimited');
  if (faults.resetOneIn) injected.push('reset');
  return injected;
}

describe('ingest and erc20_transfers against a hosted-provider-like endpoint', () => {
  let scenario: Erc20Scenario;
  let batches: BlockBatch[];
  let baseline: Outputs;
  let proxy: FlakyRpc;
  let localSettings: ChainConfig['rpcClient'];

  before(async () => {
    const anvilUrl = stackEnv().ETH_RPC_URL;
    scenario = await runErc20Scenario(anvilUrl, {
      transfers: 60,
      minBlockSpan: 500,
      crowdedBlockMints: CROWDED_BLOCK_LOGS,
    });
    const probe = await openModelTestStack('hosted-provider-plan');
    try {
      localSettings = probe.chain.rpcClient;
      const chain = { ...probe.chain, batchSizes: [{ fromBlock: 0, batchSize: BATCH_SIZE }] };
      batches = planChainBatches(chain, { minBlock: scenario.fromBlock, maxBlock: scenario.toBlock + 1 });
      await mineUntil(probe.rpc, batches.at(-1)!.maxBlock - 1);
    } finally {
      await probe.close();
    }
    baseline = await runModels(openEthereumRpc(anvilUrl, localSettings), batches);
    proxy = await FlakyRpc.start(anvilUrl);
    proxy.failing = false;
  });

  after(async () => {
    await proxy?.close();
  });

  it('the baseline holds the scenario, a block over the result cap included', () => {
    const logs = baseline.rows[INGESTION_ROOT_PATHS.logs]!;
    const perBlock = new Map<number, number>();
    for (const log of logs)
      perBlock.set(Number(log.block_number), (perBlock.get(Number(log.block_number)) ?? 0) + 1);
    assert.ok(Math.max(...perBlock.values()) >= CROWDED_BLOCK_LOGS, 'one block over the 300-result cap');
    assert.ok(
      batches.length >= 2 && batches.every((batch) => batch.maxBlock - batch.minBlock === BATCH_SIZE),
    );
    const transferRows = baseline.rows[OUTPUTS[3]![0]]!;
    assert.ok(transferRows.length >= scenario.transfers.length, 'every transfer of the scenario');
    assert.ok(baseline.files.length >= 4 * batches.length);
  });

  for (const { name, faults, decoder, expect } of HABITS) {
    it(`${name}${decoder === 'js' ? ' (JS decoder)' : ''}: the same files and rows as straight from anvil`, async () => {
      const injector = new ProviderFaultInjector(faults);
      proxy.provider = injector;
      const rpc = openEthereumRpc(proxy.url, localSettings, {
        backoff: { baseDelayMs: 5, maxDelayMs: 50, jitter: true },
      });
      const outputs = await runModels(rpc, batches, decoder === 'js' ? ingestJs : ingest);
      for (const fault of expectedInjections(faults, decoder ?? 'sql')) {
        assert.ok(injector.injected[fault] > 0, `the proxy injected ${fault}`);
      }
      expect(rpc, injector);
      assert.deepEqual(outputs.files, baseline.files);
      for (const [rootPath] of OUTPUTS) {
        assert.equal(outputs.rows[rootPath]!.length, baseline.rows[rootPath]!.length, rootPath);
        assert.deepEqual(outputs.rows[rootPath], baseline.rows[rootPath], rootPath);
      }
    });
  }
});
