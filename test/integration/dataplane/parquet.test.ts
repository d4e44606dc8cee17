// Parquet files are standard: whatever wrote them (hyparquet-writer or DuckDB), DuckDB and
// hyparquet read back every value exactly, and both writers produce the same column types.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { GcsLake } from '../../../adapters/lake/gcsLake.ts';
import { LocalLake } from '../../../adapters/lake/localLake.ts';
import { writeQueryParts, writeRowParts } from '../../../adapters/parquet/batchParts.ts';
import {
  DuckDbSession,
  PARQUET_ROW_GROUP_ROWS,
  readParquetSql,
} from '../../../adapters/parquet/duckDbSession.ts';
import type { ParquetRow, ParquetSchema } from '../../../dataplane/parquetSchema.ts';
import { writeParquet } from '../../../adapters/parquet/parquetWriter.ts';
import { InvalidValueError } from '../../../dataplane/validNames.ts';
import { uniqueName } from '../../support/names.ts';
import { stackEnv } from '../../../devtools/stackEnv.ts';

const SCHEMA: ParquetSchema = [
  { name: 'token_address', type: 'string' },
  { name: 'value', type: 'decimal_string' },
  { name: 'block_number', type: 'uint64' },
  { name: 'log_index', type: 'int32' },
  { name: 'delta', type: 'int64' },
  { name: 'price', type: 'float64' },
  { name: 'is_self', type: 'boolean' },
  { name: 'block_timestamp', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'note', type: 'string', nullable: true },
];

const UINT256_MAX = (2n ** 256n - 1n).toString();
const MIDNIGHT = 1_727_740_800; // 2024-10-01T00:00:00Z

function makeRows(count: number): ParquetRow[] {
  const rows: ParquetRow[] = [];
  for (let index = 0; index < count; index++) {
    rows.push({
      token_address: `0x${index.toString(16).padStart(40, '0')}`,
      value: index === 0 ? UINT256_MAX : String(BigInt(index) * 10n ** 18n),
      block_number: index === 1 ? 2n ** 64n - 1n : BigInt(1_000_000 + index),
      log_index: index % 300,
      delta: index === 2 ? -(2n ** 63n) : BigInt(index * 7 - 1000),
      price: index / 8,
      is_self: index % 3 === 0,
      // Half the rows before midnight, half after.
      block_timestamp: MIDNIGHT - count + 2 * index,
      day: index % 2 === 0 ? '2024-02-29' : '1970-01-01',
      note: index % 5 === 0 ? null : `n${index} 'quoted' ünïcode`,
    });
  }
  return rows;
}

/** A row as plain strings, the form both the input and DuckDB's output reduce to. */
function expectedStrings(row: ParquetRow): string[] {
  const timestamp = row.block_timestamp as number;
  return [
    String(row.token_address),
    String(row.value),
    String(row.block_number),
    String(row.log_index),
    String(row.delta),
    String(row.price),
    String(row.is_self),
    String(timestamp * 1000),
    String(row.day),
    String(row.note),
  ];
}

const READ_BACK = `SELECT token_address, value, CAST(block_number AS VARCHAR) AS block_number,
  CAST(log_index AS VARCHAR) AS log_index, CAST(delta AS VARCHAR) AS delta, price,
  CAST(is_self AS VARCHAR) AS is_self, CAST(epoch_ms(block_timestamp) AS VARCHAR) AS ts_ms,
  CAST(day AS VARCHAR) AS day, COALESCE(note, 'null') AS note`;

/** Same rows, reporting the first difference instead of thousands of lines. */
function assertSameRows(actual: string[][], expected: string[][]): void {
  const index = expected.findIndex((row, at) => JSON.stringify(row) !== JSON.stringify(actual[at]));
  if (index !== -1)
    assert.deepEqual({ row: index, values: actual[index] }, { row: index, values: expected[index] });
  assert.equal(actual.length, expected.length);
}

let session: DuckDbSession;
let dir: string;

before(async () => {
  session = await DuckDbSession.open({ threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'parquet-test-'));
});

after(async () => {
  session.close();
  await rm(dir, { recursive: true, force: true });
});

async function readBackWithDuckDb(file: string): Promise<string[][]> {
  const rows = await session.query(
    `${READ_BACK} FROM read_parquet(${readParquetSql([file]).slice('read_parquet('.length, -1)}, file_row_number = true)
     ORDER BY file_row_number`,
  );
  return rows.map((row) => Object.values(row).map((value) => (value === 'null' ? 'null' : String(value))));
}

async function columnTypes(file: string): Promise<unknown[]> {
  return session.query(
    `SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema(${readParquetSql([file]).slice('read_parquet(['.length, -2)}) WHERE name <> 'root' AND name <> 'duckdb_schema' ORDER BY name`,
  );
}

