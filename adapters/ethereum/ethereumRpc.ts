// The Ethereum methods the models use, on top of JsonRpcClient, each returning
// validated, typed values.
import type { Logger } from 'pino';
import { JsonRpcClient, type JsonRpcClientOptions, type SettledCall } from './jsonRpcClient.ts';
import { type BlockSpan, logQueryRefusal, nextLogQuerySpan, onLogQueryRefused } from './logRangeSplitting.ts';
import { type RpcClientSettings, describeSetting } from '../../dataplane/rpcClientSettings.ts';
import { RpcError, invalidResponse, isMethodMissing } from './rpcErrors.ts';
import {
  parseBlock,
  parseBlockHeader,
  parseBlockReceipts,
  parseLogs,
  parseReceiptLogs,
  parseTransactionHashes,
  quantityToNumber,
  toAddress,
  toData,
  type RpcBlock,
  type RpcBlockHeader,
  type RpcLog,
  type RpcReceipt,
} from './rpcShapes.ts';

export interface LogFilter {
  fromBlock: number;
  toBlock: number;
  /** One address or any of several; omitted = all contracts. */
  address?: string | string[];
  /** Positional topic filter, as in the JSON-RPC spec (null = any). */
  topics?: (string | string[] | null)[];
}

/** Blocks with full transactions, and each block's JSON-RPC result as the node sent it. */
export interface BlockResults {
  results: unknown[];
  blocks: RpcBlock[];
}

/** One block's receipts, validated, and as the node sent them. */
export interface BlockReceipts {
  blockNumber: number;
  results: unknown[];
  receipts: RpcReceipt[];
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

export interface EthereumRpcOptions {
  /** Blocks per eth_getLogs query in `getLogsInRange`, at first (0 = the whole range). */
  maxLogsBlockRange?: number;
  logger?: Pick<Logger, 'warn'>;
}

/** A client for `url` with a chain's (or a run's) client settings. */
export function openEthereumRpc(
  url: string,
  settings: RpcClientSettings,
  options: Omit<JsonRpcClientOptions, 'url'> = {},
): EthereumRpc {
  const client = new JsonRpcClient({
    url,
    maxBatchSize: settings.batchSize,
    maxConcurrentRequests: settings.concurrentRequests,
    requestsPerSecond: settings.requestsPerSecond,
    ...options,
  });
  return new EthereumRpc(client, { maxLogsBlockRange: settings.maxLogsBlockRange, logger: options.logger });
}

export class EthereumRpc {
  readonly client: JsonRpcClient;
  /** Only ever lowered: the endpoint refused a wider range. 0 = no limit known. */
  #maxLogsBlockRange: number;
  /** false once the endpoint said it lacks eth_getBlockReceipts: ask per transaction. */
  #servesBlockReceipts = true;
  readonly #logger: Pick<Logger, 'warn'> | undefined;

  constructor(client: JsonRpcClient, options: EthereumRpcOptions = {}) {
    this.client = client;
    this.#maxLogsBlockRange = options.maxLogsBlockRange ?? 0;
    this.#logger = options.logger;
  }

  /** Blocks per eth_getLogs query now: the configured range, or less once the endpoint refused it. */
  get maxLogsBlockRange(): number {
    return this.#maxLogsBlockRange;
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
    return (await this.getBlockResults(blockNumbers, signal)).blocks;
  }

