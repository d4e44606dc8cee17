// The SQL path of ingest (DuckDB decoding the node's JSON) against the JS path (JSON.parse,
// the rpcShapes.ts validators, ingestRows.ts) on a synthetic chain with the shapes that are
// easy to get wrong: the rows must be identical, bad answers must fail with the JS
// validators' errors, and answers that disagree must be retryable errors.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EthereumRpc, openEthereumRpc } from '../../../adapters/ethereum/ethereumRpc.ts';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import { DuckDbSession, readParquetSql } from '../../../adapters/parquet/duckDbSession.ts';
import type { BlockBatch } from '../../../dataplane/batches.ts';
import type { ParquetSchema } from '../../../dataplane/parquetSchema.ts';
import { runIngestPipeline } from '../../../models/ingest/ingestPipeline.ts';
import { ingestionRows } from '../../../models/ingest/ingestRows.ts';
import { STAGED_TABLES } from '../../../models/ingest/ingestSql.ts';
import { blocksSchema, logsSchema, transactionsSchema } from '../../../models/ingest/ingestSchemas.ts';
import { SubRangeSizes } from '../../../models/ingest/subRanges.ts';
import {
  BYZANTIUM,
  MIXED_CASE_BLOCK,
  type SyntheticNode,
  blockOf,
  WIDE_VALUES_BLOCK,
  hashOf,
  startSyntheticNode,
} from './syntheticNode.ts';

const BATCH: BlockBatch = { minBlock: 100, maxBlock: 120 };
/** Small sub-ranges and parts, so parent links, parts and their merge cross sub-range boundaries. */
const POLICY = { firstBlocks: 3, targetBytes: 20_000, maxBlocks: 6 };
const FLUSH_BYTES = 60_000;
const SCHEMAS: Record<'blocks' | 'transactions' | 'logs', ParquetSchema> = {
  blocks: blocksSchema,
  transactions: transactionsSchema,
  logs: logsSchema,
};
type Rows = Record<keyof typeof SCHEMAS, Record<string, unknown>[]>;

let node: SyntheticNode;
/** Parts of the last SQL run. */
let parts = 0;
let session: DuckDbSession;
let dir: string;

function rpcFor(url: string): EthereumRpc {
  return openEthereumRpc(
    url,
    { batchSize: 4, concurrentRequests: 2, requestsPerSecond: 0, maxLogsBlockRange: 0 },
    { maxAttempts: 2, backoff: { baseDelayMs: 1, maxDelayMs: 2, jitter: false } },
  );
}

async function sqlRows(rpc: EthereumRpc): Promise<Rows> {
  const scratchDir = await mkdtemp(join(dir, 'sql-'));
  const result = await runIngestPipeline({
    batch: BATCH,
    rpc,
    session,
    scratchDir,
    signal: new AbortController().signal,
    sizes: new SubRangeSizes(POLICY),
    flushBytes: FLUSH_BYTES,
  });
  assert.ok(result.subRanges >= 3, `${result.subRanges} sub-ranges`);
  parts = result.parts;
  const rows = {} as Rows;
  for (const dataset of Object.keys(SCHEMAS) as (keyof Rows)[]) {
    rows[dataset] = await session.query(result.queries[dataset]);
  }
  return rows;
}

async function jsRows(rpc: EthereumRpc): Promise<Rows> {
  const numbers = Array.from({ length: BATCH.maxBlock - BATCH.minBlock }, (_, i) => BATCH.minBlock + i);
  const rows = ingestionRows(
    BATCH,
    await rpc.getBlocks(numbers),
    await rpc.getLogsInRange(BATCH.minBlock, BATCH.maxBlock - 1),
    (await rpc.getReceiptsOfBlocks(numbers)).map((block) => block.receipts),
  );
  const read = {} as Rows;
  for (const [dataset, schema] of Object.entries(SCHEMAS) as [keyof Rows, ParquetSchema][]) {
    const file = join(dir, `js-${dataset}-${Math.random().toString(36).slice(2)}.parquet`);
    await session.writeRowsToParquet(schema, rows[dataset], file);
    read[dataset] = await session.query(`SELECT * FROM ${readParquetSql([file])}`);
  }
  return read;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-sql-'));
  session = await DuckDbSession.open({ threads: 1, memoryLimit: '256MB', tempDirectory: dir });
  node = await startSyntheticNode({ tip: 200 });
});

