// The SQL path of ingest for one batch: sub-range by sub-range, the answers of the next one are
// fetched (HTTP, files) while DuckDB decodes this one (its own thread), and each sub-range ends
// as one parquet part per dataset in the scratch folder. Memory stays bounded by a sub-range,
// not a batch: raw answers are files, parts are files, DuckDB holds one sub-range at a time.
//
// What can go wrong, and what happens:
// - a request fails, or the node lacks eth_getBlockReceipts: that request goes through the JS
//   client (rawAnswers.ts), with its retries and fallbacks;
// - answers that are not one per block in order, errors, nulls, garbage JSON, a field that
//   fails a check: the sub-range is asked again through the JS client, whose validators throw
//   the error a bad answer deserves (or, if it was a passing hiccup, the sub-range goes on);
// - answers that disagree (a parent link, a receipt or log of another block hash, receipt
//   counts): a retryable RpcError, as in the JS path;
// - a wei amount of 2^127 or more: that part is decoded again with those amounts converted in JS.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EthereumRpc } from '../../adapters/ethereum/ethereumRpc.ts';
import { RpcError } from '../../adapters/ethereum/rpcErrors.ts';
import type { DuckDbSession } from '../../adapters/parquet/duckDbSession.ts';
import type { BlockBatch } from '../../dataplane/batches.ts';
import {
  IngestSqlError,
  NO_WIDE_AMOUNTS,
  RAW_BLOCKS_TABLE,
  type WideAmounts,
  RAW_RECEIPTS_TABLE,
  answersSql,
  blocksPartSql,
  decodedBlocksSql,
  isJsonReadError,
  loadRawBlocksSql,
  loadRawReceiptsSql,
  logsPartSql,
  transactionsPartSql,
  wideAmountsSql,
} from './ingestSql.ts';
import { type AnswerKind, type SubRangeAnswers, fetchSubRange, refetchValidated } from './rawAnswers.ts';
import { DEFAULT_SUB_RANGE_POLICY, type SubRangePolicy, nextSubRange } from './subRanges.ts';

export type IngestDataset = 'blocks' | 'transactions' | 'logs';
const DATASETS: readonly IngestDataset[] = ['blocks', 'transactions', 'logs'];

export interface IngestPipelineOptions {
  batch: BlockBatch;
  rpc: EthereumRpc;
  session: DuckDbSession;
  /** The batch's private folder; the pipeline works in a folder of its own inside. */
  scratchDir: string;
  signal: AbortSignal;
  policy?: SubRangePolicy;
}

export interface IngestPipelineResult {
  /** Per dataset, the parquet parts in block order: together, the batch's rows. */
  parts: Record<IngestDataset, string[]>;
  /** The batch's blocks (number, timestamp in seconds), in order. */
  blocks: { number: number; timestamp: number }[];
  /** Sub-ranges the batch was cut into. */
  subRanges: number;
}

/** Why a sub-range's answers must be asked again through the JS client, or undefined. */
type Doubt = { kind: AnswerKind | 'both'; reason: string };

function partSql(dataset: IngestDataset, previousHash: string | undefined, wide: WideAmounts): string {
  if (dataset === 'blocks') return blocksPartSql(previousHash, wide);
  return dataset === 'transactions' ? transactionsPartSql(wide) : logsPartSql();
}

async function largestFile(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  return Math.max(0, ...sizes);
}

function mismatch(error: IngestSqlError): RpcError {
  return new RpcError('invalid-response', error.method, error.detail, { retryable: true });
}

function unexplained(method: string, detail: string): RpcError {
  return new RpcError('invalid-response', method, `invalid response: ${detail}`, { retryable: false });
}

class SubRangeDecoder {
  readonly #options: IngestPipelineOptions;
  readonly #dir: string;

  constructor(options: IngestPipelineOptions, dir: string) {
    this.#options = options;
    this.#dir = dir;
  }

