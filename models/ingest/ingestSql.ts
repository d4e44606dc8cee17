// The fast path of ingest in DuckDB SQL: JSON-RPC answers, as the node sent them, read with
// read_json into typed columns, checked and converted to the ingestion schemas, so no row
// ever becomes a JS object. The checks are those of the JS path (rpcShapes.ts validators,
// ingestRows.ts cross-checks): a failing one raises a tagged error (ingestSqlFields.ts)
// instead of writing a row. A test requires identical rows from both paths.
//
// Per sub-range of the batch, two raw tables: `ingest_raw_blocks` (id = block number, the
// block with full transactions) and `ingest_raw_receipts` (id = block number, the block's
// receipts), both in block order. The inserts here read those two and append to the batch's
// staged tables `ingest_blocks`, `ingest_transactions`, `ingest_logs` (the schemas' columns).
import { duckDbString } from '../../adapters/parquet/duckDbSession.ts';
import { duckDbTypeOf, type ParquetSchema } from '../../dataplane/parquetSchema.ts';
import { duckDbColumnsSql } from '../../dataplane/parquetSchema.ts';
import {
  type Check,
  type CheckedQuery,
  type Field,
  NO_WIDE_AMOUNTS,
  address,
  data,
  decimal,
  fieldColumns,
  fitsHugeint,
  hash,
  quantity,
  text,
} from './ingestSqlFields.ts';
import { blocksSchema, logsSchema, transactionsSchema } from './ingestSchemas.ts';
import type { SubRange } from './subRanges.ts';

export const RAW_BLOCKS_TABLE = 'ingest_raw_blocks';
export const RAW_RECEIPTS_TABLE = 'ingest_raw_receipts';

const TRANSACTION_JSON = `STRUCT("hash" VARCHAR, "blockNumber" VARCHAR, "transactionIndex" VARCHAR,
  "from" VARCHAR, "to" VARCHAR, "value" VARCHAR, "nonce" VARCHAR, "gas" VARCHAR, "gasPrice" VARCHAR,
  "maxFeePerGas" VARCHAR, "maxPriorityFeePerGas" VARCHAR, "input" VARCHAR, "type" VARCHAR)`;
const BLOCK_JSON = `STRUCT("number" VARCHAR, "hash" VARCHAR, "parentHash" VARCHAR, "timestamp" VARCHAR,
  "miner" VARCHAR, "gasLimit" VARCHAR, "gasUsed" VARCHAR, "baseFeePerGas" VARCHAR, "transactions" ${TRANSACTION_JSON}[])`;
const LOG_JSON = `STRUCT("address" VARCHAR, "topics" VARCHAR[], "data" VARCHAR, "blockNumber" VARCHAR,
  "blockHash" VARCHAR, "transactionHash" VARCHAR, "transactionIndex" VARCHAR, "logIndex" VARCHAR, "removed" VARCHAR)`;
const RECEIPT_JSON = `STRUCT("transactionHash" VARCHAR, "transactionIndex" VARCHAR, "blockHash" VARCHAR,
  "blockNumber" VARCHAR, "status" VARCHAR, "gasUsed" VARCHAR, "cumulativeGasUsed" VARCHAR,
  "effectiveGasPrice" VARCHAR, "contractAddress" VARCHAR, "logs" ${LOG_JSON}[])`;

/** read_json's buffer for one answer: at least this, and at least the largest file read. */
const MIN_ANSWER_BYTES = 1024 * 1024;

/** JSON answer files and the size of the largest: no answer in them is larger. */
export interface AnswerFiles {
  files: readonly string[];
  largestBytes: number;
  /** Every file holds a JSON array (a batch's answers); otherwise some hold a lone object. */
  allArrays: boolean;
}

function readJson(answers: AnswerFiles, resultType: string): string {
  // DuckDB allocates read buffers from this size: the files' own, not a worst case.
  const maxObjectBytes = Math.max(MIN_ANSWER_BYTES, Math.ceil(answers.largestBytes) + 1024);
  // Told that every file is an array, DuckDB skips detecting the format: a fifth less CPU.
  const format = answers.allArrays ? 'array' : 'auto';
  return `read_json([${answers.files.map(duckDbString).join(', ')}], format = '${format}',
    columns = {id: 'BIGINT', error: 'JSON', result: '${resultType.replaceAll('\n', ' ')}'},
    maximum_object_size = ${maxObjectBytes})`;
}

