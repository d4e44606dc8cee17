// Pure: validated JSON-RPC blocks, receipts and logs → ingestion rows, with the consistency
// checks that catch a reorg or a lagging node between the kinds of calls. This is the JS
// reference path (`createIngestModel({ decoder: 'js' })`); the default path does the same in
// DuckDB SQL (ingestSql.ts), and a test requires identical rows from both.
import type { RpcBlock, RpcLog, RpcReceipt } from '../../adapters/ethereum/rpcShapes.ts';
import { RpcError } from '../../adapters/ethereum/rpcErrors.ts';
import type { BlockBatch } from '../../dataplane/batches.ts';
import { dayRangesOfBlocks } from '../../dataplane/dtParts.ts';
import type { DayRange } from '../../dataplane/markers.ts';
import type { ParquetRow } from '../../dataplane/parquetSchema.ts';

export interface IngestionRows {
  blocks: ParquetRow[];
  transactions: ParquetRow[];
  logs: ParquetRow[];
  /** The batch's days and the blocks of each (every dataset writes one file per day). */
  days: DayRange[];
}

/**
 * Builds the rows of one batch. Throws a retryable RpcError when the node's answers do
 * not describe one chain (a log pointing at a block hash we did not fetch: a reorg or
 * two nodes behind a load balancer), so the batch is simply tried again.
 */
export function ingestionRows(
  batch: BlockBatch,
  blocks: readonly RpcBlock[],
  logs: readonly RpcLog[],
  /** Per block, in block order: the receipts of its transactions. */
  receipts: readonly (readonly RpcReceipt[])[],
): IngestionRows {
  const expected = batch.maxBlock - batch.minBlock;
  if (blocks.length !== expected) {
    throw new RpcError(
      'invalid-response',
      'eth_getBlockByNumber',
      `got ${blocks.length} blocks, expected ${expected}`,
      {
        retryable: false,
      },
    );
  }
  const byNumber = new Map<number, RpcBlock>();
  const blockRows: ParquetRow[] = [];
  const transactionRows: ParquetRow[] = [];
  let previous: RpcBlock | undefined;
  for (const [index, block] of blocks.entries()) {
    if (block.number < batch.minBlock || block.number >= batch.maxBlock || byNumber.has(block.number)) {
      throw new RpcError('invalid-response', 'eth_getBlockByNumber', `unexpected block ${block.number}`, {
        retryable: false,
      });
    }
    if (previous && previous.number + 1 === block.number && block.parentHash !== previous.hash) {
      throw new RpcError(
        'invalid-response',
        'eth_getBlockByNumber',
        `block ${block.number} does not extend block ${previous.number} (reorg while fetching?)`,
        {
          retryable: true,
        },
      );
    }
    previous = block;
    byNumber.set(block.number, block);
    const blockReceipts = receipts[index] ?? [];
    checkReceipts(block, blockReceipts);
    blockRows.push({
      block_number: block.number,
      block_timestamp: block.timestamp,
      block_hash: block.hash,
      parent_hash: block.parentHash,
      miner: block.miner,
      gas_limit: block.gasLimit,
      gas_used: block.gasUsed,
      base_fee_per_gas: block.baseFeePerGas,
      transaction_count: block.transactions.length,
    });
    for (const [i, tx] of block.transactions.entries()) {
      const receipt = blockReceipts[i]!;
      transactionRows.push({
        block_number: block.number,
        block_timestamp: block.timestamp,
        transaction_hash: tx.hash,
        transaction_index: tx.transactionIndex,
        from_address: tx.from,
        to_address: tx.to,
        value: tx.value,
        nonce: tx.nonce,
        gas: tx.gas,
        gas_price: tx.gasPrice,
        max_fee_per_gas: tx.maxFeePerGas,
        max_priority_fee_per_gas: tx.maxPriorityFeePerGas,
        input: tx.input,
        transaction_type: tx.type,
        receipt_status: receipt.status,
        receipt_gas_used: receipt.gasUsed,
        receipt_cumulative_gas_used: receipt.cumulativeGasUsed,
        receipt_effective_gas_price: receipt.effectiveGasPrice,
        receipt_contract_address: receipt.contractAddress,
      });
    }
  }
  const logRows: ParquetRow[] = [];
  for (const log of logs) {
    const block = byNumber.get(log.blockNumber);
    if (!block) {
      throw new RpcError(
        'invalid-response',
        'eth_getLogs',
        `log in block ${log.blockNumber}, outside the batch`,
        {
          retryable: false,
        },
      );
    }
    if (log.blockHash !== block.hash || log.removed) {
      throw new RpcError(
        'invalid-response',
        'eth_getLogs',
        `log of block ${log.blockNumber} has another block hash (reorg while fetching?)`,
        {
          retryable: true,
        },
      );
    }
    logRows.push({
      block_number: log.blockNumber,
      block_timestamp: block.timestamp,
      block_hash: log.blockHash,
      transaction_hash: log.transactionHash,
      transaction_index: log.transactionIndex,
      log_index: log.logIndex,
      address: log.address,
      topic0: log.topics[0] ?? null,
      topic1: log.topics[1] ?? null,
      topic2: log.topics[2] ?? null,
      topic3: log.topics[3] ?? null,
      data: log.data,
    });
  }
  return {
    blocks: blockRows,
    transactions: transactionRows,
    logs: logRows,
    days: dayRangesOfBlocks(batch, blocks),
  };
}

/**
 * The receipts must be the block's: one per transaction, in its order, under its hash. A
 * mismatch is a reorg between the calls or nodes behind a load balancer that disagree, so
 * the batch is worth another try.
 */
function checkReceipts(block: RpcBlock, receipts: readonly RpcReceipt[]): void {
  const mismatch = (detail: string) =>
    new RpcError('invalid-response', 'eth_getBlockReceipts', detail, { retryable: true });
  if (receipts.length !== block.transactions.length) {
    throw mismatch(
      `block ${block.number} has ${block.transactions.length} transactions but ${receipts.length} receipts`,
    );
  }
  receipts.forEach((receipt, i) => {
    if (receipt.blockHash !== block.hash) {
      throw mismatch(
        `receipts of block ${block.number} belong to another block hash (reorg while fetching?)`,
      );
    }
    if (receipt.transactionHash !== block.transactions[i]!.hash) {
      throw mismatch(
        `receipt ${i} of block ${block.number} is for ${receipt.transactionHash}, not ${block.transactions[i]!.hash}`,
      );
    }
  });
}
