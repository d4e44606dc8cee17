import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ParquetColumn,
  type ParquetValue,
  canonicalValue,
  duckDbColumnsSql,
  validateSchema,
} from '../../../dataplane/parquetSchema.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';

describe('canonicalValue', () => {
  const good: [ParquetColumn, ParquetValue, ParquetValue][] = [
    [{ name: 'a', type: 'string' }, 'x', 'x'],
    [
      { name: 'a', type: 'decimal_string' },
      '115792089237316195423570985008687907853269984665640564039457584007913129639935',
      '115792089237316195423570985008687907853269984665640564039457584007913129639935',
    ],
    [{ name: 'a', type: 'int32' }, -5, -5],
    [{ name: 'a', type: 'int64' }, 5, 5n],
    [{ name: 'a', type: 'int64' }, -(2n ** 63n), -(2n ** 63n)],
    [{ name: 'a', type: 'uint64' }, 2n ** 64n - 1n, 2n ** 64n - 1n],
    [{ name: 'a', type: 'float64' }, 1.5, 1.5],
    [{ name: 'a', type: 'boolean' }, false, false],
    [{ name: 'a', type: 'timestamp' }, 1_727_740_800, new Date('2024-10-01T00:00:00Z')],
    [{ name: 'a', type: 'date' }, '2024-02-29', '2024-02-29'],
    [{ name: 'a', type: 'string', nullable: true }, null, null],
    [{ name: 'a', type: 'uint64', nullable: true }, undefined, null],
  ];
  for (const [column, input, expected] of good) {
    it(`${column.type}${column.nullable ? '?' : ''}: ${String(input)}`, () => {
      assert.deepEqual(canonicalValue(column, input), expected);
    });
  }

  const bad: [ParquetColumn, ParquetValue][] = [
    [{ name: 'a', type: 'string' }, null],
    [{ name: 'a', type: 'string' }, 5],
    [{ name: 'a', type: 'decimal_string' }, '1e18'],
    [{ name: 'a', type: 'decimal_string' }, '0x10'],
    [{ name: 'a', type: 'int32' }, 2 ** 31],
    [{ name: 'a', type: 'int32' }, 1.5],
    [{ name: 'a', type: 'int64' }, 2n ** 63n],
    [{ name: 'a', type: 'int64' }, 2 ** 60],
    [{ name: 'a', type: 'uint64' }, -1n],
    [{ name: 'a', type: 'uint64' }, 2n ** 64n],
    [{ name: 'a', type: 'float64' }, '1'],
    [{ name: 'a', type: 'boolean' }, 1],
    [{ name: 'a', type: 'timestamp' }, 'yesterday'],
    [{ name: 'a', type: 'timestamp' }, new Date('nope')],
    [{ name: 'a', type: 'date' }, '2024-02-30'],
  ];
  for (const [column, input] of bad) {
    it(`refuses ${String(input)} as ${column.type}`, () => {
      assert.throws(() => canonicalValue(column, input), InvalidValueError);
    });
  }
});

describe('schemas', () => {
  it('maps columns to DuckDB types', () => {
    assert.equal(
      duckDbColumnsSql([
        { name: 'block_number', type: 'uint64' },
        { name: 'value', type: 'decimal_string' },
        { name: 'block_timestamp', type: 'timestamp' },
        { name: 'note', type: 'string', nullable: true },
      ]),
      '"block_number" UBIGINT NOT NULL, "value" VARCHAR NOT NULL, "block_timestamp" TIMESTAMPTZ NOT NULL, "note" VARCHAR',
    );
  });

  const bad: [string, ParquetColumn[]][] = [
    ['no columns', []],
    ['a quoted name', [{ name: 'a"; DROP', type: 'string' }]],
    ['an upper-case name', [{ name: 'Block', type: 'string' }]],
    [
      'a duplicate',
      [
        { name: 'a', type: 'string' },
        { name: 'a', type: 'int32' },
      ],
    ],
    ['an unknown type', [{ name: 'a', type: 'uint256' as 'string' }]],
  ];
  for (const [name, schema] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => validateSchema(schema), InvalidValueError));
  }
});
