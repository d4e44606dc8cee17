// The fast path of ingest in DuckDB SQL: JSON-RPC answers, as the node sent them, read with
// read_json into typed columns, checked and converted to the ingestion schemas, so no row
// ever becomes a JS object. The checks are those of the JS path (rpcShapes.ts validators,
// ingestRows.ts cross-checks): a failing one raises a tagged error (see `IngestSqlError`)
// instead of writing a row. A test requires identical rows from both paths.
//
// Per sub-range of the batch, two raw tables: `ingest_raw_blocks` (id = block number, the
// block with full transactions) and `ingest_raw_receipts` (id = block number, the block's
// receipts), both in block order. Every query here reads those two.
import { duckDbString } from '../../adapters/parquet/duckDbSession.ts';
import { duckDbTypeOf, type ParquetSchema } from '../../dataplane/parquetSchema.ts';
import { blocksSchema, logsSchema, transactionsSchema } from './ingestSchemas.ts';

export const RAW_BLOCKS_TABLE = 'ingest_raw_blocks';
export const RAW_RECEIPTS_TABLE = 'ingest_raw_receipts';

const TRANSACTION_JSON = `STRUCT("hash" VARCHAR, "blockNumber" VARCHAR, "transactionIndex" VARCHAR,
  "from" VARCHAR, "to" VARCHAR, "value" VARCHAR, "nonce" VARCHAR, "gas" VARCHAR, "gasPrice" VARCHAR,
  "maxFeePerGas" VARCHAR, "maxPriorityFeePerGas" VARCHAR, "input" VARCHAR, "type" VARCHAR)`;
const BLOCK_JSON = `STRUCT("number" VARCHAR, "hash" VARCHAR, "parentHash" VARCHAR, "timestamp" VARCHAR,
  "miner" VARCHAR, "gasLimit" VARCHAR, "gasUsed" VARCHAR, "baseFeePerGas" VARCHAR, "transactions" ${TRANSACTION_JSON}[])`;
const LOG_JSON = `STRUCT("address" VARCHAR, "topics" VARCHAR[], "data" VARCHAR, "blockNumber" VARCHAR,
  "blockHash" VARCHAR, "transactionHash" VARCHAR, "transactionIndex" VARCHAR, "logIndex" VARCHAR, "removed" JSON)`;
const RECEIPT_JSON = `STRUCT("transactionHash" VARCHAR, "transactionIndex" VARCHAR, "blockHash" VARCHAR,
  "blockNumber" VARCHAR, "status" VARCHAR, "gasUsed" VARCHAR, "cumulativeGasUsed" VARCHAR,
  "effectiveGasPrice" VARCHAR, "contractAddress" VARCHAR, "logs" ${LOG_JSON}[])`;

/** read_json's buffer for one answer: at least this, and at least the largest file read. */
const MIN_ANSWER_BYTES = 1024 * 1024;
const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** Tags of the errors the queries raise; `IngestSqlError.from` turns them back into values. */
type ErrorTag =
  /** A field fails validation: the JS validators name it (the caller asks again through them). */
  | 'invalid'
  /** The answers do not describe one chain (a reorg mid-fetch, nodes that disagree): retry the batch. */
  | 'mismatch'
  /** A wei amount of 2^127 or more: run the query again with the sub-range's wide amounts. */
  | 'wide';

const TAG_PREFIX = 'ingest-sql';

function raise(tag: ErrorTag, method: string, detail: string): string {
  return `error(${duckDbString(`${TAG_PREFIX}|${tag}|${method}|`)} || ${detail})`;
}

function text(value: string): string {
  return duckDbString(value);
}

/** An error raised by these queries, read back from DuckDB's message. */
export class IngestSqlError extends Error {
  override name = 'IngestSqlError';
  readonly tag: ErrorTag;
  readonly method: string;
  readonly detail: string;

  constructor(tag: ErrorTag, method: string, detail: string) {
    super(`${method}: ${detail}`);
    this.tag = tag;
    this.method = method;
    this.detail = detail;
  }

  /** The tagged error in a DuckDB error, or undefined for any other failure. */
  static from(error: unknown): IngestSqlError | undefined {
    const message = error instanceof Error ? error.message : '';
    const match = new RegExp(`${TAG_PREFIX}\\|(invalid|mismatch|wide)\\|([^|]*)\\|([^\\n]*)`).exec(message);
    return match ? new IngestSqlError(match[1] as ErrorTag, match[2]!, match[3]!) : undefined;
  }
}

