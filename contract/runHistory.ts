// The run history's rows, as the tables of the Postgres schema `model_runner` hold them: the
// operator writes them, the CLI reads them. Fields are named exactly as the columns (and so as
// `model-runner runs … --json` prints them). Block ranges follow the markers: `min_block`
// inclusive, `max_block` exclusive. Times are ISO 8601 strings in UTC.

/** Phases a run goes through (ModelRun status.phase). */
export const RUN_PHASES = ['Pending', 'Planning', 'Running', 'Succeeded', 'Failed', 'Expired'] as const;
export type RunPhaseName = (typeof RUN_PHASES)[number];

/** `model_runner.model_runs`: one row per run (per uid: a run recreated under a name is a new row). */
export interface ModelRunRow {
  uid: string;
  namespace: string;
  name: string;
  model: string;
  /** As the API writes it: `v1`. Null until known (no spec.version and not planned yet). */
  version: string | null;
  chain: string;
  executor: 'queue' | 'job';
  queue: string | null;
  job_name: string | null;
  /** Null while a run given by dates has not resolved them to blocks. */
  min_block: number | null;
  max_block: number | null;
  phase: RunPhaseName;
  batches_total: number;
  batches_succeeded: number;
  batches_failed: number;
  batches_skipped: number;
  /** Why the run is in its phase (a condition reason, e.g. BatchesFailed); null when nothing to say. */
  reason: string | null;
  message: string | null;
  /** The ModelSchedule that created the run, if any. */
  schedule: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** What a batch's row says it is in. `cancelled`: not finished when its run failed or expired. */
export const BATCH_STATES = [
  'running',
  'retrying',
  'interrupted',
  'succeeded',
  'skipped',
  'failed',
  'cancelled',
] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/** `model_runner.model_run_batches`: one row per batch a worker took up. */
export interface ModelRunBatchRow {
  run_uid: string;
  min_block: number;
  max_block: number;
  state: BatchState;
  attempts: number;
  last_error: string | null;
  worker: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** Rows written, all datasets together; null until the batch succeeded or was skipped. */
  rows: number | null;
}

/** `model_runner.model_run_transitions`: one row per phase a run entered. */
export interface ModelRunTransitionRow {
  run_uid: string;
  phase: RunPhaseName;
  reason: string;
  at: string;
}

/** Everything one write of the mirror carries. */
export interface HistoryRows {
  runs: ModelRunRow[];
  transitions: ModelRunTransitionRow[];
  batches: ModelRunBatchRow[];
}
