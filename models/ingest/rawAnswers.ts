// Fetching one sub-range of a batch for the SQL path: the answers to eth_getBlockByNumber
// (full transactions) and eth_getBlockReceipts, one JSON file per HTTP request, written as the
// node sent them (ids are block numbers). A request that fails, and receipts from a node
// without eth_getBlockReceipts, go through the JS client instead (retries, batch-size and
// method fallbacks, validation), whose validated results are written in the same shape.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EthereumRpc, toQuantity } from '../../adapters/ethereum/ethereumRpc.ts';
import type { SubRange } from './subRanges.ts';

export type AnswerKind = 'blocks' | 'receipts';

export interface SubRangeAnswers {
  range: SubRange;
  /** The blocks of each request, in order; the i-th file of each kind answers the i-th. */
  requests: number[][];
  files: Record<AnswerKind, string[]>;
  /** What each file holds, as written: the i-th of each kind describes the i-th file. */
  written: Record<AnswerKind, WrittenAnswer[]>;
  /** Bytes of JSON written, both kinds, as fetched. */
  bytes: number;
}

/** One request's answer file as written. */
export interface WrittenAnswer {
  bytes: number;
  /**
   * Whether it holds a JSON array: a batch's answer, or validated answers. A single call goes as
   * an object and is answered by one; DuckDB reads arrays faster when told that is all there is.
   */
  array: boolean;
}

function blockNumbers(range: SubRange): number[] {
  return Array.from({ length: range.toBlock - range.fromBlock }, (_, i) => range.fromBlock + i);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

function call(kind: AnswerKind, block: number): { id: number; method: string; params: unknown[] } {
  return kind === 'blocks'
    ? { id: block, method: 'eth_getBlockByNumber', params: [toQuantity(block), true] }
    : { id: block, method: 'eth_getBlockReceipts', params: [toQuantity(block)] };
}

/**
 * The validated answers for `blocks`, through the JS client (which throws the typed error a
 * bad answer deserves), written to `file` in the shape the node would have sent.
 */
async function writeValidatedAnswers(
  rpc: EthereumRpc,
  kind: AnswerKind,
  blocks: readonly number[],
  file: string,
  signal: AbortSignal,
): Promise<WrittenAnswer> {
  const results =
    kind === 'blocks'
      ? (await rpc.getBlockResults(blocks, signal)).results
      : (await rpc.getReceiptsOfBlocks(blocks, signal)).map((block) => block.results);
  const text = JSON.stringify(results.map((result, i) => ({ jsonrpc: '2.0', id: blocks[i], result })));
  await writeFile(file, text);
  return { bytes: Buffer.byteLength(text), array: true };
}

async function fetchChunk(
  rpc: EthereumRpc,
  kind: AnswerKind,
  blocks: readonly number[],
  file: string,
  signal: AbortSignal,
): Promise<WrittenAnswer> {
  if (kind === 'receipts' && !rpc.servesBlockReceipts) {
    return writeValidatedAnswers(rpc, kind, blocks, file, signal);
  }
  const outcome = await rpc.client.postBatchToFile(
    blocks.map((block) => call(kind, block)),
    file,
    signal,
  );
  return outcome.ok
    ? { bytes: outcome.bytes, array: blocks.length > 1 }
    : writeValidatedAnswers(rpc, kind, blocks, file, signal);
}

/** The files of one kind for a sub-range, one per request of at most the client's batch size. */
function filesOf(dir: string, kind: AnswerKind, range: SubRange, count: number): string[] {
  return Array.from({ length: count }, (_, i) => join(dir, `${kind}-${range.fromBlock}-${i}.json`));
}

/** Both kinds of answers for `range`, fetched concurrently (the client caps requests in flight). */
export async function fetchSubRange(
  rpc: EthereumRpc,
  range: SubRange,
  dir: string,
  signal: AbortSignal,
): Promise<SubRangeAnswers> {
  // Heavy blocks make small sub-ranges: split them so every request slot is busy (one request per
  // slot and kind at least), as the node answers requests side by side but each one in turn.
  const blocks = blockNumbers(range);
  const perRequest = Math.min(
    rpc.client.batchSize,
    Math.max(1, Math.ceil(blocks.length / rpc.client.maxConcurrentRequests)),
  );
  const requests = chunks(blocks, perRequest);
  const files = {
    blocks: filesOf(dir, 'blocks', range, requests.length),
    receipts: filesOf(dir, 'receipts', range, requests.length),
  };
  const [blocksWritten, receiptsWritten] = await Promise.all(
    (['blocks', 'receipts'] as const).map((kind) =>
      Promise.all(requests.map((blocks, i) => fetchChunk(rpc, kind, blocks, files[kind][i]!, signal))),
    ),
  );
  return {
    range,
    requests,
    files,
    written: { blocks: blocksWritten!, receipts: receiptsWritten! },
    bytes: [...blocksWritten!, ...receiptsWritten!].reduce((sum, answer) => sum + answer.bytes, 0),
  };
}

/** Asks again for one kind of the sub-range through the JS client, rewriting its files (as arrays). */
export async function refetchValidated(
  rpc: EthereumRpc,
  answers: SubRangeAnswers,
  kind: AnswerKind,
  signal: AbortSignal,
): Promise<void> {
  answers.written[kind] = await Promise.all(
    answers.files[kind].map((file, i) =>
      writeValidatedAnswers(rpc, kind, answers.requests[i]!, file, signal),
    ),
  );
}
