// The SQL path of ingest for one batch: sub-range by sub-range, the answers of the next two are
// fetched (HTTP, files) while DuckDB decodes this one (its own thread) into the batch's staged
// tables (ingestSql.ts). Past `flushBytes` of answers, the staged transactions and logs go to a
// parquet part in the scratch folder, so memory is bounded by a few sub-ranges, not a batch:
// raw answers are files, parts are files, DuckDB holds little at a time.
//
// What can go wrong, and what happens:
// - a request fails, or the node lacks eth_getBlockReceipts: that request goes through the JS
//   client (rawAnswers.ts), with its retries and fallbacks;
// - answers that are not one per block in order, errors, nulls, garbage JSON, a field that
//   fails a check: that kind of answer is asked again through the JS client, whose validators
//   throw the error a bad answer deserves (or, if it was a passing hiccup, the batch goes on);
// - answers that disagree (a parent link, a receipt or log of another block hash, receipt
//   counts): a retryable RpcError, as in the JS path;
// - a wei amount of 2^127 or more: that sub-range is decoded again with those amounts
//   converted in JS.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EthereumRpc } from '../../adapters/ethereum/ethereumRpc.ts';
import { RpcError } from '../../adapters/ethereum/rpcErrors.ts';
import type { DuckDbSession } from '../../adapters/parquet/duckDbSession.ts';
import { readParquetSql } from '../../adapters/parquet/duckDbSession.ts';
import type { BlockBatch } from '../../dataplane/batches.ts';
import {
  RAW_BLOCKS_TABLE,
  RAW_RECEIPTS_TABLE,
  STAGED_TABLES,
  createStagedTablesSql,
  loadRawBlocksSql,
  loadRawReceiptsSql,
  stagedBlockTimesSql,
  subRangeQueries,
  wideAmountsSql,
} from './ingestSql.ts';
import {
  IngestSqlError,
  NO_WIDE_AMOUNTS,
  type WideAmounts,
  checkedInsertSql,
  diagnosedError,
  diagnosisSql,
  isJsonReadError,
  isUncheckedError,
} from './ingestSqlFields.ts';
import { type AnswerKind, type SubRangeAnswers, fetchSubRange, refetchValidated } from './rawAnswers.ts';
import { type SubRangeSizer, SubRangeSizes } from './subRanges.ts';

export type IngestDataset = keyof typeof STAGED_TABLES;

export interface IngestPipelineOptions {
  batch: BlockBatch;
  rpc: EthereumRpc;
  session: DuckDbSession;
  /** The batch's private folder; the pipeline works in a folder of its own inside. */
  scratchDir: string;
  signal: AbortSignal;
  /** Sub-range sizes; pass the same one to successive batches of a chain to keep what it learned. */
  sizes?: SubRangeSizer;
  /** Answer bytes staged before the transactions and logs go to a parquet part. */
  flushBytes?: number;
}

export interface IngestPipelineResult {
  /** Per dataset, a DuckDB SELECT of the batch's rows in order (staged tables or parts). */
  queries: Record<IngestDataset, string>;
  /** The batch's blocks (number, timestamp in seconds), in order. */
  blocks: { number: number; timestamp: number }[];
  subRanges: number;
  parts: number;
}

export const DEFAULT_FLUSH_BYTES = 64 * 1024 * 1024;

/**
 * Sub-ranges fetched ahead of the one being decoded. One was not enough to keep the node busy:
 * a decode that outlasts the next fetch left it idle. Answers wait as files, and the client
 * caps the requests in flight, so memory does not grow with this.
 */
const FETCH_AHEAD = 2;

const METHOD_OF: Record<AnswerKind, string> = {
  blocks: 'eth_getBlockByNumber',
  receipts: 'eth_getBlockReceipts',
};

/** Why a sub-range's answers of one kind must be asked again through the JS client. */
interface Doubt {
  kind: AnswerKind;
  reason: string;
}

class SubRangeDecoder {
  readonly #session: DuckDbSession;
  readonly #rpc: EthereumRpc;
  readonly #signal: AbortSignal;

  constructor(options: IngestPipelineOptions) {
    this.#session = options.session;
    this.#rpc = options.rpc;
    this.#signal = options.signal;
  }

