import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcError } from '../../../adapters/ethereum/rpcErrors.ts';
import { parseBlock, parseLogs } from '../../../adapters/ethereum/rpcShapes.ts';
import { toQuantity } from '../../../adapters/ethereum/ethereumRpc.ts';

const HASH_A = `0x${'a'.repeat(64)}`;
const HASH_B = `0x${'B'.repeat(64)}`;
const ADDR = `0x${'C'.repeat(40)}`;

function rawTx(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hash: HASH_A,
    blockNumber: '0x10',
    transactionIndex: '0x0',
    from: ADDR,
    to: null,
    value: '0xde0b6b3a7640000',
    nonce: '0x1',
    gas: '0x5208',
    gasPrice: '0x3b9aca00',
    maxFeePerGas: '0x77359400',
    maxPriorityFeePerGas: '0x1',
    input: '0xABCD',
    type: '0x2',
    ...overrides,
  };
}

function rawBlock(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    number: '0x10',
    hash: HASH_B,
    parentHash: HASH_A,
    timestamp: '0x6553f100',
    miner: ADDR,
    gasLimit: '0x1c9c380',
    gasUsed: '0x5208',
    baseFeePerGas: '0x7',
    transactions: [rawTx()],
    ...overrides,
  };
}

test('a full block parses to typed values: lower-case hex, exact decimals', () => {
  const block = parseBlock(rawBlock());
  assert.deepEqual(block, {
    number: 16,
    hash: HASH_B.toLowerCase(),
    parentHash: HASH_A,
    timestamp: 0x6553f100,
    miner: ADDR.toLowerCase(),
    gasLimit: 30_000_000,
    gasUsed: 21_000,
    baseFeePerGas: '7',
    transactions: [
      {
        hash: HASH_A,
        blockNumber: 16,
        transactionIndex: 0,
        from: ADDR.toLowerCase(),
        to: null,
        value: '1000000000000000000',
        nonce: 1,
        gas: 21_000,
        gasPrice: '1000000000',
        maxFeePerGas: '2000000000',
        maxPriorityFeePerGas: '1',
        input: '0xabcd',
        type: 2,
      },
    ],
  });
});

test('pre-London blocks and legacy transactions have null fee fields and type 0', () => {
  const block = parseBlock(
    rawBlock({
      baseFeePerGas: undefined,
      transactions: [rawTx({ maxFeePerGas: undefined, maxPriorityFeePerGas: undefined, type: undefined })],
    }),
  );
  assert.equal(block.baseFeePerGas, null);
  assert.equal(block.transactions[0]!.maxFeePerGas, null);
  assert.equal(block.transactions[0]!.type, 0);
});

test('garbage in a block is a clear invalid-response error, never undefined', () => {
  const cases: { name: string; block: unknown; message: RegExp }[] = [
    { name: 'null', block: null, message: /block must be an object/ },
    { name: 'a string', block: 'oops', message: /block must be an object/ },
    {
      name: 'hash-only transactions',
      block: rawBlock({ transactions: [HASH_A] }),
      message: /transactions\[0\] must be an object/,
    },
    {
      name: 'missing number',
      block: rawBlock({ number: undefined }),
      message: /block\.number must be a hex quantity/,
    },
    {
      name: 'decimal number',
      block: rawBlock({ number: 16 }),
      message: /block\.number must be a hex quantity/,
    },
    {
      name: 'short hash',
      block: rawBlock({ hash: '0x1234' }),
      message: /block\.hash must be a 32-byte hash/,
    },
    {
      name: 'bad miner',
      block: rawBlock({ miner: '0xzz' }),
      message: /block\.miner must be a 20-byte address/,
    },
    {
      name: 'huge timestamp',
      block: rawBlock({ timestamp: '0xffffffffffffffff' }),
      message: /exceeds 2\^53/,
    },
    {
      name: 'odd input',
      block: rawBlock({ transactions: [rawTx({ input: '0xabc' })] }),
      message: /input must be hex data/,
    },
    {
      name: 'tx of another block',
      block: rawBlock({ transactions: [rawTx({ blockNumber: '0x11' })] }),
      message: /claims block 17/,
    },
  ];
  for (const { name, block, message } of cases) {
    assert.throws(
      () => parseBlock(block),
      (error: unknown) =>
        error instanceof RpcError && error.kind === 'invalid-response' && message.test(error.message),
      name,
    );
  }
});

function rawLog(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    address: ADDR,
    topics: [HASH_A, HASH_B],
    data: '0x',
    blockNumber: '0x10',
    blockHash: HASH_B,
    transactionHash: HASH_A,
    transactionIndex: '0x3',
    logIndex: '0x7',
    removed: false,
    ...overrides,
  };
}

test('logs parse with lower-cased topics and numeric indexes', () => {
  assert.deepEqual(parseLogs([rawLog()]), [
    {
      address: ADDR.toLowerCase(),
      topics: [HASH_A, HASH_B.toLowerCase()],
      data: '0x',
      blockNumber: 16,
      blockHash: HASH_B.toLowerCase(),
      transactionHash: HASH_A,
      transactionIndex: 3,
      logIndex: 7,
      removed: false,
    },
  ]);
});

test('garbage logs are invalid responses', () => {
  const cases: { name: string; logs: unknown; message: RegExp }[] = [
    { name: 'not an array', logs: { logs: [] }, message: /result must be an array/ },
    {
      name: 'five topics',
      logs: [rawLog({ topics: [HASH_A, HASH_A, HASH_A, HASH_A, HASH_A] })],
      message: /at most 4/,
    },
    { name: 'pending log', logs: [rawLog({ logIndex: null })], message: /logIndex must be a hex quantity/ },
    {
      name: 'bad topic',
      logs: [rawLog({ topics: ['0x12'] })],
      message: /topics\[0\] must be a 32-byte hash/,
    },
  ];
  for (const { name, logs, message } of cases) {
    assert.throws(
      () => parseLogs(logs),
      (error: unknown) =>
        error instanceof RpcError && error.kind === 'invalid-response' && message.test(error.message),
      name,
    );
  }
});

test('block numbers become hex quantities', () => {
  assert.equal(toQuantity(0), '0x0');
  assert.equal(toQuantity(255), '0xff');
  assert.throws(() => toQuantity(-1), RangeError);
  assert.throws(() => toQuantity(1.5), RangeError);
});