  /**
   * Like `getBlocks`, with each block's JSON-RPC result as the node sent it (validated): for
   * callers that hand the node's JSON on (ingest writes it for DuckDB to read).
   */
  async getBlockResults(blockNumbers: readonly number[], signal?: AbortSignal): Promise<BlockResults> {
    const results = await this.client.requestBatch(
      blockNumbers.map((n) => ({ method: 'eth_getBlockByNumber', params: [toQuantity(n), true] })),
      signal,
    );
    const blocks = results.map((result, i) => {
      if (result === null) throw unknownBlock(blockNumbers[i]!);
      const block = parseBlock(result);
      if (block.number !== blockNumbers[i]) {
        throw invalidResponse('eth_getBlockByNumber', `asked for block ${blockNumbers[i]}`, block.number);
      }
      return block;
    });
    return { results, blocks };
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

  /**
   * Every log of blocks `fromBlock`…`toBlock`, in order, however the endpoint caps
   * eth_getLogs: queries of at most `maxLogsBlockRange` blocks; a refused query is split in
   * halves (a refused range also lowers `maxLogsBlockRange` for the rest of the run); a single
   * block over the result cap is read from its receipts, which carry the same logs.
   */
  async getLogsInRange(fromBlock: number, toBlock: number, signal?: AbortSignal): Promise<RpcLog[]> {
    const logs: RpcLog[] = [];
    for (let from = fromBlock; from <= toBlock;) {
      const span = nextLogQuerySpan(from, toBlock, this.#maxLogsBlockRange);
      logs.push(...(await this.#logsOfQuery(span, signal)));
      from = span.toBlock + 1;
    }
    return logs;
  }

  async #logsOfQuery(span: BlockSpan, signal?: AbortSignal): Promise<RpcLog[]> {
    try {
      return await this.getLogs(span, signal);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      const refusal = logQueryRefusal(error);
      if (!refusal) throw error;
      const decision = onLogQueryRefused(span, refusal, this.#maxLogsBlockRange);
      if (decision.kind === 'fail') throw error;
      if (decision.kind === 'receipts') return this.#logsFromReceipts(decision.block, error, signal);
      this.#lowerLogsBlockRange(decision.maxRange, error);
      const [first, second] = decision.halves;
      const firstLogs = await this.getLogsInRange(first.fromBlock, first.toBlock, signal);
      return firstLogs.concat(await this.getLogsInRange(second.fromBlock, second.toBlock, signal));
    }
  }

  #lowerLogsBlockRange(range: number, refusal: RpcError): void {
    if (range === this.#maxLogsBlockRange) return;
    this.#logger?.warn(
      {
        endpoint: this.client.endpoint,
        maxLogsBlockRange: range,
        answer: refusal.detail,
        remedy: `set ${describeSetting('maxLogsBlockRange')} to ${range} or less to skip this`,
      },
      'eth_getLogs range refused, asking for narrower ranges from now on',
    );
    this.#maxLogsBlockRange = range;
  }

  async #logsFromReceipts(blockNumber: number, refusal: RpcError, signal?: AbortSignal): Promise<RpcLog[]> {
    try {
      return await this.getBlockReceiptLogs(blockNumber, signal);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      throw new RpcError(
        error.kind,
        error.method,
        `block ${blockNumber} has more logs than ${this.client.endpoint} returns from eth_getLogs ` +
          `(${refusal.detail}), and reading them from its receipts failed: ${error.message}`,
        { retryable: error.retryable, code: error.code, cause: error },
      );
    }
  }

  /** The logs of one block from its receipts, as eth_getLogs would give them. */
  async getBlockReceiptLogs(blockNumber: number, signal?: AbortSignal): Promise<RpcLog[]> {
    const [answer] = await this.#receiptValues([blockNumber], signal);
    return parseReceiptLogs(answer!.values, blockNumber, answer!.method);
  }

  /** false once the endpoint said it lacks eth_getBlockReceipts: receipts are asked per transaction. */
  get servesBlockReceipts(): boolean {
    return this.#servesBlockReceipts;
  }

  /**
   * The receipts of each block, in block order and in the block's transaction order:
   * `eth_getBlockReceipts` (batched), or one `eth_getTransactionReceipt` per transaction where
   * the endpoint lacks it. Validated (`parseBlockReceipts`), with the node's own JSON
   * alongside; whether they match the block's transactions is the caller's check.
   */
  async getReceiptsOfBlocks(blockNumbers: readonly number[], signal?: AbortSignal): Promise<BlockReceipts[]> {
    const answers = await this.#receiptValues(blockNumbers, signal);
    return answers.map(({ method, values }, i) => ({
      blockNumber: blockNumbers[i]!,
      results: values,
      receipts: parseBlockReceipts(values, blockNumbers[i]!, method),
    }));
  }

  /** Receipts as the node sent them, and the method that got them, per block. */
  async #receiptValues(
    blockNumbers: readonly number[],
    signal?: AbortSignal,
  ): Promise<{ method: string; values: unknown[] }[]> {
    const answers: ({ method: string; values: unknown[] } | undefined)[] = new Array(blockNumbers.length);
    if (this.#servesBlockReceipts) {
      let settled: SettledCall[] = [];
      try {
        settled = await this.client.requestBatchSettled(
          blockNumbers.map((n) => ({ method: 'eth_getBlockReceipts', params: [toQuantity(n)] })),
          signal,
        );
      } catch (error) {
        // Some providers refuse an unknown method with an HTTP error rather than -32601.
        if (!(error instanceof RpcError) || !isMethodMissing(error)) throw error;
        this.#servesBlockReceipts = false;
      }
      settled.forEach((outcome, i) => {
        if (!outcome.ok) {
          if (!isMethodMissing(outcome.error)) throw outcome.error;
          this.#servesBlockReceipts = false;
          return;
        }
        if (outcome.result === null) throw unknownBlock(blockNumbers[i]!);
        if (!Array.isArray(outcome.result)) {
          throw invalidResponse(
            'eth_getBlockReceipts',
            'result must be an array of receipts',
            outcome.result,
          );
        }
        answers[i] = { method: 'eth_getBlockReceipts', values: outcome.result };
      });
    }
    for (const [i, blockNumber] of blockNumbers.entries()) {
      answers[i] ??= {
        method: 'eth_getTransactionReceipt',
        values: await this.#receiptsPerTransaction(blockNumber, signal),
      };
    }
    return answers as { method: string; values: unknown[] }[];
  }

  async #receiptsPerTransaction(blockNumber: number, signal?: AbortSignal): Promise<unknown[]> {
    const block = toQuantity(blockNumber);
    const header = await this.client.request('eth_getBlockByNumber', [block, false], signal);
    if (header === null) throw unknownBlock(blockNumber);
    const hashes = parseTransactionHashes(header);
    const receipts = await this.client.requestBatch(
      hashes.map((hash) => ({ method: 'eth_getTransactionReceipt', params: [hash] })),
      signal,
    );
    const missing = receipts.findIndex((receipt) => receipt === null);
    if (missing >= 0) {
      throw new RpcError(
        'invalid-response',
        'eth_getTransactionReceipt',
        `no receipt for ${hashes[missing]} of block ${blockNumber} (a node behind its peers?)`,
        { retryable: true },
      );
    }
    return receipts;
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
