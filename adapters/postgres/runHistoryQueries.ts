// Reads the run history for people (`model-runner runs list|show`). Rows come back in the
// shapes of contract/runHistory.ts: times as ISO strings, block numbers and counts as numbers.
// Every filter value travels as a query parameter.
import type pg from 'pg';
import {
  RUN_PHASES,
  type ModelRunBatchRow,
  type ModelRunRow,
  type ModelRunTransitionRow,
  type RunPhaseName,
} from '../../contract/runHistory.ts';
import { HISTORY_SCHEMA } from './historySchema.ts';

type Queryable = Pick<pg.ClientBase, 'query'>;

export interface RunListFilter {
  model?: string;
  chain?: string;
  phase?: RunPhaseName;
  /** Runs created at or after this time. */
  since?: Date;
  /** Newest first, at most this many. */
  limit: number;
}

/** Which run: its uid, or the newest run of a namespace/name. */
export type RunReference = { uid: string } | { namespace: string; name: string };

const RUN_COLUMNS = `uid, namespace, name, model, version, chain, executor, queue, job_name, min_block, max_block,
  phase, batches_total, batches_succeeded, batches_failed, batches_skipped, reason, message, schedule,
  created_at, started_at, finished_at`;

function isoOrNull(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : value === null ? null : String(value);
}

/** bigint columns arrive as strings (pg does not guess at precision); block numbers fit a double. */
function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function runRow(raw: Record<string, unknown>): ModelRunRow {
  return {
    ...(raw as unknown as ModelRunRow),
    min_block: numberOrNull(raw.min_block),
    max_block: numberOrNull(raw.max_block),
    created_at: isoOrNull(raw.created_at)!,
    started_at: isoOrNull(raw.started_at),
    finished_at: isoOrNull(raw.finished_at),
  };
}

function batchRow(raw: Record<string, unknown>): ModelRunBatchRow {
  return {
    ...(raw as unknown as ModelRunBatchRow),
    min_block: Number(raw.min_block),
    max_block: Number(raw.max_block),
    started_at: isoOrNull(raw.started_at),
    finished_at: isoOrNull(raw.finished_at),
    rows: numberOrNull(raw.rows),
  };
}

/** Whether the operator has created the history schema in this database. */
export async function historySchemaExists(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    `${HISTORY_SCHEMA}.model_runs`,
  ]);
  return rows[0]?.present === true;
}

export async function listRuns(db: Queryable, filter: RunListFilter): Promise<ModelRunRow[]> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const where = (sql: string, value: unknown) => {
    values.push(value);
    conditions.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.model !== undefined) where('model = ?', filter.model);
  if (filter.chain !== undefined) where('chain = ?', filter.chain);
  if (filter.phase !== undefined) where('phase = ?', filter.phase);
  if (filter.since !== undefined) where('created_at >= ?', filter.since.toISOString());
  values.push(filter.limit);
  const { rows } = await db.query(
    `SELECT ${RUN_COLUMNS} FROM ${HISTORY_SCHEMA}.model_runs
     ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
     ORDER BY created_at DESC, uid LIMIT $${values.length}`,
    values,
  );
  return rows.map(runRow);
}

export async function findRun(db: Queryable, reference: RunReference): Promise<ModelRunRow | undefined> {
  const { rows } =
    'uid' in reference
      ? await db.query(`SELECT ${RUN_COLUMNS} FROM ${HISTORY_SCHEMA}.model_runs WHERE uid = $1`, [
          reference.uid,
        ])
      : await db.query(
          `SELECT ${RUN_COLUMNS} FROM ${HISTORY_SCHEMA}.model_runs WHERE namespace = $1 AND name = $2
           ORDER BY created_at DESC, uid LIMIT 1`,
          [reference.namespace, reference.name],
        );
  return rows[0] ? runRow(rows[0]) : undefined;
}

export async function runBatches(db: Queryable, runUid: string): Promise<ModelRunBatchRow[]> {
  const { rows } = await db.query(
    `SELECT run_uid, min_block, max_block, state, attempts, last_error, worker, started_at, finished_at, "rows"
     FROM ${HISTORY_SCHEMA}.model_run_batches WHERE run_uid = $1 ORDER BY min_block`,
    [runUid],
  );
  return rows.map(batchRow);
}

export async function runTransitions(db: Queryable, runUid: string): Promise<ModelRunTransitionRow[]> {
  const { rows } = await db.query(
    `SELECT run_uid, phase, reason, at FROM ${HISTORY_SCHEMA}.model_run_transitions
     WHERE run_uid = $1 ORDER BY at, array_position($2::text[], phase)`,
    [runUid, RUN_PHASES],
  );
  return rows.map((raw: Record<string, unknown>) => ({
    ...(raw as unknown as ModelRunTransitionRow),
    at: isoOrNull(raw.at)!,
  }));
}
