// The Ethereum methods the models use, on top of JsonRpcClient, each returning
// validated, typed values.
import type { JsonRpcClient } from './jsonRpcClient.ts';
import { RpcError, invalidResponse } from './rpcErrors.ts';
import {
  parseBlock,
  parseBlockHeader,
  parseLogs,
  quantityToNumber,
  toAddress,
  toData,
  type RpcBlock,
  type RpcBlockHeader,
  type RpcLog,
} from './rpcShapes.ts';

export interface LogFilter {
  fromBlock: number;
  toBlock: number;
  /** One address or any of several; omitted = all contracts. */
  address?: string | string[];
  /** Positional topic filter, as in the JSON-RPC spec (null = any). */
  topics?: (string | string[] | null)[];
}

export interface EthCall {
  to: string;
  data: string;
}

export type EthCallOutcome = { ok: true; data: string } | { ok: false; error: RpcError };

/**
 * A block the node does not know yet. Callers only ask for blocks at or below the safe
 * tip, so this is a node behind its peers (load balancers mix them): worth a retry.
 */
function unknownBlock(blockNumber: number): RpcError {
  return new RpcError(
    'invalid-response',
    'eth_getBlockByNumber',
    `block ${blockNumber} is unknown to the node`,
    {
      retryable: true,
    },
  );
}

export function toQuantity(value: number | bigint): string {
  if (typeof value === 'number' && (!Number.isSafeInteger(value) || value < 0)) {
    throw new RangeError(`not a block number: ${value}`);
  }
  return `0x${value.toString(16)}`;
}

export class EthereumRpc {
  readonly client: JsonRpcClient;

  constructor(client: JsonRpcClient) {
    this.client = client;
  }

  async blockNumber(signal?: AbortSignal): Promise<number> {
    const result = await this.client.request('eth_blockNumber', [], signal);
    return quantityToNumber(result, { method: 'eth_blockNumber', path: 'result' });
  }

  /** Full transactions. A block the node does not know is an error, not `undefined`. */
  async getBlock(blockNumber: number, signal?: AbortSignal): Promise<RpcBlock> {
    const [block] = await this.getBlocks([blockNumber], signal);
    return block!;
  }

  /** Many blocks through batched requests, in the order asked. */
  async getBlocks(blockNumbers: readonly number[], signal?: AbortSignal): Promise<RpcBlock[]> {
    const results = await this.client.requestBatch(
      blockNumbers.map((n) => ({ method: 'eth_getBlockByNumber', params: [toQuantity(n), true] })),
      signal,
    );
    return results.map((result, i) => {
      if (result === null) throw unknownBlock(blockNumbers[i]!);
      const block = parseBlock(result);
      if (block.number !== blockNumbers[i]) {
        throw invalidResponse('eth_getBlockByNumber', `asked for block ${blockNumbers[i]}`, block.number);
      }
      return block;
    });
  }

  /** The block without its transactions: cheap, for its timestamp or hash. */
  async getBlockHeader(blockNumber: number, signal?: AbortSignal): Promise<RpcBlockHeader> {
    const result = await this.client.request(
      'eth_getBlockByNumber',
      [toQuantity(blockNumber), false],
      signal,
    );
    if (result === null) throw unknownBlock(blockNumber);
    const header = parseBlockHeader(result);
    if (header.number !== blockNumber) {
      throw invalidResponse('eth_getBlockByNumber', `asked for block ${blockNumber}`, header.number);
    }
    return header;
  }

  async getLogs(filter: LogFilter, signal?: AbortSignal): Promise<RpcLog[]> {
    if (filter.toBlock < filter.fromBlock)
      throw new RangeError(`empty log range ${filter.fromBlock}-${filter.toBlock}`);
    const params: Record<string, unknown> = {
      fromBlock: toQuantity(filter.fromBlock),
      toBlock: toQuantity(filter.toBlock),
    };
    if (filter.address !== undefined) params.address = filter.address;
    if (filter.topics !== undefined) params.topics = filter.topics;
    const logs = parseLogs(await this.client.request('eth_getLogs', [params], signal));
    for (const log of logs) {
      if (log.blockNumber < filter.fromBlock || log.blockNumber > filter.toBlock) {
        throw invalidResponse(
          'eth_getLogs',
          `log outside ${filter.fromBlock}-${filter.toBlock}`,
          log.blockNumber,
        );
      }
    }
    return logs;
  }

  /** `eth_call` at a block; the raw return data. */
  async call(call: EthCall, blockNumber: number, signal?: AbortSignal): Promise<string> {
    const [result] = await this.callMany([call], blockNumber, signal);
    return result!;
  }

  /** Many `eth_call`s at one block through batched requests, in order; any refusal throws. */
  async callMany(calls: readonly EthCall[], blockNumber: number, signal?: AbortSignal): Promise<string[]> {
    const settled = await this.callManySettled(calls, blockNumber, signal);
    return settled.map((outcome) => {
      if (!outcome.ok) throw outcome.error;
      return outcome.data;
    });
  }

  /**
   * Many `eth_call`s at one block; a call the node refuses (reverted, no such
   * function) is `{ ok: false }` so one odd contract cannot fail a whole batch.
   */
  async callManySettled(
    calls: readonly EthCall[],
    blockNumber: number,
    signal?: AbortSignal,
  ): Promise<EthCallOutcome[]> {
    const block = toQuantity(blockNumber);
    const settled = await this.client.requestBatchSettled(
      calls.map((call) => ({
        method: 'eth_call',
        params: [{ to: toAddress(call.to, { method: 'eth_call', path: 'to' }), data: call.data }, block],
      })),
      signal,
    );
    return settled.map((outcome) =>
      outcome.ok
        ? { ok: true, data: toData(outcome.result, { method: 'eth_call', path: 'result' }) }
        : { ok: false, error: outcome.error },
    );
  }
}