describe('parquet writers', () => {
  const rows = makeRows(3000);

  it('hyparquet-writer: DuckDB reads back every value', async () => {
    const file = join(dir, 'hyparquet.parquet');
    await writeFile(file, writeParquet(SCHEMA, rows));
    assertSameRows(await readBackWithDuckDb(file), rows.map(expectedStrings));
  });

  it('DuckDB: DuckDB reads back every value', async () => {
    const file = join(dir, 'duckdb.parquet');
    assert.equal(await session.writeRowsToParquet(SCHEMA, rows, file), rows.length);
    assertSameRows(await readBackWithDuckDb(file), rows.map(expectedStrings));
  });

  it('DuckDB-written files read the same with hyparquet', async () => {
    const file = join(dir, 'duckdb-cross.parquet');
    await session.writeRowsToParquet(SCHEMA, rows, file);
    const contents = await readFile(file);
    const read = await parquetReadObjects({
      file: contents.buffer.slice(contents.byteOffset, contents.byteOffset + contents.byteLength),
      utf8: true,
    });
    assert.equal(read.length, rows.length);
    read.forEach((row, index) => {
      const input = rows[index]!;
      assert.equal(row.token_address, input.token_address);
      assert.equal(row.value, input.value);
      assert.equal(BigInt(row.block_number), input.block_number);
      assert.equal(row.log_index, input.log_index);
      assert.equal(BigInt(row.delta), input.delta);
      assert.equal(row.price, input.price);
      assert.equal(row.is_self, input.is_self);
      assert.equal((row.block_timestamp as Date).getTime(), (input.block_timestamp as number) * 1000);
      assert.equal((row.day as Date).toISOString().slice(0, 10), input.day);
      assert.equal(row.note ?? null, input.note);
    });
  });

  it('both writers produce the same column types', async () => {
    const fromJs = join(dir, 'types-js.parquet');
    const fromDuckDb = join(dir, 'types-duckdb.parquet');
    await writeFile(fromJs, writeParquet(SCHEMA, rows.slice(0, 10)));
    await session.writeRowsToParquet(SCHEMA, rows.slice(0, 10), fromDuckDb);
    const [js, duck] = [await columnTypes(fromJs), await columnTypes(fromDuckDb)];
    assert.equal(js.length, SCHEMA.length);
    assert.deepEqual(
      js.map((column) => [(column as { name: string }).name, (column as { type: string }).type]),
      duck.map((column) => [(column as { name: string }).name, (column as { type: string }).type]),
    );
    assert.deepEqual(
      js.map((column) => (column as { converted_type: string }).converted_type),
      duck.map((column) => (column as { converted_type: string }).converted_type),
    );
    // Both mark timestamps as UTC instants (hyparquet-writer also adds the modern STRING and
    // DATE logical types, which DuckDB leaves to the legacy converted types above).
    const timestampType = (columns: unknown[]) =>
      (
        columns.find((column) => (column as { name: string }).name === 'block_timestamp') as {
          logical_type: string;
        }
      ).logical_type;
    assert.match(timestampType(js), /isAdjustedToUTC=1.*MICROS=MicroSeconds/);
    assert.equal(timestampType(js), timestampType(duck));
  });

  it('writes an empty file that still carries the schema', async () => {
    const file = join(dir, 'empty.parquet');
    await writeFile(file, writeParquet(SCHEMA, []));
    assert.deepEqual(await readBackWithDuckDb(file), []);
    assert.equal((await columnTypes(file)).length, SCHEMA.length);
  });

  it('DuckDB writes row groups of PARQUET_ROW_GROUP_ROWS (its writer holds one in memory), rows in order', async () => {
    const file = join(dir, 'row-groups.parquet');
    const total = PARQUET_ROW_GROUP_ROWS * 2 + 5;
    assert.equal(await session.copyToParquet(`SELECT range AS n FROM range(${total})`, file), total);
    const path = readParquetSql([file]).slice('read_parquet(['.length, -2);
    const groups = await session.query(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${path}) ORDER BY row_group_id`,
    );
    assert.deepEqual(
      groups.map((group) => Number(group.row_group_num_rows)),
      [PARQUET_ROW_GROUP_ROWS, PARQUET_ROW_GROUP_ROWS, 5],
    );
    const [order] = await session.query(
      `SELECT count(*) FILTER (WHERE n <> file_row_number) AS misplaced FROM read_parquet(${path}, file_row_number = true)`,
    );
    assert.equal(order?.misplaced, 0n);
  });

  it('refuses a row that does not fit the schema, in both writers', async () => {
    const bad = [{ ...rows[0]!, value: '12.5' }];
    assert.throws(() => writeParquet(SCHEMA, bad), InvalidValueError);
    await assert.rejects(
      () => session.writeRowsToParquet(SCHEMA, bad, join(dir, 'bad.parquet')),
      InvalidValueError,
    );
  });
});

describe('batch parts in the lake', () => {
  const ROOT = 'blockbatch/token_transfers/erc20_transfers_v1';
  const batch = { minBlock: 1200, maxBlock: 1300 };
  const rows = makeRows(400);
  const timestampOf = (row: ParquetRow) => row.block_timestamp as number;
  const twoDays = [
    { dt: '2024-09-30', minBlock: 1200, maxBlock: 1250 },
    { dt: '2024-10-01', minBlock: 1250, maxBlock: 1300 },
  ];

  for (const writer of ['hyparquet-writer', 'DuckDB'] as const) {
    it(`${writer}: a batch straddling midnight writes one file per day`, async () => {
      const lake = new LocalLake(await mkdtemp(join(dir, 'lake-')));
      const parts = await writeRowParts(
        { lake, rootPath: ROOT, chain: 'op', batch },
        {
          schema: SCHEMA,
          rows,
          timestampOf,
          days: twoDays,
          session: writer === 'DuckDB' ? session : undefined,
        },
      );
      assert.deepEqual(parts, [
        { ...twoDays[0], dataPath: `${ROOT}/chain=op/dt=2024-09-30/000000001200.parquet`, rowCount: 200 },
        { ...twoDays[1], dataPath: `${ROOT}/chain=op/dt=2024-10-01/000000001200.parquet`, rowCount: 200 },
      ]);
      assert.deepEqual(
        await lake.list(''),
        parts.map((part) => part.dataPath),
      );
      const firstDay = await readBackWithDuckDb(lake.localFileOf(parts[0]!.dataPath));
      assertSameRows(firstDay, rows.slice(0, 200).map(expectedStrings));
    });
  }

  it('a DuckDB query writes its parts without rows passing through JS, empty days included', async () => {
    const lake = new LocalLake(await mkdtemp(join(dir, 'lake-')));
    const input = join(dir, 'input.parquet');
    await session.writeRowsToParquet(SCHEMA, rows, input);
    const parts = await writeQueryParts(
      { lake, rootPath: ROOT, chain: 'op', batch },
      {
        session,
        query: `SELECT token_address, value, block_number, block_timestamp FROM ${readParquetSql([input])} WHERE is_self`,
        timestampColumn: 'block_timestamp',
        days: [
          { dt: '2024-09-30', minBlock: 1200, maxBlock: 1250 },
          { dt: '2024-10-01', minBlock: 1250, maxBlock: 1290 },
          { dt: '2024-10-02', minBlock: 1290, maxBlock: 1300 },
        ],
      },
    );
    const selfRows = (from: number, to: number) => rows.slice(from, to).filter((row) => row.is_self).length;
    assert.deepEqual(
      parts.map((part) => [part.dt, part.minBlock, part.maxBlock, part.rowCount]),
      [
        ['2024-09-30', 1200, 1250, selfRows(0, 200)],
        ['2024-10-01', 1250, 1290, selfRows(200, 400)],
        ['2024-10-02', 1290, 1300, 0],
      ],
    );
    const counted = await session.query(
      `SELECT count(*) AS n, count(DISTINCT value) AS values FROM ${readParquetSql(parts.map((part) => lake.localFileOf(part.dataPath)))}`,
    );
    assert.deepEqual(counted, [{ n: BigInt(selfRows(0, 400)), values: BigInt(selfRows(0, 400)) }]);
    const empty = await session.query(
      `SELECT count(*) AS n FROM ${readParquetSql([lake.localFileOf(parts[2]!.dataPath)])}`,
    );
    assert.deepEqual(empty, [{ n: 0n }]);
  });

  it('refuses query rows on a day the batch does not have', async () => {
    const lake = new LocalLake(await mkdtemp(join(dir, 'lake-')));
    const input = join(dir, 'input-stray.parquet');
    await session.writeRowsToParquet(SCHEMA, rows, input);
    await assert.rejects(
      () =>
        writeQueryParts(
          { lake, rootPath: ROOT, chain: 'op', batch },
          {
            session,
            query: `SELECT * FROM ${readParquetSql([input])}`,
            timestampColumn: 'block_timestamp',
            days: [{ dt: '2024-10-01', minBlock: 1200, maxBlock: 1300 }],
          },
        ),
      /outside the batch's 2024-10-01: 2024-09-30/,
    );
    assert.deepEqual(await lake.list(''), []);
  });

  it('publishes DuckDB parts to GCS', async () => {
    const lake = new GcsLake({ bucket: uniqueName('parts'), endpoint: stackEnv().GCS_ENDPOINT });
    await lake.ensureBucket();
    try {
      const parts = await writeRowParts(
        { lake, rootPath: ROOT, chain: 'op', batch },
        { schema: SCHEMA, rows, timestampOf, days: twoDays, session },
      );
      const local = join(dir, 'from-gcs.parquet');
      await lake.copyToLocalFile(parts[1]!.dataPath, local);
      assertSameRows(await readBackWithDuckDb(local), rows.slice(200).map(expectedStrings));
    } finally {
      await lake.delete();
      await lake.storage.bucket(new URL(lake.url).hostname).delete();
    }
  });
});
