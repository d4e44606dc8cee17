// The SQL decoder (DuckDB, the fast path) and the JS decoder (the reference) over the
// same synthetic logs: the same rows, the same skip counts, for every shape of log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DuckDbSession } from '../../../adapters/parquet/duckDbSession.ts';
import { ERC20_TRANSFER_TOPIC } from '../../../models/abi/erc20TransferLog.ts';
import { decodeTransferRows, type LogRow } from '../../../models/erc20_transfers/erc20TransfersJs.ts';
import {
  erc20TransfersSql,
  transferSkipCountsSql,
} from '../../../models/erc20_transfers/erc20TransfersSql.ts';
import { logsSchema } from '../../../models/ingest/ingestSchemas.ts';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const TOKEN = '0x3333333333333333333333333333333333333333';
const APPROVAL_TOPIC = '0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925';
const topic = (address: string): string => `0x${address.slice(2).padStart(64, '0')}`;
const word = (value: bigint): string => value.toString(16).padStart(64, '0');
const hash = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;

interface Shape {
  name: string;
  topics: (string | null)[];
  data: string;
  expect: 'row' | 'wrong_topic_count' | 'wrong_data_length' | 'malformed_address' | 'ignored';
}

const shapes: Shape[] = [
  {
    name: 'transfer',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), null],
    data: `0x${word(5n)}`,
    expect: 'row',
  },
  {
    name: 'zero value',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), null],
    data: `0x${word(0n)}`,
    expect: 'row',
  },
  {
    name: 'self',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(A), null],
    data: `0x${word(7n)}`,
    expect: 'row',
  },
  {
    name: '2^127 - 1',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), null],
    data: `0x${word(2n ** 127n - 1n)}`,
    expect: 'row',
  },
  {
    name: '2^127',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), null],
    data: `0x${word(2n ** 127n)}`,
    expect: 'row',
  },
  {
    name: 'max uint256',
    topics: [ERC20_TRANSFER_TOPIC, topic(B), topic(A), null],
    data: `0x${'f'.repeat(64)}`,
    expect: 'row',
  },
  {
    name: 'upper-case data',
    topics: [ERC20_TRANSFER_TOPIC, topic(B), topic(A), null],
    data: `0x${word(2n ** 200n + 1n).toUpperCase()}`,
    expect: 'row',
  },
  {
    name: 'ERC-721',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), hash(9)],
    data: '0x',
    expect: 'wrong_topic_count',
  },
  {
    name: 'two topics',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), null, null],
    data: `0x${word(1n)}${word(1n)}`,
    expect: 'wrong_topic_count',
  },
  {
    name: 'one topic',
    topics: [ERC20_TRANSFER_TOPIC, null, null, null],
    data: `0x${word(1n)}${word(1n)}${word(1n)}`,
    expect: 'wrong_topic_count',
  },
  {
    name: 'short data',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), null],
    data: `0x${'12'.repeat(16)}`,
    expect: 'wrong_data_length',
  },
  {
    name: 'no data',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), null],
    data: '0x',
    expect: 'wrong_data_length',
  },
  {
    name: 'long data',
    topics: [ERC20_TRANSFER_TOPIC, topic(A), topic(B), null],
    data: `0x${word(1n)}00`,
    expect: 'wrong_data_length',
  },
  {
    name: 'dirty padding',
    topics: [ERC20_TRANSFER_TOPIC, `0x${'ab'.repeat(12)}${A.slice(2)}`, topic(B), null],
    data: `0x${word(1n)}`,
    expect: 'malformed_address',
  },
  {
    name: 'approval',
    topics: [APPROVAL_TOPIC, topic(A), topic(B), null],
    data: `0x${word(1n)}`,
    expect: 'ignored',
  },
  { name: 'anonymous', topics: [null, null, null, null], data: `0x${word(1n)}`, expect: 'ignored' },
];

let session: DuckDbSession;
const logs: LogRow[] = [];

before(async () => {
  session = await DuckDbSession.open({ threads: 1 });
  shapes.forEach((shape, i) => {
    logs.push({
      block_number: 100 + Math.floor(i / 3),
      block_timestamp: 1_700_000_000 + Math.floor(i / 3) * 12,
      transaction_hash: hash(1000 + i),
      log_index: i,
      address: TOKEN,
      topic0: shape.topics[0]!,
      topic1: shape.topics[1]!,
      topic2: shape.topics[2]!,
      topic3: shape.topics[3]!,
      data: shape.data,
    });
  });
  await session.createTable('logs', logsSchema);
  await session.appendRows(
    'logs',
    logsSchema,
    logs.map((log) => ({ ...log, block_hash: hash(log.block_number as number), transaction_index: 0 })),
  );
});

after(() => session.close());

test('the JS decoder classifies every shape as expected', () => {
  const decoded = decodeTransferRows(logs);
  const rowHashes = new Set(decoded.rows.map((row) => row.transaction_hash));
  shapes.forEach((shape, i) => {
    assert.equal(rowHashes.has(hash(1000 + i)), shape.expect === 'row', shape.name);
  });
  const count = (reason: Shape['expect']): number => shapes.filter((shape) => shape.expect === reason).length;
  assert.deepEqual(decoded.skipped, {
    wrong_topic_count: count('wrong_topic_count'),
    wrong_data_length: count('wrong_data_length'),
    malformed_address: count('malformed_address'),
  });
});

test('the SQL decoder gives the same rows, in the same order', async () => {
  const sqlRows = await session.query(
    `SELECT block_number, epoch(block_timestamp)::BIGINT AS block_timestamp, transaction_hash, log_index,
            token_address, from_address, to_address, value FROM (${erc20TransfersSql('logs')})`,
  );
  const jsRows = decodeTransferRows(logs).rows;
  assert.deepEqual(
    sqlRows.map((row) => ({
      ...row,
      block_number: Number(row.block_number),
      block_timestamp: Number(row.block_timestamp),
    })),
    jsRows.map((row) => ({ ...row })),
  );
  assert.equal(
    sqlRows.find((row) => row.transaction_hash === hash(1005))?.value,
    (2n ** 256n - 1n).toString(),
  );
});

test('the SQL skip counts equal the JS ones', async () => {
  const counts = Object.fromEntries(
    (await session.query(transferSkipCountsSql('logs'))).map((row) => [row.reason, Number(row.logs)]),
  );
  const js = decodeTransferRows(logs).skipped;
  assert.deepEqual(counts, Object.fromEntries(Object.entries(js).filter(([, n]) => n > 0)));
});