after(async () => {
  node.close();
  session.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the SQL path of ingest', () => {
  let reference: Rows;

  before(async () => {
    reference = await jsRows(rpcFor(node.url));
  });

  it('gives exactly the rows of the JS path, receipts, wide amounts and old receipts included', async () => {
    const rows = await sqlRows(rpcFor(node.url));
    assert.ok(parts >= 2, `${parts} parts, merged`);
    for (const dataset of Object.keys(SCHEMAS) as (keyof Rows)[]) {
      assert.ok(rows[dataset].length > 0, dataset);
      assert.deepEqual(rows[dataset], reference[dataset], dataset);
    }
    const transactions = rows.transactions;
    const statuses = new Set(transactions.map((row) => row.receipt_status));
    assert.deepEqual(
      [...statuses].sort(),
      [0, 1, null],
      'failures, successes, and no status before Byzantium',
    );
    assert.ok(
      transactions
        .filter((row) => Number(row.block_number) < BYZANTIUM)
        .every((row) => row.receipt_status === null),
    );
    assert.ok(transactions.some((row) => row.to_address === null && row.receipt_contract_address !== null));
    const mixed = transactions.filter((row) => Number(row.block_number) === MIXED_CASE_BLOCK);
    assert.ok(mixed.length > 0 && JSON.stringify(blockOf(MIXED_CASE_BLOCK)).match(/0x[0-9A-F]*[A-F]/));
    assert.ok(
      mixed.every((row) => row.transaction_hash === String(row.transaction_hash).toLowerCase()),
      'upper-case hex from the node is stored lower-case',
    );
    const wide = transactions.filter((row) => Number(row.block_number) === WIDE_VALUES_BLOCK);
    assert.deepEqual(
      wide.map((row) => row.value),
      [(2n ** 127n).toString(), (2n ** 256n - 1n).toString()],
    );
    assert.ok(wide.some((row) => row.gas_price === (2n ** 200n).toString()));
    assert.ok(wide.some((row) => row.max_fee_per_gas === (2n ** 128n + 5n).toString()));
    assert.ok(wide.every((row) => row.receipt_effective_gas_price === (2n ** 130n).toString()));
    assert.equal(
      rows.blocks.find((row) => Number(row.block_number) === WIDE_VALUES_BLOCK)?.base_fee_per_gas,
      (2n ** 127n - 1n).toString(),
    );
    assert.ok(rows.logs.some((row) => row.topic3 !== null) && rows.logs.some((row) => row.topic0 === null));
  });

  it('keeps no storage of the rows it moved to parts (a DELETE would keep it all, in memory or spilled)', async () => {
    await sqlRows(rpcFor(node.url));
    assert.ok(parts >= 2, `${parts} parts`);
    for (const table of [STAGED_TABLES.transactions, STAGED_TABLES.logs]) {
      const [row] = await session.query(`SELECT count(*) AS segments FROM pragma_storage_info('${table}')`);
      assert.equal(Number(row?.segments), 0, table);
    }
  });

  it('gives the same rows from a node without eth_getBlockReceipts (receipts per transaction)', async () => {
    const limited = await startSyntheticNode({ tip: 200, missingMethods: ['eth_getBlockReceipts'] });
    try {
      const rows = await sqlRows(rpcFor(limited.url));
      assert.deepEqual(rows, reference);
      assert.ok((limited.calls.get('eth_getTransactionReceipt') ?? 0) > 0);
    } finally {
      limited.close();
    }
  });

  it('goes on when a garbage answer was a passing hiccup', async () => {
    let corrupted = 0;
    const flaky = await startSyntheticNode({
      tip: 200,
      corrupt: (call, result) => {
        if (call.method !== 'eth_getBlockByNumber' || Number(call.params[0]) !== 110 || corrupted > 0)
          return result;
        corrupted++;
        return { ...(result as object), gasUsed: 21000 };
      },
    });
    try {
      assert.deepEqual(await sqlRows(rpcFor(flaky.url)), reference);
      assert.equal(corrupted, 1);
    } finally {
      flaky.close();
    }
  });
});

type Corruption = (call: { method: string; params: unknown[] }, result: unknown) => unknown;

/** Rewrites the answer for block 110 (or its receipts) with `change`. */
function atBlock(
  block: number,
  method: string,
  change: (result: Record<string, unknown>) => unknown,
): Corruption {
  return (call, result) =>
    call.method === method && Number(call.params[0]) === block
      ? change(result as Record<string, unknown>)
      : result;
}