/** Loads the answers to eth_getBlockByNumber(n, true), ids being block numbers, in file order. */
export function loadRawBlocksSql(answers: AnswerFiles): string {
  return `CREATE OR REPLACE TEMP TABLE ${RAW_BLOCKS_TABLE} AS
    SELECT id, error, result AS b FROM ${readJson(answers, BLOCK_JSON)}`;
}

/** Loads the answers to eth_getBlockReceipts(n) (or the same shape), ids being block numbers. */
export function loadRawReceiptsSql(answers: AnswerFiles): string {
  return `CREATE OR REPLACE TEMP TABLE ${RAW_RECEIPTS_TABLE} AS
    SELECT id, error, result AS receipts FROM ${readJson(answers, `${RECEIPT_JSON}[]`)}`;
}

export const STAGED_TABLES = {
  blocks: 'ingest_blocks',
  transactions: 'ingest_transactions',
  logs: 'ingest_logs',
} as const;

const STAGED_SCHEMAS: Record<keyof typeof STAGED_TABLES, ParquetSchema> = {
  blocks: blocksSchema,
  transactions: transactionsSchema,
  logs: logsSchema,
};

/**
 * Staged tables, empty, with the schemas' columns and types: all three by default. A flush
 * creates its tables again rather than DELETE their rows: DuckDB keeps a deleted row's storage
 * (never reclaimed in a temp table), so a DELETE held every flushed row in memory or spill.
 */
export function createStagedTablesSql(
  datasets: readonly (keyof typeof STAGED_TABLES)[] = ['blocks', 'transactions', 'logs'],
): string {
  return datasets
    .map(
      (dataset) =>
        `CREATE OR REPLACE TEMP TABLE ${STAGED_TABLES[dataset]} (${duckDbColumnsSql(STAGED_SCHEMAS[dataset])})`,
    )
    .join(';\n');
}

const BLOCK = 'eth_getBlockByNumber';
const RECEIPTS = 'eth_getBlockReceipts';

/** The select list of `schema` from `expressions` (by column), each cast to its stored type. */
function schemaSelect(schema: ParquetSchema, expressions: Readonly<Record<string, string>> = {}): string {
  return schema
    .map(
      (column) =>
        `CAST(${expressions[column.name] ?? column.name} AS ${duckDbTypeOf(column.type)}) AS "${column.name}"`,
    )
    .join(', ');
}

function check(ok: string, tag: Check['tag'], method: string, detail: string): Check {
  return { ok, tag, method, detail };
}

/**
 * The sub-range's blocks for `ingest_blocks`, after checking the answers themselves: one per
 * block, in order, none an error or null, for blocks and receipts alike (a bad one is
 * `invalid`, for the JS client to sort out), a receipt per transaction, and a parent link to
 * the block before, the previous sub-range's last included.
 */
