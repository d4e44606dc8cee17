// One batch's life on the real stack: an RPC that fails then recovers, an RPC that
// answers garbage, a rerun that skips, a forced rerun that rewrites without duplicates,
// inputs that are not ready, and the sink hook that runs before the commit.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import type { BlockBatch } from '../../../dataplane/batches.ts';
import { INGESTION_ROOT_PATHS } from '../../../dataplane/paths.ts';
import { BatchNotReadyError } from '../../../models/batchReadiness.ts';
import { modelRegistry } from '../../../models/registry.ts';
import { type WrittenOutput, runModelBatch } from '../../../models/runBatch.ts';
import { type Erc20Scenario, runErc20Scenario } from '../../../devtools/anvil/erc20Scenario.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import {
  type ModelTestStack,
  batchOptions,
  batchesCovering,
  mineUntil,
  openModelTestStack,
  readLakeRows,
} from './modelTestSupport.ts';

const ingest = modelRegistry.get('ingest');
const transfersModel = modelRegistry.get('erc20_transfers');
const transfersRoot = transfersModel.datasets[0]!.rootPath;

/** A JSON-RPC proxy in front of anvil whose n-th request can be answered by the test instead. */
class FaultyRpcProxy {
  server: Server;
  url = '';
  requests = 0;
  fault: (n: number, res: ServerResponse) => boolean = () => false;

