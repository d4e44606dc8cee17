// Writes the run history: every row of one write in one transaction, as a few multi-row upserts
// (rows travel as one JSON parameter, unpacked by jsonb_to_recordset) rather than a statement
// per row. Upserts are idempotent: writing the same rows again changes nothing, and a row is
// only rewritten when a column differs. Two guards keep a stale writer from undoing history:
// a finished run is never made unfinished again, and a succeeded or skipped batch is final.
import type pg from 'pg';
import type {
  HistoryRows,
  ModelRunBatchRow,
  ModelRunRow,
  ModelRunTransitionRow,
} from '../../contract/runHistory.ts';
import { HISTORY_SCHEMA } from './historySchema.ts';
import { inTransaction } from './transaction.ts';

/** Rows per statement: large writes (a full reconcile) go in several statements of this size. */
const ROWS_PER_STATEMENT = 500;

interface TableSpec<Row> {
  table: string;
  key: (keyof Row & string)[];
  columns: [keyof Row & string, string][];
  /** Extra condition for replacing an existing row (`t` is the stored row). */
  guard?: string;
}

const RUNS: TableSpec<ModelRunRow> = {
  table: 'model_runs',
  key: ['uid'],
  columns: [
    ['uid', 'text'],
    ['namespace', 'text'],
    ['name', 'text'],
    ['model', 'text'],
    ['version', 'text'],
    ['chain', 'text'],
    ['executor', 'text'],
    ['queue', 'text'],
    ['job_name', 'text'],
    ['min_block', 'bigint'],
    ['max_block', 'bigint'],
    ['phase', 'text'],
    ['batches_total', 'integer'],
    ['batches_succeeded', 'integer'],
    ['batches_failed', 'integer'],
    ['batches_skipped', 'integer'],
    ['reason', 'text'],
    ['message', 'text'],
    ['schedule', 'text'],
    ['created_at', 'timestamptz'],
    ['started_at', 'timestamptz'],
    ['finished_at', 'timestamptz'],
  ],
  guard: 'NOT (t.finished_at IS NOT NULL AND excluded.finished_at IS NULL)',
};

const TRANSITIONS: TableSpec<ModelRunTransitionRow> = {
  table: 'model_run_transitions',
  key: ['run_uid', 'phase'],
  columns: [
    ['run_uid', 'text'],
    ['phase', 'text'],
    ['reason', 'text'],
    ['at', 'timestamptz'],
  ],
};

const BATCHES: TableSpec<ModelRunBatchRow> = {
  table: 'model_run_batches',
  key: ['run_uid', 'min_block'],
  columns: [
    ['run_uid', 'text'],
    ['min_block', 'bigint'],
    ['max_block', 'bigint'],
    ['state', 'text'],
    ['attempts', 'integer'],
    ['last_error', 'text'],
    ['worker', 'text'],
    ['started_at', 'timestamptz'],
    ['finished_at', 'timestamptz'],
    ['rows', 'bigint'],
  ],
  guard: "t.state NOT IN ('succeeded', 'skipped')",
};

const quoted = (column: string) => `"${column}"`;

function upsertStatement<Row>(spec: TableSpec<Row>): string {
  const names = spec.columns.map(([name]) => quoted(name)).join(', ');
  const recordType = spec.columns.map(([name, type]) => `${quoted(name)} ${type}`).join(', ');
  const others = spec.columns.map(([name]) => name).filter((name) => !spec.key.includes(name));
  const stored = others.map((name) => `t.${quoted(name)}`).join(', ');
  const incoming = others.map((name) => `excluded.${quoted(name)}`).join(', ');
  return `INSERT INTO ${HISTORY_SCHEMA}.${spec.table} AS t (${names})
SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS r(${recordType})
ON CONFLICT (${spec.key.map(quoted).join(', ')}) DO UPDATE SET ${others
    .map((name) => `${quoted(name)} = excluded.${quoted(name)}`)
    .join(', ')}
WHERE (${stored}) IS DISTINCT FROM (${incoming})${spec.guard ? ` AND ${spec.guard}` : ''}`;
}

const STATEMENTS = {
  runs: upsertStatement(RUNS),
  transitions: upsertStatement(TRANSITIONS),
  batches: upsertStatement(BATCHES),
};

/** One row per key, the last given winning: a statement may not touch a row twice. */
function uniqueByKey<Row>(spec: TableSpec<Row>, rows: readonly Row[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const row of rows) byKey.set(JSON.stringify(spec.key.map((column) => row[column])), row);
  return [...byKey.values()];
}

export interface WriteCounts {
  runs: number;
  transitions: number;
  batches: number;
}

export class RunHistoryStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Upserts every row in one transaction (runs first: batches and transitions refer to them). */
  async write(rows: HistoryRows): Promise<WriteCounts> {
    return inTransaction(this.#pool, async (client) => ({
      runs: await this.#upsert(client, STATEMENTS.runs, uniqueByKey(RUNS, rows.runs)),
      transitions: await this.#upsert(
        client,
        STATEMENTS.transitions,
        uniqueByKey(TRANSITIONS, rows.transitions),
      ),
      batches: await this.#upsert(client, STATEMENTS.batches, uniqueByKey(BATCHES, rows.batches)),
    }));
  }

  /** Rows actually inserted or changed. */
  async #upsert(client: pg.PoolClient, statement: string, rows: readonly object[]): Promise<number> {
    let changed = 0;
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
      const result = await client.query(statement, [JSON.stringify(chunk)]);
      changed += result.rowCount ?? 0;
    }
    return changed;
  }
}