export function blocksQuery(range: SubRange, wide = NO_WIDE_AMOUNTS): CheckedQuery {
  const at = (path: string) => ({ method: BLOCK, path: `block.${path}` });
  const fields: Field[] = [
    quantity({ column: 'block_number', raw: 'number_hex', ...at('number') }),
    hash({ column: 'block_hash', raw: 'hash_hex', ...at('hash') }),
    hash({ column: 'parent_hash', raw: 'parent_hex', ...at('parentHash') }),
    quantity({ column: 'timestamp_seconds', raw: 'timestamp_hex', ...at('timestamp') }),
    address({ column: 'miner', raw: 'miner_hex', ...at('miner') }),
    quantity({ column: 'gas_limit', raw: 'gas_limit_hex', ...at('gasLimit') }),
    quantity({ column: 'gas_used', raw: 'gas_used_hex', ...at('gasUsed') }),
    decimal(
      { column: 'base_fee_per_gas', raw: 'base_fee_hex', ...at('baseFeePerGas'), optional: true },
      wide,
    ),
  ];
  const blocks = range.toBlock - range.fromBlock;
  const count = (table: string) => `(SELECT count(*) FROM ${table}) = ${blocks}`;
  const answers = (method: string, ok: string) =>
    check(ok, 'invalid', method, `'no answer, an error or null for block ' || ${range.fromBlock} + position`);
  const previous = `(SELECT block_hash FROM ${STAGED_TABLES.blocks} WHERE block_number = ${range.fromBlock - 1})`;
  return {
    // Only the header's fields go on: the transactions stay behind, out of the windows' way.
    source: `
      SELECT *, coalesce(lag(block_hash) OVER (ORDER BY position), ${previous}) AS expected_parent FROM (
        SELECT *, ${fieldColumns(fields)} FROM (
          SELECT *, lag(block_id) OVER (ORDER BY position) AS previous_id FROM (
            SELECT rb.rowid AS position, rb.id AS block_id, rb.error AS block_error, rb.b IS NOT NULL AS has_block,
              rr.id AS receipts_id, rr.error AS receipts_error, len(rr.receipts) AS receipt_count,
              len(rb.b.transactions) AS transaction_count, rb.b.number AS number_hex, rb.b.hash AS hash_hex,
              rb.b.parentHash AS parent_hex, rb.b.timestamp AS timestamp_hex, rb.b.miner AS miner_hex,
              rb.b.gasLimit AS gas_limit_hex, rb.b.gasUsed AS gas_used_hex, rb.b.baseFeePerGas AS base_fee_hex
            FROM ${RAW_BLOCKS_TABLE} rb POSITIONAL JOIN ${RAW_RECEIPTS_TABLE} rr)))`,
    firstChecks: [
      answers(
        BLOCK,
        `${count(RAW_BLOCKS_TABLE)} AND block_id = coalesce(previous_id + 1, ${range.fromBlock}) AND block_error IS NULL AND has_block`,
      ),
      answers(
        RECEIPTS,
        `${count(RAW_RECEIPTS_TABLE)} AND receipts_id = block_id AND receipts_error IS NULL AND receipt_count IS NOT NULL`,
      ),
    ],
    fields,
    checks: [
      check(
        'block_number = block_id',
        'invalid',
        BLOCK,
        `'asked for block ' || block_id || ', got ' || number_hex`,
      ),
      check(
        'transaction_count = receipt_count',
        'mismatch',
        RECEIPTS,
        `'block ' || block_number || ' has ' || transaction_count || ' transactions but ' || receipt_count || ' receipts'`,
      ),
      check(
        'expected_parent IS NULL OR parent_hash = expected_parent',
        'mismatch',
        BLOCK,
        `'block ' || block_number || ' does not extend block ' || (block_number - 1) || ' (reorg while fetching?)'`,
      ),
    ],
    select: schemaSelect(blocksSchema, { block_timestamp: 'to_timestamp(timestamp_seconds)' }),
    orderBy: 'position',
  };
}

/** Each block's transactions beside their receipts, zipped by position. */
const TRANSACTIONS_WITH_RECEIPTS = `
  SELECT rb.id AS block_number, lower(rb.b.hash) AS block_hash, rb.b.timestamp AS timestamp_hex,
    unnest(rb.b.transactions) AS tx, unnest(rr.receipts) AS rc
  FROM ${RAW_BLOCKS_TABLE} rb POSITIONAL JOIN ${RAW_RECEIPTS_TABLE} rr`;

/** Each block's receipts, one row each. */
const RECEIPTS_OF_BLOCKS = `
  SELECT rb.id AS block_number, lower(rb.b.hash) AS block_hash, rb.b.timestamp AS timestamp_hex,
    unnest(rr.receipts) AS rc
  FROM ${RAW_BLOCKS_TABLE} rb POSITIONAL JOIN ${RAW_RECEIPTS_TABLE} rr`;

/**
 * The sub-range's transactions, with their receipts' fields, for `ingest_transactions`. Runs
 * after `blocksQuery`, which checked the answers and the receipt counts.
 */