  constructor(target: string) {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests++;
        if (this.fault(this.requests, res)) return;
        fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(chunks),
        })
          .then(async (answer) => {
            res.writeHead(answer.status, { 'content-type': 'application/json' });
            res.end(await answer.text());
          })
          .catch(() => res.socket?.destroy());
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  reset(fault: (n: number, res: ServerResponse) => boolean): void {
    this.requests = 0;
    this.fault = fault;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

describe('one batch through runModelBatch', () => {
  let stack: ModelTestStack;
  let scenario: Erc20Scenario;
  let batches: BlockBatch[];
  let proxy: FaultyRpcProxy;
  // Markers are stamped by this clock, which moves only when a test says so.
  let markerTime = new Date('2025-01-01T00:00:00Z');

  before(async () => {
    stack = await openModelTestStack('models-lifecycle', { markerClock: () => markerTime });
    scenario = await runErc20Scenario(stackEnv().ETH_RPC_URL, { transfers: 20, minBlockSpan: 120, seed: 7 });
    batches = batchesCovering(stack, scenario.fromBlock, scenario.toBlock);
    await mineUntil(stack.rpc, batches.at(-1)!.maxBlock - 1);
    proxy = await new FaultyRpcProxy(stackEnv().ETH_RPC_URL).start();
  });

  after(async () => {
    proxy?.close();
    await stack?.close();
  });

  it('an RPC that answers garbage fails the batch with a clear error and writes nothing', async () => {
    proxy.reset((n, res) => {
      if (n === 1) return false; // eth_blockNumber for the tip check goes through
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html><body>Service temporarily unavailable</body></html>');
      return true;
    });
    const batch = batches[0]!;
    await assert.rejects(
      runModelBatch(batchOptions(stack, ingest, batch, { rpc: stack.rpcFor(proxy.url) })),
      (error: unknown) =>
        error instanceof RpcError &&
        error.kind === 'invalid-response' &&
        !error.retryable &&
        /response is not JSON: "<html>/.test(error.message),
    );
    assert.deepEqual(await stack.lake.list(''), [], 'no file');
    assert.deepEqual(
      await stack.markers.batchMarkers(stack.chain.name, INGESTION_ROOT_PATHS.logs, batch.minBlock),
      [],
    );
  });

  it('an RPC that fails a few times then recovers: the batch succeeds through retries', async () => {
    proxy.reset((n, res) => {
      if (n === 2 || n === 3) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('overloaded');
        return true;
      }
      if (n === 4) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } }),
        );
        return true;
      }
      return false;
    });
    const summary = await runModelBatch(
      batchOptions(stack, ingest, batches[0]!, { rpc: stack.rpcFor(proxy.url) }),
    );
    assert.equal(summary.skipped, false);
    assert.ok(proxy.requests > 4, 'the failed requests were sent again');
    assert.equal(summary.rows.blocks, batches[0]!.maxBlock - batches[0]!.minBlock);
    // Same rows as a direct fetch would give: compare with the node.
    const blocks = await readLakeRows(stack, INGESTION_ROOT_PATHS.blocks);
    for (const block of blocks.slice(0, 5)) {
      const header = await stack.rpc.getBlockHeader(Number(block.block_number));
      assert.equal(block.block_hash, header.hash);
    }
    for (const batch of batches.slice(1)) await runModelBatch(batchOptions(stack, ingest, batch));
  });

  it('a model whose input is not complete is not ready (retryable), and writes nothing', async () => {
    const beyond = {
      minBlock: batches.at(-1)!.maxBlock + 10_000,
      maxBlock: batches.at(-1)!.maxBlock + 10_100,
    };
    await assert.rejects(
      runModelBatch(batchOptions(stack, transfersModel, beyond)),
      (error: unknown) =>
        error instanceof BatchNotReadyError &&
        error.retryable &&
        /ingestion\/logs_v1 is not complete/.test(error.message),
    );
  });

  it('ingest refuses a batch beyond the safe tip as not ready', async () => {
    const tip = await stack.rpc.blockNumber();
    const batch = {
      minBlock: Math.ceil((tip + 1_000) / 100) * 100,
      maxBlock: Math.ceil((tip + 1_000) / 100) * 100 + 100,
    };
    await assert.rejects(
      runModelBatch(batchOptions(stack, ingest, batch)),
      (error: unknown) => error instanceof BatchNotReadyError && /not safe yet/.test(error.message),
    );
  });

  it("a batch that is not one of the chain's batches is refused", async () => {
    await assert.rejects(
      runModelBatch(
        batchOptions(stack, ingest, {
          minBlock: batches[0]!.minBlock + 1,
          maxBlock: batches[0]!.maxBlock + 1,
        }),
      ),
      /blocks [0-9]+-[0-9]+ are not a batch of local \(the batch holding block [0-9]+ is [0-9]+-[0-9]+\)/,
    );
  });

  it('the sink hook sees the written rows before the markers, and a failing hook commits nothing', async () => {
    const batch = batches[0]!;
    await assert.rejects(
      runModelBatch(
        batchOptions(stack, transfersModel, batch, {
          onOutputWritten: async () => {
            throw new Error('kafka is down');
          },
        }),
      ),
      /kafka is down/,
    );
    assert.equal(await stack.markers.isBatchComplete(stack.chain.name, transfersRoot, batch.minBlock), false);

    let seen: WrittenOutput | undefined;
    const hookRows: Record<string, unknown>[] = [];
    let completeDuringHook: boolean | undefined;
    const summary = await runModelBatch(
      batchOptions(stack, transfersModel, batch, {
        onOutputWritten: async (output) => {
          seen = output;
          completeDuringHook = await stack.markers.isBatchComplete(
            stack.chain.name,
            transfersRoot,
            batch.minBlock,
          );
          for await (const chunk of output.datasets[0]!.readRows(3)) hookRows.push(...chunk);
        },
      }),
    );
    assert.equal(completeDuringHook, false, 'markers come after the hook');
    assert.equal(await stack.markers.isBatchComplete(stack.chain.name, transfersRoot, batch.minBlock), true);
    assert.equal(seen?.datasets[0]?.rowCount, summary.rows.erc20_transfers);
    assert.deepEqual(seen?.datasets[0]?.keyColumns, ['block_number', 'log_index']);
    const ours = scenario.transfers.filter(
      (t) => t.blockNumber >= batch.minBlock && t.blockNumber < batch.maxBlock,
    );
    assert.ok(ours.length > 0);
    for (const transfer of ours) {
      const row = hookRows.find((r) => r.transaction_hash === transfer.transactionHash);
      assert.ok(row, `hook saw ${transfer.transactionHash}`);
      assert.equal(row.value, transfer.value);
      assert.equal(typeof row.block_number, 'bigint');
      assert.ok(row.block_timestamp instanceof Date);
    }
    assert.equal(hookRows.length, summary.rows.erc20_transfers);
  });

  it('a rerun skips complete batches; force rewrites the same files and markers without duplicates', async () => {
    for (const batch of batches.slice(1)) await runModelBatch(batchOptions(stack, transfersModel, batch));
    const filesBefore = await stack.lake.list(transfersRoot);
    const mtimes = await Promise.all(
      filesBefore.map(async (path) => (await stat(stack.lake.localFileOf(path))).mtimeMs),
    );
    const rowsBefore = await readLakeRows(stack, transfersRoot, 'block_number, log_index');

    let hookCalls = 0;
    for (const batch of batches) {
      const summary = await runModelBatch(
        batchOptions(stack, transfersModel, batch, { onOutputWritten: async () => void hookCalls++ }),
      );
      assert.equal(summary.skipped, true, `batch ${batch.minBlock} skipped`);
      assert.deepEqual(summary.files, []);
    }
    assert.equal(hookCalls, 0, 'a skipped batch sends nothing to the sink');
    const mtimesAfterSkip = await Promise.all(
      filesBefore.map(async (path) => (await stat(stack.lake.localFileOf(path))).mtimeMs),
    );
    assert.deepEqual(mtimesAfterSkip, mtimes, 'skipping touches no file');

    // Marker updated_at has second precision: the forced markers are stamped a minute later,
    // so they are strictly the latest.
    markerTime = new Date(markerTime.getTime() + 60_000);
    for (const batch of batches) {
      const summary = await runModelBatch(
        batchOptions(stack, transfersModel, batch, { force: true, processName: 'test/forced' }),
      );
      assert.equal(summary.skipped, false);
    }
    assert.deepEqual(await stack.lake.list(transfersRoot), filesBefore, 'same paths, no extra file');
    assert.deepEqual(
      await readLakeRows(stack, transfersRoot, 'block_number, log_index'),
      rowsBefore,
      'same rows',
    );
    for (const batch of batches) {
      const markers = await stack.markers.batchMarkers(stack.chain.name, transfersRoot, batch.minBlock);
      assert.equal(
        new Set(markers.map((m) => m.dataPath)).size,
        markers.length,
        'one latest marker per file',
      );
      assert.ok(
        markers.every((m) => m.processName === 'test/forced'),
        'the forced run is the latest',
      );
      assert.equal(
        await stack.markers.isBatchComplete(stack.chain.name, transfersRoot, batch.minBlock),
        true,
      );
    }
  });
});
