// The SQL uint256 → decimal conversion against JS BigInt, on boundaries and on random
// values of every width. DuckDB runs in process (a library, not a service).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DuckDbSession } from '../../../adapters/parquet/duckDbSession.ts';
import {
  bigUint256ToDecimalSql,
  smallUint256ToDecimalSql,
  uint256FitsHugeintSql,
  uint256HexToDecimalSql,
} from '../../../models/erc20_transfers/uint256DecimalSql.ts';

let session: DuckDbSession;
before(async () => {
  session = await DuckDbSession.open({ threads: 1 });
});
after(() => session.close());

/** A deterministic 64-bit draw, so a failure reproduces. */
function* randomValues(count: number): Generator<bigint> {
  let state = 0x1234_5678_9abc_def0n;
  const next = (): bigint => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
    return state;
  };
  for (let i = 0; i < count; i++) {
    const full = (next() << 192n) | (next() << 128n) | (next() << 64n) | next();
    yield full >> BigInt(i % 257); // every width from 256 bits down to 0
  }
}

const boundaries = [
  0n,
  1n,
  9n,
  10n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
  2n ** 64n,
  10n ** 18n - 1n,
  10n ** 18n,
  10n ** 36n,
  2n ** 127n - 1n,
  2n ** 127n,
  2n ** 128n - 1n,
  2n ** 128n,
  10n ** 38n,
  10n ** 72n,
  10n ** 72n - 1n,
  10n ** 76n,
  10n ** 77n,
  2n ** 255n,
  2n ** 256n - 1n,
];

async function convert(values: readonly bigint[], upperCase = false): Promise<string[]> {
  const hex = (value: bigint): string =>
    value.toString(16).padStart(64, '0')[upperCase ? 'toUpperCase' : 'toLowerCase']();
  const literal = values.map((value, i) => `(${i}, '${hex(value)}')`).join(', ');
  const source = `SELECT * FROM (VALUES ${literal}) AS t(i, h)`;
  const rows = await session.query(`
    SELECT i, ${smallUint256ToDecimalSql('h')} AS value FROM (${source}) WHERE ${uint256FitsHugeintSql('h')}
    UNION ALL
    SELECT i, value FROM (${bigUint256ToDecimalSql(`SELECT * FROM (${source}) WHERE NOT ${uint256FitsHugeintSql('h')}`, 'h', 'value')})
    ORDER BY i`);
  return rows.map((row) => row.value as string);
}

test('boundary values convert exactly on both paths', async () => {
  assert.deepEqual(await convert(boundaries), boundaries.map(String));
});

test('two thousand random values of every width convert exactly', async () => {
  const values = [...randomValues(2_000)];
  assert.ok(values.some((value) => value >= 2n ** 127n) && values.some((value) => value < 2n ** 127n));
  assert.deepEqual(await convert(values), values.map(String));
});

test('upper-case hex digits convert the same', async () => {
  const values = [2n ** 127n - 1n, 2n ** 256n - 1n, 0xabcdefn];
  assert.deepEqual(await convert(values, true), values.map(String));
});

test('the single-expression form gives the same decimals', async () => {
  const values = [...boundaries, ...randomValues(100)];
  const literal = values.map((value, i) => `(${i}, '${value.toString(16).padStart(64, '0')}')`).join(', ');
  const rows = await session.query(
    `SELECT ${uint256HexToDecimalSql('h')} AS value FROM (VALUES ${literal}) AS t(i, h) ORDER BY i`,
  );
  assert.deepEqual(
    rows.map((row) => row.value),
    values.map(String),
  );
});
