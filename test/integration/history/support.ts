// Shared by the run-history tests: a Postgres database of the test's own on the stack's server
// (created empty, dropped at the end), and rows to write.
import pg from 'pg';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueIdentifier } from '../../support/names.ts';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** The stack's DATABASE_URL with another database. */
export function databaseUrl(database: string, server = stackEnv().DATABASE_URL): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = uniqueIdentifier(prefix);
  const admin = new pg.Client({ connectionString: stackEnv().DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      const cleanup = new pg.Client({ connectionString: stackEnv().DATABASE_URL });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
