// How `model-runner runs` shows the run history to a person: a table of runs, or one run with
// its phases and batches. Pure: rows in, text out. Block ranges are shown inclusive
// (`100-199`), as people write them and as ModelRun specs take them; `--json` prints the rows
// as stored instead (half-open, the markers' convention).
import type { ModelRunBatchRow, ModelRunRow, ModelRunTransitionRow } from '../contract/runHistory.ts';

/** `3.5s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function between(from: string | null, to: string | null): string {
  return from && to ? formatDuration(Date.parse(to) - Date.parse(from)) : '-';
}

function blocks(min: number | null, max: number | null): string {
  return min === null || max === null ? '-' : `${min}-${max - 1}`;
}

/** `2026-05-01 10:00:05Z`: to the second, still UTC. */
function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : '-';
}

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatRunList(runs: readonly ModelRunRow[]): string {
  if (runs.length === 0) return 'no runs match';
  return formatTable(
    ['CREATED', 'RUN', 'MODEL', 'CHAIN', 'BLOCKS', 'PHASE', 'DONE', 'FAILED', 'TOOK', 'REASON'],
    runs.map((run) => [
      when(run.created_at),
      `${run.namespace}/${run.name}`,
      run.version ? `${run.model} ${run.version}` : run.model,
      run.chain,
      blocks(run.min_block, run.max_block),
      run.phase,
      `${run.batches_succeeded + run.batches_skipped}/${run.batches_total}`,
      String(run.batches_failed),
      between(run.started_at ?? run.created_at, run.finished_at),
      run.reason ?? '',
    ]),
  );
}

export function formatRunDetails(
  run: ModelRunRow,
  transitions: readonly ModelRunTransitionRow[],
  batches: readonly ModelRunBatchRow[],
): string {
  const where = run.executor === 'job' ? `job ${run.job_name ?? '-'}` : `queue ${run.queue ?? '-'}`;
  const lines = [
    `run       ${run.namespace}/${run.name}  (uid ${run.uid})`,
    `model     ${run.model}${run.version ? ` ${run.version}` : ''} on ${run.chain}, blocks ${blocks(run.min_block, run.max_block)}`,
    `executor  ${where}`,
    `phase     ${run.phase}${run.reason ? ` (${run.reason})` : ''}`,
  ];
  if (run.message) lines.push(`message   ${run.message}`);
  if (run.schedule) lines.push(`schedule  ${run.schedule}`);
  lines.push(
    `created   ${when(run.created_at)}`,
    `started   ${when(run.started_at)}`,
    `finished  ${when(run.finished_at)}${run.finished_at ? `  (took ${between(run.started_at ?? run.created_at, run.finished_at)})` : ''}`,
    `batches   ${run.batches_total} planned: ${run.batches_succeeded} succeeded, ${run.batches_skipped} skipped, ${run.batches_failed} failed`,
    '',
    'phases',
    formatTable(
      ['AT', 'PHASE', 'REASON'],
      transitions.map((transition) => [when(transition.at), transition.phase, transition.reason]),
    ),
    '',
  );
  if (batches.length === 0) {
    lines.push('batches   none reported by a worker');
  } else {
    lines.push(
      'batches',
      formatTable(
        ['BLOCKS', 'STATE', 'ATTEMPTS', 'WORKER', 'STARTED', 'TOOK', 'ROWS', 'LAST ERROR'],
        batches.map((batch) => [
          blocks(batch.min_block, batch.max_block),
          batch.state,
          String(batch.attempts),
          batch.worker ?? '-',
          when(batch.started_at),
          between(batch.started_at, batch.finished_at),
          batch.rows === null ? '-' : String(batch.rows),
          (batch.last_error ?? '').replace(/\s+/g, ' ').slice(0, 120),
        ]),
      ),
    );
  }
  return lines.join('\n');
}