  /**
   * Decodes one sub-range into a part per dataset; returns its blocks and the hash of its last
   * block. Answers in doubt are asked again through the JS client, once per kind; a doubt that
   * survives that is the node's error.
   */
  async decode(
    answers: SubRangeAnswers,
    previousHash: string | undefined,
    parts: Record<IngestDataset, string[]>,
  ): Promise<{ blocks: { number: number; timestamp: number; hash: string }[] }> {
    const refetched = new Set<AnswerKind>();
    for (;;) {
      const doubt = await this.#tryDecode(answers, previousHash);
      if (!doubt) break;
      const kinds = (doubt.kind === 'both' ? (['blocks', 'receipts'] as const) : [doubt.kind]).filter(
        (kind) => !refetched.has(kind),
      );
      if (kinds.length === 0) {
        throw unexplained(
          doubt.kind === 'receipts' ? 'eth_getBlockReceipts' : 'eth_getBlockByNumber',
          doubt.reason,
        );
      }
      for (const kind of kinds) {
        await refetchValidated(this.#options.rpc, answers, kind, this.#options.signal);
        refetched.add(kind);
      }
    }
    for (const dataset of DATASETS) parts[dataset].push(this.#partFile(dataset, answers));
    const rows = await this.#options.session.query(decodedBlocksSql());
    return {
      blocks: rows.map((row) => ({
        number: Number(row.number),
        timestamp: Number(row.timestamp),
        hash: String(row.hash),
      })),
    };
  }

  #partFile(dataset: IngestDataset, answers: SubRangeAnswers): string {
    return join(this.#dir, `${dataset}-${answers.range.fromBlock}.parquet`);
  }

  async #tryDecode(answers: SubRangeAnswers, previousHash: string | undefined): Promise<Doubt | undefined> {
    const { session } = this.#options;
    for (const kind of ['blocks', 'receipts'] as const) {
      const files = { files: answers.files[kind], largestBytes: await largestFile(answers.files[kind]) };
      try {
        await session.run(kind === 'blocks' ? loadRawBlocksSql(files) : loadRawReceiptsSql(files));
      } catch (error) {
        if (isJsonReadError(error)) return { kind, reason: (error as Error).message };
        throw error;
      }
      const table = kind === 'blocks' ? RAW_BLOCKS_TABLE : RAW_RECEIPTS_TABLE;
      const [check] = await session.query(answersSql(table));
      const ids = ((check?.ids as unknown[] | null) ?? []).map(Number);
      const expected = answers.requests.flat();
      if (Number(check?.failed) > 0 || ids.join(',') !== expected.join(',')) {
        return {
          kind,
          reason: `answers for blocks ${ids.join(',')} (${Number(check?.failed)} failed), expected ${expected[0]}-${expected.at(-1)}`,
        };
      }
    }
    for (const dataset of DATASETS) {
      const file = this.#partFile(dataset, answers);
      try {
        await this.#writePart(dataset, previousHash, file);
      } catch (error) {
        const tagged = IngestSqlError.from(error);
        if (tagged?.tag === 'mismatch') throw mismatch(tagged);
        if (tagged?.tag === 'invalid')
          return {
            kind: tagged.method === 'eth_getBlockReceipts' ? 'receipts' : 'blocks',
            reason: tagged.detail,
          };
        if (isJsonReadError(error)) return { kind: 'both', reason: (error as Error).message };
        throw error;
      }
    }
    return undefined;
  }

  async #writePart(dataset: IngestDataset, previousHash: string | undefined, file: string): Promise<void> {
    const { session } = this.#options;
    try {
      await session.copyToParquet(partSql(dataset, previousHash, NO_WIDE_AMOUNTS), file);
    } catch (error) {
      if (IngestSqlError.from(error)?.tag !== 'wide') throw error;
      // Rare (2^127 wei and more): those few amounts are converted here, exactly.
      const rows = await session.query(wideAmountsSql());
      const wide = new Map(rows.map(({ amount }) => [String(amount), BigInt(String(amount)).toString()]));
      await session.copyToParquet(partSql(dataset, previousHash, wide), file);
    }
  }
}

/** Runs the SQL path over the batch; see the top of this file. */
export async function runIngestPipeline(options: IngestPipelineOptions): Promise<IngestPipelineResult> {
  const { batch, rpc, signal } = options;
  const policy = options.policy ?? DEFAULT_SUB_RANGE_POLICY;
  const dir = join(options.scratchDir, 'ingest');
  const rawDir = join(dir, 'answers');
  await mkdir(rawDir, { recursive: true });
  const decoder = new SubRangeDecoder(options, dir);
  const parts: Record<IngestDataset, string[]> = { blocks: [], transactions: [], logs: [] };
  const blocks: { number: number; timestamp: number }[] = [];
  // Fetching runs ahead of decoding by one sub-range; a failure stops both.
  const fetching = new AbortController();
  const fetchSignal = AbortSignal.any([signal, fetching.signal]);
  let bytes = 0;
  let fetchedBlocks = 0;
  let subRanges = 0;
  const fetchFrom = (fromBlock: number): Promise<SubRangeAnswers> | undefined => {
    const range = nextSubRange(
      batch,
      fromBlock,
      fetchedBlocks > 0 ? bytes / fetchedBlocks : undefined,
      policy,
    );
    if (!range) return undefined;
    const pending = fetchSubRange(rpc, range, rawDir, fetchSignal).then((answers) => {
      bytes += answers.bytes;
      fetchedBlocks += range.toBlock - range.fromBlock;
      return answers;
    });
    pending.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    return pending;
  };
  let next = fetchFrom(batch.minBlock);
  let previousHash: string | undefined;
  try {
    while (next) {
      const answers = await next;
      subRanges++;
      next = fetchFrom(answers.range.toBlock);
      const decoded = await decoder.decode(answers, previousHash, parts);
      previousHash = decoded.blocks.at(-1)?.hash;
      for (const block of decoded.blocks) blocks.push({ number: block.number, timestamp: block.timestamp });
      await Promise.all(
        [...answers.files.blocks, ...answers.files.receipts].map((file) => rm(file, { force: true })),
      );
    }
  } catch (error) {
    fetching.abort(error);
    await next?.catch(() => undefined);
    throw error;
  } finally {
    await options.session.run(
      `DROP TABLE IF EXISTS ${RAW_BLOCKS_TABLE}; DROP TABLE IF EXISTS ${RAW_RECEIPTS_TABLE}`,
    );
  }
  return { parts, blocks, subRanges };
}