  /**
   * Appends one sub-range to the staged tables. Answers in doubt are asked again through the
   * JS client, once per kind; a doubt that survives that is the node's error.
   */
  async decode(answers: SubRangeAnswers): Promise<void> {
    const refetched = new Set<AnswerKind>();
    for (;;) {
      const doubt = await this.#tryDecode(answers);
      if (!doubt) return;
      if (refetched.has(doubt.kind)) {
        throw new RpcError('invalid-response', METHOD_OF[doubt.kind], `invalid response: ${doubt.reason}`, {
          retryable: false,
        });
      }
      await refetchValidated(this.#rpc, answers, doubt.kind, this.#signal);
      refetched.add(doubt.kind);
    }
  }

  async #tryDecode(answers: SubRangeAnswers): Promise<Doubt | undefined> {
    for (const kind of ['blocks', 'receipts'] as const) {
      const written = answers.written[kind];
      const files = {
        files: answers.files[kind],
        largestBytes: Math.max(0, ...written.map((answer) => answer.bytes)),
        allArrays: written.every((answer) => answer.array),
      };
      try {
        await this.#session.run(kind === 'blocks' ? loadRawBlocksSql(files) : loadRawReceiptsSql(files));
      } catch (error) {
        if (isJsonReadError(error)) return { kind, reason: (error as Error).message };
        throw error;
      }
    }
    let wide = NO_WIDE_AMOUNTS;
    for (;;) {
      try {
        await this.#insert(answers, wide);
        return undefined;
      } catch (error) {
        const tagged = IngestSqlError.from(error);
        if (tagged?.tag === 'wide' && wide === NO_WIDE_AMOUNTS) {
          // Rare (2^127 wei and more): those few amounts are converted here, exactly, and the
          // inserts run again, where any other problem of the sub-range is met as below.
          const rows = await this.#session.query(wideAmountsSql());
          wide = new Map(rows.map(({ amount }) => [String(amount), BigInt(String(amount)).toString()]));
          continue;
        }
        if (tagged?.tag === 'mismatch') {
          throw new RpcError('invalid-response', tagged.method, tagged.detail, { retryable: true });
        }
        if (tagged?.tag === 'invalid') {
          return {
            kind: tagged.method === METHOD_OF.receipts ? 'receipts' : 'blocks',
            reason: tagged.detail,
          };
        }
        throw error;
      }
    }
  }

  /** The three inserts, all or none; a bad row's problem is named (diagnosed) after the rollback. */
  async #insert(answers: SubRangeAnswers, wide: WideAmounts): Promise<void> {
    const queries = subRangeQueries(answers.range, wide);
    await this.#session.run('BEGIN TRANSACTION');
    try {
      for (const [table, query] of queries) await this.#session.run(checkedInsertSql(table, query));
      await this.#session.run('COMMIT');
    } catch (error) {
      await this.#session.run('ROLLBACK');
      if (!isUncheckedError(error)) throw error;
      for (const [, query] of queries) {
        const [row] = await this.#session.query(diagnosisSql(query));
        if (row) throw diagnosedError(String(row.problem));
      }
      throw error;
    }
  }
}

/** Runs the SQL path over the batch; see the top of this file. */
export async function runIngestPipeline(options: IngestPipelineOptions): Promise<IngestPipelineResult> {
  const { batch, rpc, session, signal } = options;
  const sizes = options.sizes ?? new SubRangeSizes();
  const flushBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
  const dir = join(options.scratchDir, 'ingest');
  const answersDir = join(dir, 'answers');
  await mkdir(answersDir, { recursive: true });
  await session.run(createStagedTablesSql());
  const decoder = new SubRangeDecoder(options);
  const parts: Record<'transactions' | 'logs', string[]> = { transactions: [], logs: [] };
  const flush = async (): Promise<void> => {
    for (const dataset of ['transactions', 'logs'] as const) {
      const file = join(dir, `${dataset}-${parts[dataset].length}.parquet`);
      await session.copyToParquet(STAGED_TABLES[dataset], file);
      parts[dataset].push(file);
    }
    await session.run(createStagedTablesSql(['transactions', 'logs']));
  };
  // Fetching runs FETCH_AHEAD sub-ranges ahead of decoding; a failure stops both.
  const fetching = new AbortController();
  const fetchSignal = AbortSignal.any([signal, fetching.signal]);
  const ahead: Promise<SubRangeAnswers>[] = [];
  let fetchedTo = batch.minBlock;
  const fetchAhead = (): void => {
    while (ahead.length < FETCH_AHEAD) {
      const range = sizes.next(batch, fetchedTo);
      if (!range) return;
      fetchedTo = range.toBlock;
      const pending = fetchSubRange(rpc, range, answersDir, fetchSignal).then((answers) => {
        sizes.observe(range, answers.bytes);
        return answers;
      });
      pending.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      ahead.push(pending);
    }
  };
  fetchAhead();
  let subRanges = 0;
  let stagedBytes = 0;
  try {
    while (ahead.length > 0) {
      const answers = await ahead[0]!;
      ahead.shift();
      subRanges++;
      fetchAhead();
      await decoder.decode(answers);
      await Promise.all(
        [...answers.files.blocks, ...answers.files.receipts].map((file) => rm(file, { force: true })),
      );
      stagedBytes += answers.bytes;
      if (stagedBytes >= flushBytes) {
        await flush();
        stagedBytes = 0;
      }
    }
    if (parts.logs.length > 0 && stagedBytes > 0) await flush();
  } catch (error) {
    fetching.abort(error);
    await Promise.allSettled(ahead);
    throw error;
  } finally {
    await session.run(`DROP TABLE IF EXISTS ${RAW_BLOCKS_TABLE}; DROP TABLE IF EXISTS ${RAW_RECEIPTS_TABLE}`);
  }
  const rows = await session.query(stagedBlockTimesSql());
  const staged = (dataset: IngestDataset) =>
    dataset !== 'blocks' && parts[dataset].length > 0
      ? `SELECT * FROM ${readParquetSql(parts[dataset])}`
      : `SELECT * FROM ${STAGED_TABLES[dataset]}`;
  return {
    queries: { blocks: staged('blocks'), transactions: staged('transactions'), logs: staged('logs') },
    blocks: rows.map((row) => ({ number: Number(row.number), timestamp: Number(row.timestamp) })),
    subRanges,
    parts: parts.logs.length,
  };
}
