import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueIdentifier } from '../../support/names.ts';

const schema = uniqueIdentifier('svc_pg');
const pool = new pg.Pool({ connectionString: stackEnv().DATABASE_URL, max: 2 });

before(async () => {
  await pool.query(`CREATE SCHEMA ${schema}`);
});
after(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
});

test('postgres: a transaction commits rows that a second connection reads back', async () => {
  await pool.query(`CREATE TABLE ${schema}.runs (id text PRIMARY KEY, blocks bigint NOT NULL)`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${schema}.runs VALUES ($1, $2), ($3, $4)`, ['a', 1000, 'b', 2500]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const { rows } = await pool.query(`SELECT id, blocks FROM ${schema}.runs ORDER BY id`);
  assert.deepEqual(rows, [
    { id: 'a', blocks: '1000' },
    { id: 'b', blocks: '2500' },
  ]);
});

test('postgres: a rolled-back transaction leaves nothing behind', async () => {
  await pool.query(`CREATE TABLE ${schema}.rollback_check (id int)`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${schema}.rollback_check VALUES (1)`);
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.rollback_check`);
  assert.equal(rows[0].n, 0);
});
