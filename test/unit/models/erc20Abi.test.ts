import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbiDecodeError } from '../../../models/abi/abiWords.ts';
import {
  decodeDecimalsResult,
  decodeSymbolResult,
  decodeUint256Result,
  encodeBalanceOf,
  encodeDecimals,
  encodeSymbol,
} from '../../../models/abi/erc20Calls.ts';
import { ERC20_TRANSFER_TOPIC, decodeTransferLog } from '../../../models/abi/erc20TransferLog.ts';

const FROM = '0x1111111111111111111111111111111111111111';
const TO = '0x2222222222222222222222222222222222222222';
const topic = (address: string): string => `0x${address.slice(2).padStart(64, '0')}`;
const word = (value: bigint): string => value.toString(16).padStart(64, '0');

test('Transfer logs decode to from, to and an exact decimal value; look-alikes are classified', () => {
  const cases: {
    name: string;
    topics: string[];
    data: string;
    expected: ReturnType<typeof decodeTransferLog>;
  }[] = [
    {
      name: 'plain transfer',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(TO)],
      data: `0x${word(1000n)}`,
      expected: { ok: true, transfer: { from: FROM, to: TO, value: '1000' } },
    },
    {
      name: 'zero value',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(TO)],
      data: `0x${word(0n)}`,
      expected: { ok: true, transfer: { from: FROM, to: TO, value: '0' } },
    },
    {
      name: 'max uint256, beyond any 128-bit integer',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(FROM)],
      data: `0x${'f'.repeat(64)}`,
      expected: { ok: true, transfer: { from: FROM, to: FROM, value: (2n ** 256n - 1n).toString() } },
    },
    {
      name: 'mixed-case hex from a node',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM).toUpperCase().replace('0X', '0x'), topic(TO)],
      data: `0x${word(2n ** 128n).toUpperCase()}`,
      expected: { ok: true, transfer: { from: FROM, to: TO, value: (2n ** 128n).toString() } },
    },
    {
      name: 'ERC-721: token id indexed, 4 topics',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(TO), `0x${word(7n)}`],
      data: '0x',
      expected: { ok: false, reason: 'wrong_topic_count' },
    },
    {
      name: 'nothing indexed: 1 topic',
      topics: [ERC20_TRANSFER_TOPIC],
      data: `0x${word(1n)}${word(2n)}${word(3n)}`,
      expected: { ok: false, reason: 'wrong_topic_count' },
    },
    {
      name: 'short data',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(TO)],
      data: `0x${'00'.repeat(16)}`,
      expected: { ok: false, reason: 'wrong_data_length' },
    },
    {
      name: 'no data',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(TO)],
      data: '0x',
      expected: { ok: false, reason: 'wrong_data_length' },
    },
    {
      name: 'extra data',
      topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(TO)],
      data: `0x${word(1n)}${word(1n)}`,
      expected: { ok: false, reason: 'wrong_data_length' },
    },
    {
      name: 'dirty address padding',
      topics: [ERC20_TRANSFER_TOPIC, `0x${'ff'.repeat(12)}${FROM.slice(2)}`, topic(TO)],
      data: `0x${word(1n)}`,
      expected: { ok: false, reason: 'malformed_address' },
    },
  ];
  for (const { name, topics, data, expected } of cases) {
    assert.deepEqual(decodeTransferLog({ topics, data }), expected, name);
  }
});

test('a Transfer log whose data is not hex is a corrupt input and throws', () => {
  assert.throws(
    () =>
      decodeTransferLog({
        topics: [ERC20_TRANSFER_TOPIC, topic(FROM), topic(TO)],
        data: `0x${'zz'.repeat(32)}`,
      }),
    (e: unknown) => e instanceof AbiDecodeError && /log data is not hex/.test(e.message),
  );
});

test('ERC-20 calls encode selector and argument words', () => {
  assert.equal(encodeBalanceOf(TO), `0x70a08231${'0'.repeat(24)}${TO.slice(2)}`);
  assert.equal(encodeBalanceOf(TO.toUpperCase().replace('0X', '0x')), encodeBalanceOf(TO));
  assert.equal(encodeDecimals(), '0x313ce567');
  assert.equal(encodeSymbol(), '0x95d89b41');
  assert.throws(() => encodeBalanceOf('0x1234'), AbiDecodeError);
});

test('uint256 and decimals results decode exactly or fail clearly', () => {
  assert.equal(decodeUint256Result(`0x${word(2n ** 255n + 1n)}`), (2n ** 255n + 1n).toString());
  assert.equal(decodeDecimalsResult(`0x${word(18n)}`), 18);
  assert.equal(decodeDecimalsResult(`0x${word(0n)}`), 0);
  const failures: { name: string; run: () => unknown; message: RegExp }[] = [
    { name: 'empty answer', run: () => decodeUint256Result('0x'), message: /expected 32 bytes, got 0/ },
    { name: 'short answer', run: () => decodeUint256Result('0x0102'), message: /expected 32 bytes/ },
    { name: 'not hex', run: () => decodeUint256Result('0xzz'), message: /not whole hex bytes/ },
    {
      name: 'decimals above uint8',
      run: () => decodeDecimalsResult(`0x${word(256n)}`),
      message: /does not fit uint8/,
    },
  ];
  for (const { name, run, message } of failures)
    assert.throws(run, (e: unknown) => e instanceof AbiDecodeError && message.test(e.message), name);
});

function abiString(text: string): string {
  const bytes = Buffer.from(text, 'utf8').toString('hex');
  return `0x${word(32n)}${word(BigInt(bytes.length / 2))}${bytes.padEnd(Math.max(64, Math.ceil(bytes.length / 64) * 64), '0')}`;
}

test('symbol() results: ABI strings and old bytes32 symbols', () => {
  const cases: { name: string; data: string; expected: string }[] = [
    { name: 'string', data: abiString('USDC'), expected: 'USDC' },
    { name: 'empty string', data: `0x${word(32n)}${word(0n)}`, expected: '' },
    { name: 'long string', data: abiString('A'.repeat(40)), expected: 'A'.repeat(40) },
    { name: 'unicode string', data: abiString('Ξ-ETH'), expected: 'Ξ-ETH' },
    {
      name: 'bytes32 (MKR)',
      data: `0x${Buffer.from('MKR').toString('hex').padEnd(64, '0')}`,
      expected: 'MKR',
    },
  ];
  for (const { name, data, expected } of cases) assert.equal(decodeSymbolResult(data), expected, name);
  const failures: { name: string; data: string; message: RegExp }[] = [
    { name: 'empty', data: '0x', message: /neither string nor bytes32/ },
    { name: 'offset out of range', data: `0x${word(4096n)}${word(1n)}`, message: /offset 4096 out of range/ },
    {
      name: 'length beyond data',
      data: `0x${word(32n)}${word(100n)}${'41'.repeat(32)}`,
      message: /length 100 exceeds/,
    },
    { name: 'invalid utf-8', data: `0x${'ff'.repeat(32)}`, message: /not valid UTF-8/ },
  ];
  for (const { name, data, message } of failures) {
    assert.throws(
      () => decodeSymbolResult(data),
      (e: unknown) => e instanceof AbiDecodeError && message.test(e.message),
      name,
    );
  }
});