/** DuckDB's own refusal of a file's JSON (not JSON, a wrong shape): the node's answer is garbage. */
export function isJsonReadError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /^(Invalid Input Error|Conversion Error)/.test(message) && IngestSqlError.from(error) === undefined;
}

// Field checks: each the rule of the matching rpcShapes.ts validator.

const HEX_QUANTITY = (x: string) => `(starts_with(${x}, '0x') AND NOT contains(${x}, '_'))`;

/** A hex quantity that fits a JS number exactly (block numbers, gas, indexes), as BIGINT. */
function quantity(x: string, method: string, path: string): string {
  const value = `TRY_CAST(${x} AS BIGINT)`;
  return `CASE WHEN ${HEX_QUANTITY(x)} AND ${value} BETWEEN 0 AND ${MAX_SAFE_INTEGER} THEN ${value}
    ELSE ${raise('invalid', method, text(path))} END`;
}

function optionalQuantity(x: string, method: string, path: string): string {
  return `CASE WHEN ${x} IS NULL THEN NULL ELSE ${quantity(x, method, path)} END`;
}

/** Wei amounts of 2^127 and more in a sub-range, as `0x…` lower-case hex → decimal text. */
export type WideAmounts = ReadonlyMap<string, string>;
export const NO_WIDE_AMOUNTS: WideAmounts = new Map();

const FITS_HUGEINT = (digits: string, length: string) =>
  `(${length} < 32 OR (${length} = 32 AND substr(${digits}, 1, 1) < '8'))`;

/**
 * A hex quantity of any size (wei) as exact decimal text. Below 2^127 by integer casts (nearly
 * every amount there is); the rest from `wide`, converted by the caller (`wideAmountsSql`):
 * without it, a query meeting one raises `wide` and is run again with the sub-range's.
 */
function decimal(x: string, method: string, path: string, wide: WideAmounts): string {
  const digits = `substr(${x}, 3)`;
  const length = `length(${x}) - 2`;
  const limb = (from: string, count: string) =>
    `TRY_CAST('0x' || substr(${digits}, ${from}, ${count}) AS UBIGINT)`;
  const small = `CASE WHEN ${length} <= 16 THEN TRY_CAST(${x} AS UBIGINT)::VARCHAR
    ELSE ((${limb('1', `${length} - 16`)}::HUGEINT << 64) | ${limb(`${length} - 15`, '16')}::HUGEINT)::VARCHAR END`;
  const large =
    wide.size === 0
      ? raise('wide', method, text(path))
      : `CASE lower(${x}) ${[...wide].map(([hex, value]) => `WHEN ${text(hex)} THEN ${text(value)}`).join(' ')} END`;
  const converted = `CASE WHEN ${FITS_HUGEINT(digits, length)} THEN ${small} ELSE ${large} END`;
  return `CASE WHEN ${HEX_QUANTITY(x)} AND ${length} BETWEEN 1 AND 64 AND ${converted} IS NOT NULL THEN ${converted}
    ELSE ${raise('invalid', method, text(path))} END`;
}

function optionalDecimal(x: string, method: string, path: string, wide: WideAmounts): string {
  return `CASE WHEN ${x} IS NULL THEN NULL ELSE ${decimal(x, method, path, wide)} END`;
}

/** The sub-range's wei amounts of 2^127 and more (well-formed ones), distinct, lower-case. */
export function wideAmountsSql(): string {
  const digits = `substr(amount, 3)`;
  const length = `length(amount) - 2`;
  return `SELECT DISTINCT lower(amount) AS amount FROM (
      SELECT b.baseFeePerGas AS amount FROM ${RAW_BLOCKS_TABLE}
      UNION ALL SELECT unnest([tx.value, tx.gasPrice, tx.maxFeePerGas, tx.maxPriorityFeePerGas])
        FROM (SELECT unnest(b.transactions) AS tx FROM ${RAW_BLOCKS_TABLE})
      UNION ALL SELECT rc.effectiveGasPrice FROM (SELECT unnest(receipts) AS rc FROM ${RAW_RECEIPTS_TABLE}))
    WHERE regexp_full_match(amount, '0x[0-9a-fA-F]{1,64}') AND NOT ${FITS_HUGEINT(digits, length)}`;
}