export function transactionsQuery(wide = NO_WIDE_AMOUNTS): CheckedQuery {
  const tx = (path: string) => ({ method: BLOCK, path: `block.transactions[].${path}` });
  const rc = (path: string) => ({ method: RECEIPTS, path: `receipts[].${path}` });
  const fields: Field[] = [
    hash({ column: 'transaction_hash', raw: 'tx.hash', ...tx('hash') }),
    quantity({ column: 'transaction_index', raw: 'tx.transactionIndex', ...tx('transactionIndex') }),
    quantity({ column: 'tx_block_number', raw: 'tx.blockNumber', ...tx('blockNumber') }),
    address({ column: 'from_address', raw: 'tx."from"', ...tx('from') }),
    address({ column: 'to_address', raw: 'tx."to"', ...tx('to'), optional: true }),
    decimal({ column: 'value', raw: 'tx.value', ...tx('value') }, wide),
    quantity({ column: 'nonce', raw: 'tx.nonce', ...tx('nonce') }),
    quantity({ column: 'gas', raw: 'tx.gas', ...tx('gas') }),
    decimal({ column: 'gas_price', raw: 'tx.gasPrice', ...tx('gasPrice'), optional: true }, wide),
    decimal(
      { column: 'max_fee_per_gas', raw: 'tx.maxFeePerGas', ...tx('maxFeePerGas'), optional: true },
      wide,
    ),
    decimal(
      {
        column: 'max_priority_fee_per_gas',
        raw: 'tx.maxPriorityFeePerGas',
        ...tx('maxPriorityFeePerGas'),
        optional: true,
      },
      wide,
    ),
    data({ column: 'input', raw: 'tx.input', ...tx('input') }),
    quantity({ column: 'type_number', raw: 'tx.type', ...tx('type'), optional: true }),
    quantity({ column: 'receipt_block_number', raw: 'rc.blockNumber', ...rc('blockNumber') }),
    {
      ...quantity({ column: 'receipt_status', raw: 'rc.status', ...rc('status'), optional: true }),
      typed: `CASE WHEN rc.status IN ('0x0', '0x1') THEN TRY_CAST(rc.status AS INTEGER) END`,
    },
    quantity({ column: 'receipt_gas_used', raw: 'rc.gasUsed', ...rc('gasUsed') }),
    quantity({
      column: 'receipt_cumulative_gas_used',
      raw: 'rc.cumulativeGasUsed',
      ...rc('cumulativeGasUsed'),
    }),
    decimal(
      {
        column: 'receipt_effective_gas_price',
        raw: 'rc.effectiveGasPrice',
        ...rc('effectiveGasPrice'),
        optional: true,
      },
      wide,
    ),
    address({
      column: 'receipt_contract_address',
      raw: 'rc.contractAddress',
      ...rc('contractAddress'),
      optional: true,
    }),
  ];
  return {
    source: `SELECT block_number, block_hash, timestamp_hex, tx, rc, ${fieldColumns(fields)}
      FROM (${TRANSACTIONS_WITH_RECEIPTS})`,
    fields,
    checks: [
      check(
        'tx_block_number = block_number',
        'invalid',
        BLOCK,
        `'transaction ' || tx.hash || ' claims another block than ' || block_number`,
      ),
      check(
        'receipt_block_number = block_number',
        'invalid',
        RECEIPTS,
        `'a receipt of block ' || block_number || ' claims another block'`,
      ),
      check(
        'lower(rc.blockHash) = block_hash',
        'mismatch',
        RECEIPTS,
        `'receipts of block ' || block_number || ' belong to another block hash (reorg while fetching?)'`,
      ),
      check(
        'lower(rc.transactionHash) = transaction_hash',
        'mismatch',
        RECEIPTS,
        `'a receipt of block ' || block_number || ' is for ' || rc.transactionHash || ', not ' || transaction_hash`,
      ),
    ],
    select: schemaSelect(transactionsSchema, {
      block_timestamp: 'to_timestamp(TRY_CAST(timestamp_hex AS BIGINT))',
      transaction_type: 'coalesce(type_number, 0)',
    }),
  };
}

