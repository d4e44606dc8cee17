// `model-runner coverage`: the report, as pure functions of what the markers (and optionally the
// chain) said. Per UTC day and root path: the blocks expected, the blocks covered by complete
// markers, and the missing ranges; per root path: its newest complete block and its lag at the
// chain's tip. A day's blocks are the blocks its complete ingestion parts hold (each part records
// its own day and range); a day ingestion has not reached is expected to hold the chain's
// nominal blocks per day (today: so far).
import type { BlockRange } from '../dataplane/batches.ts';
import {
  type CompleteBatch,
  type DayRange,
  type DtCoverageRow,
  coverageReport,
} from '../dataplane/markers.ts';

export interface CoverageInput {
  chain: { name: string; expectedBlocksPerDay: number };
  fromDt: string;
  toDt: string;
  /** Today (UTC) and how much of it has passed, 0 to 1, for today's nominal expectation. */
  today: string;
  dayFraction: number;
  rootPaths: readonly string[];
  rows: readonly DtCoverageRow[];
  /** The blocks of each day, from the complete ingestion parts. */
  days: readonly DayRange[];
  /** Complete batches of the root paths from the first day's first block on. */
  complete: readonly CompleteBatch[];
  /** The tip lag is measured against; undefined when nothing is known. */
  tip: { block: number; source: 'safe tip' | 'newest ingested block' } | undefined;
}

/** Inclusive, as people read ranges. */
export interface InclusiveRange {
  start: number;
  end: number;
}

export interface CoverageRow {
  rootPath: string;
  dt: string;
  expectedBlocks: number;
  coveredBlocks: number;
  /** covered / expected × 100, one decimal (undefined when nothing is expected). */
  percent: number | undefined;
  completeBatches: number;
  rowCount: number;
  /** The blocks of the day no complete batch holds; undefined when the day's blocks are not known. */
  missing: InclusiveRange[] | undefined;
}

export interface RootPathLag {
  rootPath: string;
  newestBlock: number | undefined;
  lagBlocks: number | undefined;
}

export interface CoverageReport {
  chain: string;
  fromDt: string;
  toDt: string;
  tip: CoverageInput['tip'];
  rows: CoverageRow[];
  lag: RootPathLag[];
}

/** The parts of `span` that none of `covered` holds, in block order. */
export function missingRanges(covered: readonly BlockRange[], span: BlockRange): BlockRange[] {
  const missing: BlockRange[] = [];
  let next = span.minBlock;
  for (const range of [...covered].sort((a, b) => a.minBlock - b.minBlock)) {
    if (range.maxBlock <= next || range.minBlock >= span.maxBlock) continue;
    if (range.minBlock > next) missing.push({ minBlock: next, maxBlock: range.minBlock });
    next = Math.max(next, range.maxBlock);
  }
  if (next < span.maxBlock) missing.push({ minBlock: next, maxBlock: span.maxBlock });
  return missing;
}

function expectedOn(input: CoverageInput, dt: string, day: DayRange | undefined): number {
  if (day) return day.maxBlock - day.minBlock;
  if (dt > input.today) return 0;
  const nominal = input.chain.expectedBlocksPerDay;
  return dt === input.today ? Math.floor(nominal * input.dayFraction) : nominal;
}

export function buildCoverageReport(input: CoverageInput): CoverageReport {
  const query = {
    chain: input.chain.name,
    rootPaths: input.rootPaths,
    fromDt: input.fromDt,
    toDt: input.toDt,
  };
  const days = new Map(input.days.map((day) => [day.dt, day]));
  const completeOf = new Map<string, CompleteBatch[]>();
  for (const batch of input.complete) {
    const list = completeOf.get(batch.rootPath) ?? [];
    list.push(batch);
    completeOf.set(batch.rootPath, list);
  }
  const rows = coverageReport(query, input.rows, input.chain.expectedBlocksPerDay).map((row): CoverageRow => {
    const day = days.get(row.dt);
    const expectedBlocks = expectedOn(input, row.dt, day);
    return {
      rootPath: row.rootPath,
      dt: row.dt,
      expectedBlocks,
      coveredBlocks: row.coveredBlocks,
      percent: expectedBlocks > 0 ? Math.floor((row.coveredBlocks / expectedBlocks) * 1000) / 10 : undefined,
      completeBatches: row.completeBatches,
      rowCount: row.rowCount,
      missing: day
        ? missingRanges(completeOf.get(row.rootPath) ?? [], day).map((range) => ({
            start: range.minBlock,
            end: range.maxBlock - 1,
          }))
        : undefined,
    };
  });
  const lag = input.rootPaths.map((rootPath): RootPathLag => {
    const ends = (completeOf.get(rootPath) ?? []).map((batch) => batch.maxBlock);
    const newestBlock = ends.length === 0 ? undefined : Math.max(...ends) - 1;
    return {
      rootPath,
      newestBlock,
      lagBlocks:
        newestBlock === undefined || input.tip === undefined
          ? undefined
          : Math.max(0, input.tip.block - newestBlock),
    };
  });
  return { chain: input.chain.name, fromDt: input.fromDt, toDt: input.toDt, tip: input.tip, rows, lag };
}

const SHOWN_RANGES = 4;

function describeMissing(missing: InclusiveRange[] | undefined): string {
  if (missing === undefined) return 'day not ingested';
  if (missing.length === 0) return '-';
  const shown = missing.slice(0, SHOWN_RANGES).map((range) => `${range.start}-${range.end}`);
  return `${shown.join(', ')}${missing.length > SHOWN_RANGES ? ` (+${missing.length - SHOWN_RANGES} more)` : ''}`;
}

function table(header: string[], lines: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...lines.map((line) => line[column]!.length)),
  );
  const render = (line: string[]) =>
    line
      .map((cell, column) =>
        rightAligned.has(column)
          ? cell.padStart(widths[column]!)
          : column === line.length - 1
            ? cell
            : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [render(header), ...lines.map(render)];
}

/** The report as tables for people. */
export function formatCoverageReport(report: CoverageReport): string {
  const out = [`coverage of chain ${report.chain}, UTC days ${report.fromDt} to ${report.toDt}`, ''];
  if (report.rows.length === 0) out.push('no markers on this chain');
  else {
    out.push(
      ...table(
        ['ROOT PATH', 'DAY', 'EXPECTED', 'COVERED', '%', 'MISSING'],
        report.rows.map((row) => [
          row.rootPath,
          row.dt,
          String(row.expectedBlocks),
          String(row.coveredBlocks),
          row.percent === undefined ? '-' : row.percent.toFixed(1),
          describeMissing(row.missing),
        ]),
        new Set([2, 3, 4]),
      ),
    );
  }
  out.push('');
  out.push(
    report.tip === undefined
      ? 'tip: unknown (no JSON-RPC endpoint and no ingested block)'
      : `tip: block ${report.tip.block} (${report.tip.source})`,
  );
  if (report.lag.length > 0) {
    out.push(
      ...table(
        ['ROOT PATH', 'NEWEST COMPLETE BLOCK', 'LAG (BLOCKS)'],
        report.lag.map((lag) => [
          lag.rootPath,
          lag.newestBlock === undefined ? '-' : String(lag.newestBlock),
          lag.lagBlocks === undefined ? '-' : String(lag.lagBlocks),
        ]),
        new Set([1, 2]),
      ),
    );
  }
  return out.join('\n');
}