/** Hex of a fixed size (hashes: 32 bytes, addresses: 20), lower-cased. */
function fixedHex(x: string, bytes: number, method: string, path: string): string {
  return `CASE WHEN regexp_full_match(${x}, '0x[0-9a-fA-F]{${bytes * 2}}') THEN lower(${x})
    ELSE ${raise('invalid', method, text(path))} END`;
}

const hash = (x: string, method: string, path: string) => fixedHex(x, 32, method, path);
const address = (x: string, method: string, path: string) => fixedHex(x, 20, method, path);

function optionalAddress(x: string, method: string, path: string): string {
  return `CASE WHEN ${x} IS NULL THEN NULL ELSE ${address(x, method, path)} END`;
}

/** Hex data of whole bytes (calldata, log data), lower-cased. */
function data(x: string, method: string, path: string): string {
  return `CASE WHEN regexp_full_match(${x}, '0x([0-9a-fA-F]{2})*') THEN lower(${x})
    ELSE ${raise('invalid', method, text(path))} END`;
}

/** A `WHERE` that raises the first failing check's error (checks: [condition that must hold, error]). */
function checks(list: readonly [string, string][]): string {
  return `CASE ${list.map(([ok, error]) => `WHEN NOT coalesce(${ok}, false) THEN ${error}`).join(' ')} ELSE true END`;
}

/** The select list of `schema` from `expressions` (by column), each cast to its stored type. */
function schemaSelect(schema: ParquetSchema, expressions: Readonly<Record<string, string>>): string {
  return schema
    .map((column) => {
      const expression = expressions[column.name];
      if (expression === undefined) throw new Error(`no expression for ${column.name}`);
      return `CAST(${expression} AS ${duckDbTypeOf(column.type)}) AS "${column.name}"`;
    })
    .join(',\n  ');
}

/** JSON answer files and the size of the largest: no answer in them is larger. */
export interface AnswerFiles {
  files: readonly string[];
  largestBytes: number;
}

