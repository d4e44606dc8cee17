// The run history's schema `model_runner`, created and migrated by every operator at start.
// Migrations are numbered and applied in order, each once: `model_runner.schema_migrations`
// records what is applied. The whole migration runs in one transaction holding a
// transaction-scoped advisory lock, so operators starting at once take turns (the second finds
// the work done) and a failed migration leaves nothing half-applied.
// Block ranges follow the markers: min_block inclusive, max_block exclusive.
import type pg from 'pg';
import { inTransaction } from './transaction.ts';

export const HISTORY_SCHEMA = 'model_runner';

/** pg_advisory_xact_lock key of the migrations: "modelrun" in ASCII, as a bigint. */
const MIGRATION_LOCK_KEY = '7885631859322942830';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration never changes; a change is a new version. */
export const HISTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, batches and transitions',
    sql: `
CREATE TABLE model_runner.model_runs (
  uid text PRIMARY KEY,
  namespace text NOT NULL,
  name text NOT NULL,
  model text NOT NULL,
  version text,
  chain text NOT NULL,
  executor text NOT NULL,
  queue text,
  job_name text,
  min_block bigint,
  max_block bigint,
  phase text NOT NULL,
  batches_total integer NOT NULL DEFAULT 0,
  batches_succeeded integer NOT NULL DEFAULT 0,
  batches_failed integer NOT NULL DEFAULT 0,
  batches_skipped integer NOT NULL DEFAULT 0,
  reason text,
  message text,
  schedule text,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  CHECK (max_block IS NULL OR max_block > min_block)
);
CREATE INDEX model_runs_created_at ON model_runner.model_runs (created_at DESC);
CREATE INDEX model_runs_by_name ON model_runner.model_runs (namespace, name, created_at DESC);
CREATE INDEX model_runs_by_model ON model_runner.model_runs (model, chain, created_at DESC);

CREATE TABLE model_runner.model_run_batches (
  run_uid text NOT NULL REFERENCES model_runner.model_runs (uid) ON DELETE CASCADE,
  min_block bigint NOT NULL,
  max_block bigint NOT NULL,
  state text NOT NULL,
  attempts integer NOT NULL,
  last_error text,
  worker text,
  started_at timestamptz,
  finished_at timestamptz,
  "rows" bigint,
  PRIMARY KEY (run_uid, min_block),
  CHECK (max_block > min_block)
);

CREATE TABLE model_runner.model_run_transitions (
  run_uid text NOT NULL REFERENCES model_runner.model_runs (uid) ON DELETE CASCADE,
  phase text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (run_uid, phase)
);
`,
  },
];

export interface MigrationResult {
  /** Versions this call applied (empty when another operator, or an earlier start, did). */
  applied: number[];
  /** The newest version in the database afterwards. */
  version: number;
}

/** Brings the schema to the newest migration; safe to call from any number of operators at once. */
export async function migrateHistorySchema(
  pool: Pick<pg.Pool, 'connect'>,
  migrations: readonly Migration[] = HISTORY_MIGRATIONS,
): Promise<MigrationResult> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${HISTORY_SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${HISTORY_SCHEMA}.schema_migrations`,
    );
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${HISTORY_SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return { applied, version: Math.max(0, ...done, ...applied) };
  });
}
