import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueIdentifier } from '../../support/names.ts';

const database = uniqueIdentifier('svc_ch');
const clickhouse = createClient({ url: stackEnv().CLICKHOUSE_URL });

before(async () => {
  await clickhouse.command({ query: `CREATE DATABASE ${database}` });
});
after(async () => {
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await clickhouse.close();
});

test('clickhouse: rows inserted as JSONEachRow are selected back with their values', async () => {
  await clickhouse.command({
    query: `CREATE TABLE ${database}.markers (chain String, dt Date, min_block UInt64, updated_at DateTime)
            ENGINE = MergeTree ORDER BY (chain, dt, min_block)`,
  });
  await clickhouse.insert({
    table: `${database}.markers`,
    format: 'JSONEachRow',
    values: [
      { chain: 'op', dt: '2024-10-01', min_block: 123400000, updated_at: '2024-10-01 10:00:00' },
      { chain: 'op', dt: '2024-10-02', min_block: 123500000, updated_at: '2024-10-02 10:00:00' },
    ],
  });
  const result = await clickhouse.query({
    query: `SELECT chain, toString(dt) AS dt, min_block FROM ${database}.markers ORDER BY min_block`,
    format: 'JSONEachRow',
  });
  // UInt64 comes back quoted from ClickHouse's JSON formats.
  assert.deepEqual(await result.json(), [
    { chain: 'op', dt: '2024-10-01', min_block: '123400000' },
    { chain: 'op', dt: '2024-10-02', min_block: '123500000' },
  ]);
});