function readJson(answers: AnswerFiles, resultType: string): string {
  // DuckDB allocates read buffers from this size: the files' own, not a worst case.
  const maxObjectBytes = Math.max(MIN_ANSWER_BYTES, Math.ceil(answers.largestBytes) + 1024);
  return `read_json([${answers.files.map(duckDbString).join(', ')}], format = 'auto',
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

/**
 * Whether a raw table holds exactly one answer per block, in block order, none of them an
 * error or null: `ids` (in order) and `failed`. Anything else is for the JS client to sort out.
 */
export function answersSql(table: typeof RAW_BLOCKS_TABLE | typeof RAW_RECEIPTS_TABLE): string {
  // A null result's fields are null: testing one field spares reading the whole answer.
  const field = table === RAW_BLOCKS_TABLE ? 'b.hash' : 'len(receipts)';
  return `SELECT list(id ORDER BY rowid) AS ids, count(*) FILTER (error IS NOT NULL OR ${field} IS NULL) AS failed
    FROM ${table}`;
}

const BLOCK = 'eth_getBlockByNumber';
const RECEIPTS = 'eth_getBlockReceipts';

/**
 * The blocks of the sub-range as `ingestion/blocks` rows. `previousHash`: the hash of the block
 * before the sub-range, when it is in the batch, so the parent link is checked across sub-ranges.
 */
export function blocksPartSql(previousHash: string | undefined, wide = NO_WIDE_AMOUNTS): string {
  const select = schemaSelect(blocksSchema, {
    block_number: 'block_number',
    block_timestamp: `to_timestamp(${quantity('timestamp_hex', BLOCK, 'block.timestamp')})`,
    block_hash: 'block_hash',
    parent_hash: 'parent_hash',
    miner: address('miner', BLOCK, 'block.miner'),
    gas_limit: quantity('gas_limit', BLOCK, 'block.gasLimit'),
    gas_used: quantity('gas_used', BLOCK, 'block.gasUsed'),
    base_fee_per_gas: optionalDecimal('base_fee', BLOCK, 'block.baseFeePerGas', wide),
    transaction_count: 'transaction_count',
  });
  const before = previousHash === undefined ? 'NULL' : text(previousHash);
  // Only the header's fields: the transactions stay behind, out of the window's way.
  return `SELECT ${select} FROM (
    SELECT *, coalesce(lag(block_hash) OVER (ORDER BY position), ${before}) AS expected_parent FROM (
      SELECT rowid AS position, id,
        ${quantity('b.number', BLOCK, 'block.number')} AS block_number,
        ${hash('b.hash', BLOCK, 'block.hash')} AS block_hash,
        ${hash('b.parentHash', BLOCK, 'block.parentHash')} AS parent_hash,
        b.timestamp AS timestamp_hex, b.miner AS miner, b.gasLimit AS gas_limit, b.gasUsed AS gas_used,
        b.baseFeePerGas AS base_fee, len(b.transactions) AS transaction_count
      FROM ${RAW_BLOCKS_TABLE}))
    WHERE ${checks([
      [`block_number = id`, raise('invalid', BLOCK, `'asked for block ' || id || ', got ' || block_number`)],
      [
        `expected_parent IS NULL OR parent_hash = expected_parent`,
        raise(
          'mismatch',
          BLOCK,
          `'block ' || block_number || ' does not extend block ' || (block_number - 1) || ' (reorg while fetching?)'`,
        ),
      ],
    ])}
    ORDER BY position`;
}

/** Each block's transactions beside their receipts, zipped by position. */
const TRANSACTIONS_WITH_RECEIPTS = `
  SELECT rb.id AS block_number, lower(rb.b.hash) AS block_hash, rb.b.timestamp AS timestamp_hex,
    len(rb.b.transactions) AS transaction_count, len(rr.receipts) AS receipt_count,
    unnest(rb.b.transactions) AS tx, unnest(rr.receipts) AS rc
  FROM ${RAW_BLOCKS_TABLE} rb POSITIONAL JOIN ${RAW_RECEIPTS_TABLE} rr`;

/** Each block's receipts, one row each. */
const RECEIPTS_OF_BLOCKS = `
  SELECT rb.id AS block_number, lower(rb.b.hash) AS block_hash, rb.b.timestamp AS timestamp_hex,
    unnest(rr.receipts) AS rc
  FROM ${RAW_BLOCKS_TABLE} rb POSITIONAL JOIN ${RAW_RECEIPTS_TABLE} rr`;

/** The sub-range's transactions with their receipts' fields as `ingestion/transactions` rows. */
export function transactionsPartSql(wide = NO_WIDE_AMOUNTS): string {
  const tx = (path: string) => `block.transactions[].${path}`;
  const rc = (path: string) => `receipts[].${path}`;
  const select = schemaSelect(transactionsSchema, {
    block_number: 'block_number',
    block_timestamp: `to_timestamp(${quantity('timestamp_hex', BLOCK, 'block.timestamp')})`,
    transaction_hash: 'transaction_hash',
    transaction_index: quantity('tx.transactionIndex', BLOCK, tx('transactionIndex')),
    from_address: address('tx."from"', BLOCK, tx('from')),
    to_address: optionalAddress('tx."to"', BLOCK, tx('to')),
    value: decimal('tx.value', BLOCK, tx('value'), wide),
    nonce: quantity('tx.nonce', BLOCK, tx('nonce')),
    gas: quantity('tx.gas', BLOCK, tx('gas')),
    gas_price: optionalDecimal('tx.gasPrice', BLOCK, tx('gasPrice'), wide),
    max_fee_per_gas: optionalDecimal('tx.maxFeePerGas', BLOCK, tx('maxFeePerGas'), wide),
    max_priority_fee_per_gas: optionalDecimal(
      'tx.maxPriorityFeePerGas',
      BLOCK,
      tx('maxPriorityFeePerGas'),
      wide,
    ),
    input: data('tx.input', BLOCK, tx('input')),
    transaction_type: `coalesce(${optionalQuantity('tx.type', BLOCK, tx('type'))}, 0)`,
    receipt_status: `CASE WHEN rc.status IS NULL THEN NULL
      WHEN rc.status IN ('0x0', '0x1') THEN ${quantity('rc.status', RECEIPTS, rc('status'))}
      ELSE ${raise('invalid', RECEIPTS, text(rc('status')))} END`,
    receipt_gas_used: quantity('rc.gasUsed', RECEIPTS, rc('gasUsed')),
    receipt_cumulative_gas_used: quantity('rc.cumulativeGasUsed', RECEIPTS, rc('cumulativeGasUsed')),
    receipt_effective_gas_price: optionalDecimal(
      'rc.effectiveGasPrice',
      RECEIPTS,
      rc('effectiveGasPrice'),
      wide,
    ),
    receipt_contract_address: optionalAddress('rc.contractAddress', RECEIPTS, rc('contractAddress')),
  });
  return `SELECT ${select} FROM (
    SELECT *, ${hash('tx.hash', BLOCK, tx('hash'))} AS transaction_hash FROM (${TRANSACTIONS_WITH_RECEIPTS}))
    WHERE ${checks([
      [
        'transaction_count = receipt_count',
        raise(
          'mismatch',
          RECEIPTS,
          `'block ' || block_number || ' has ' || transaction_count || ' transactions but ' || receipt_count || ' receipts'`,
        ),
      ],
      [
        `${quantity('tx.blockNumber', BLOCK, tx('blockNumber'))} = block_number`,
        raise('invalid', BLOCK, `'transaction ' || tx.hash || ' claims another block than ' || block_number`),
      ],
      [
        `${quantity('rc.blockNumber', RECEIPTS, rc('blockNumber'))} = block_number`,
        raise('invalid', RECEIPTS, `'a receipt of block ' || block_number || ' claims another block'`),
      ],
      [
        `lower(rc.blockHash) = block_hash`,
        raise(
          'mismatch',
          RECEIPTS,
          `'receipts of block ' || block_number || ' belong to another block hash (reorg while fetching?)'`,
        ),
      ],
      [
        `lower(rc.transactionHash) = transaction_hash`,
        raise(
          'mismatch',
          RECEIPTS,
          `'a receipt of block ' || block_number || ' is for ' || rc.transactionHash || ', not ' || transaction_hash`,
        ),
      ],
    ])}`;
}

/** The logs of the sub-range's receipts as `ingestion/logs` rows, by block and log index. */
export function logsPartSql(): string {
  const log = (path: string) => `receipts[].logs[].${path}`;
  const topic = (i: number) =>
    `CASE WHEN len(lg.topics) > ${i} THEN ${hash(`lg.topics[${i + 1}]`, RECEIPTS, log(`topics[${i}]`))} END`;
  const select = schemaSelect(logsSchema, {
    block_number: 'block_number',
    block_timestamp: `to_timestamp(${quantity('timestamp_hex', BLOCK, 'block.timestamp')})`,
    block_hash: 'block_hash',
    transaction_hash: 'transaction_hash',
    transaction_index: quantity('lg.transactionIndex', RECEIPTS, log('transactionIndex')),
    log_index: 'log_index',
    address: address('lg.address', RECEIPTS, log('address')),
    topic0: topic(0),
    topic1: topic(1),
    topic2: topic(2),
    topic3: topic(3),
    data: data('lg.data', RECEIPTS, log('data')),
  });
  return `SELECT ${select} FROM (
    SELECT *, ${quantity('lg.logIndex', RECEIPTS, log('logIndex'))} AS log_index FROM (
      SELECT block_number, block_hash, timestamp_hex, lower(rc.transactionHash) AS transaction_hash,
        unnest(rc.logs) AS lg
      FROM (${RECEIPTS_OF_BLOCKS})))
    WHERE ${checks([
      [
        `lg.topics IS NOT NULL AND len(lg.topics) <= 4`,
        raise('invalid', RECEIPTS, text(`${log('topics')} must be an array of at most 4 hashes`)),
      ],
      [
        `${quantity('lg.blockNumber', RECEIPTS, log('blockNumber'))} = block_number`,
        raise('invalid', RECEIPTS, `'a log of block ' || block_number || ' claims another block'`),
      ],
      [
        `lower(lg.blockHash) = block_hash AND coalesce(lg.removed::VARCHAR, 'false') <> 'true'`,
        raise(
          'mismatch',
          RECEIPTS,
          `'log of block ' || block_number || ' has another block hash (reorg while fetching?)'`,
        ),
      ],
      [
        `lower(lg.transactionHash) = transaction_hash`,
        raise(
          'invalid',
          RECEIPTS,
          `'a log of block ' || block_number || ' names another transaction than its receipt'`,
        ),
      ],
    ])}
    ORDER BY block_number, log_index`;
}

/** The sub-range's blocks (number, timestamp in seconds, hash), in order, once decoded: for the batch's days. */
export function decodedBlocksSql(): string {
  return `SELECT id AS number, TRY_CAST(b.timestamp AS BIGINT) AS timestamp, lower(b.hash) AS hash
    FROM ${RAW_BLOCKS_TABLE} ORDER BY rowid`;
}