const at110 = (method: string, change: (result: Record<string, unknown>) => unknown): Corruption =>
  atBlock(110, method, change);

function firstReceipt(change: (receipt: Record<string, unknown>) => Record<string, unknown>) {
  return (receipts: Record<string, unknown>) => {
    const [first, ...rest] = receipts as unknown as Record<string, unknown>[];
    return [change(first!), ...rest];
  };
}

/** The first receipt's logs, each with `patch` applied. */
function firstReceiptLogs(patch: Record<string, unknown>) {
  return firstReceipt((receipt) => ({
    ...receipt,
    logs: (receipt.logs as Record<string, unknown>[]).map((log) => ({ ...log, ...patch })),
  }));
}

const transactionsOf = (block: Record<string, unknown>) => block.transactions as Record<string, unknown>[];

describe('bad answers on the SQL path', () => {
  const cases: { name: string; corrupt: Corruption; retryable: boolean; message: RegExp }[] = [
    {
      name: 'a gas amount as a JSON number',
      corrupt: at110('eth_getBlockByNumber', (block) => ({
        ...block,
        transactions: transactionsOf(block).map((tx) => ({ ...tx, gas: 21000 })),
      })),
      retryable: false,
      message: /block\.transactions\[0\]\.gas must be a hex quantity/,
    },
    {
      // The wide amounts are converted first; the inserts that run again then meet the bad field.
      name: 'a bad field in the block of wide amounts',
      corrupt: atBlock(WIDE_VALUES_BLOCK, 'eth_getBlockByNumber', (block) => ({
        ...block,
        transactions: transactionsOf(block).map((tx) => ({ ...tx, nonce: 'seven' })),
      })),
      retryable: false,
      message: /block\.transactions\[0\]\.nonce must be a hex quantity/,
    },
    {
      name: 'a block hash that is not hex',
      corrupt: at110('eth_getBlockByNumber', (block) => ({ ...block, hash: `0x${'zz'.repeat(32)}` })),
      retryable: false,
      message: /block\.hash must be a 32-byte hash/,
    },
    {
      name: 'a log address with a stray character',
      corrupt: at110('eth_getBlockReceipts', firstReceiptLogs({ address: `0x${'g'.repeat(40)}` })),
      retryable: false,
      message: /receipts\[0\]\.logs\[0\]\.address must be a 20-byte address/,
    },
    {
      name: 'a status that is neither 0 nor 1',
      corrupt: at110(
        'eth_getBlockReceipts',
        firstReceipt((receipt) => ({ ...receipt, status: '0x2' })),
      ),
      retryable: false,
      message: /receipts\[0\]\.status must be 0x0 or 0x1/,
    },
    {
      name: 'receipts that are not a list',
      corrupt: at110('eth_getBlockReceipts', () => ({ receipts: [] })),
      retryable: false,
      message: /result must be an array of receipts/,
    },
    {
      name: 'a broken parent link',
      corrupt: at110('eth_getBlockByNumber', (block) => ({ ...block, parentHash: hashOf(999) })),
      retryable: true,
      message: /block 110 does not extend block 109 \(reorg while fetching\?\)/,
    },
    {
      name: 'receipts of another block hash',
      corrupt: at110(
        'eth_getBlockReceipts',
        firstReceipt((receipt) => ({ ...receipt, blockHash: hashOf(999) })),
      ),
      retryable: true,
      message: /receipts of block 110 belong to another block hash/,
    },
    {
      name: 'a log of another block hash',
      corrupt: at110('eth_getBlockReceipts', firstReceiptLogs({ blockHash: hashOf(999) })),
      retryable: true,
      message: /log of block 110 has another block hash/,
    },
    {
      name: 'a receipt missing',
      corrupt: at110('eth_getBlockReceipts', (receipts) => (receipts as unknown as unknown[]).slice(1)),
      retryable: true,
      message: /block 110 has 2 transactions but 1 receipts/,
    },
  ];
  for (const { name, corrupt, retryable, message } of cases) {
    it(`${name}: ${retryable ? 'a retryable' : 'an'} invalid-response error`, async () => {
      const bad = await startSyntheticNode({ tip: 200, corrupt });
      try {
        await assert.rejects(
          () => sqlRows(rpcFor(bad.url)),
          (error: unknown) =>
            error instanceof RpcError &&
            error.kind === 'invalid-response' &&
            error.retryable === retryable &&
            message.test(error.message),
        );
      } finally {
        bad.close();
      }
    });
  }
});