/** The logs of the sub-range's receipts for `ingest_logs`, in the receipts' order (the block's log order, as eth_getLogs gives it). */
export function logsQuery(): CheckedQuery {
  const log = (path: string) => ({ method: RECEIPTS, path: `receipts[].logs[].${path}` });
  const topics = [0, 1, 2, 3].map((i) =>
    hash({ column: `topic${i}`, raw: `lg.topics[${i + 1}]`, ...log(`topics[${i}]`), optional: true }),
  );
  const fields: Field[] = [
    quantity({ column: 'transaction_index', raw: 'lg.transactionIndex', ...log('transactionIndex') }),
    quantity({ column: 'log_index', raw: 'lg.logIndex', ...log('logIndex') }),
    quantity({ column: 'log_block_number', raw: 'lg.blockNumber', ...log('blockNumber') }),
    address({ column: 'address', raw: 'lg.address', ...log('address') }),
    ...topics,
    data({ column: 'data', raw: 'lg.data', ...log('data') }),
  ];
  return {
    source: `SELECT block_number, block_hash, timestamp_hex, transaction_hash, lg, ${fieldColumns(fields)} FROM (
        SELECT block_number, block_hash, timestamp_hex, lower(rc.transactionHash) AS transaction_hash,
          unnest(rc.logs) AS lg
        FROM (${RECEIPTS_OF_BLOCKS}))`,
    firstChecks: [
      check(
        'lg.topics IS NOT NULL AND len(lg.topics) <= 4',
        'invalid',
        RECEIPTS,
        text('receipts[].logs[].topics must be an array of at most 4 hashes'),
      ),
    ],
    fields,
    checks: [
      check(
        'log_block_number = block_number',
        'invalid',
        RECEIPTS,
        `'a log of block ' || block_number || ' claims another block'`,
      ),
      check(
        "lower(lg.blockHash) = block_hash AND coalesce(lg.removed, 'false') <> 'true'",
        'mismatch',
        RECEIPTS,
        `'log of block ' || block_number || ' has another block hash (reorg while fetching?)'`,
      ),
      check(
        'lower(lg.transactionHash) = transaction_hash',
        'invalid',
        RECEIPTS,
        `'a log of block ' || block_number || ' names another transaction than its receipt'`,
      ),
    ],
    select: schemaSelect(logsSchema, { block_timestamp: 'to_timestamp(TRY_CAST(timestamp_hex AS BIGINT))' }),
  };
}

/** The three queries of a sub-range, each with the staged table it fills, in order. */
export function subRangeQueries(range: SubRange, wide = NO_WIDE_AMOUNTS): [string, CheckedQuery][] {
  return [
    [STAGED_TABLES.blocks, blocksQuery(range, wide)],
    [STAGED_TABLES.transactions, transactionsQuery(wide)],
    [STAGED_TABLES.logs, logsQuery()],
  ];
}

/** The sub-range's wei amounts of 2^127 and more (well-formed ones), distinct, lower-case. */
export function wideAmountsSql(): string {
  return `SELECT DISTINCT lower(amount) AS amount FROM (
      SELECT b.baseFeePerGas AS amount FROM ${RAW_BLOCKS_TABLE}
      UNION ALL SELECT unnest([tx.value, tx.gasPrice, tx.maxFeePerGas, tx.maxPriorityFeePerGas])
        FROM (SELECT unnest(b.transactions) AS tx FROM ${RAW_BLOCKS_TABLE})
      UNION ALL SELECT rc.effectiveGasPrice FROM (SELECT unnest(receipts) AS rc FROM ${RAW_RECEIPTS_TABLE}))
    WHERE regexp_full_match(amount, '0x[0-9a-fA-F]{1,64}') AND NOT ${fitsHugeint('amount')}`;
}

/** The batch's staged blocks (number, timestamp in seconds), in order: for its days. */
export function stagedBlockTimesSql(): string {
  return `SELECT block_number AS number, epoch(block_timestamp)::BIGINT AS timestamp
    FROM ${STAGED_TABLES.blocks} ORDER BY block_number`;
}
