// Pure: the bench's measurements as markdown tables (every process in detail; ingest beside
// cryo, figure by figure, with the ratio) and the targets' verdicts.
import type { ProcessCost } from './measuredProcess.ts';

export interface Measurement {
  tool: 'model-runner worker' | 'cryo 0.3.2';
  model: string;
  /** The chain profile or the synthetic input. */
  input: string;
  batchSize: number;
  blocks: number;
  rows: number;
  cost: Pick<ProcessCost, 'wallSeconds' | 'cpuSeconds' | 'peakRssMiB'>;
  batchSeconds?: number;
}

export const TARGETS = {
  /** model-runner's wall clock ÷ cryo's, ingesting the same chain. */
  wallRatio: 1,
  /** model-runner's CPU per block ÷ cryo's. */
  cpuRatio: 1.5,
  peakRssMiB: 512,
  erc20RowsPerCpuSecond: 200_000,
} as const;

const number = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(header: readonly string[], rows: readonly string[][], textColumns: number): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < textColumns ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}

/** Every measured process. */
export function detailTable(measurements: readonly Measurement[]): string[] {
  return table(
    [
      'tool',
      'model',
      'input',
      'batch',
      'blocks',
      'rows',
      'wall s',
      'CPU s',
      'blocks/s',
      'rows/s',
      'rows/CPU-s',
      'peak RSS MiB',
      'in batches s',
    ],
    measurements.map((m) => [
      m.tool,
      m.model,
      m.input,
      String(m.batchSize),
      number(m.blocks),
      number(m.rows),
      number(m.cost.wallSeconds, 2),
      number(m.cost.cpuSeconds, 2),
      number(m.blocks / m.cost.wallSeconds),
      number(m.rows / m.cost.wallSeconds),
      number(m.rows / m.cost.cpuSeconds),
      number(m.cost.peakRssMiB),
      m.batchSeconds === undefined ? '' : number(m.batchSeconds, 2),
    ]),
    3,
  );
}

export interface IngestPair {
  input: string;
  batchSize: number;
  ours: Measurement;
  cryo: Measurement;
}

/** Ingest beside cryo: each figure, both tools, and model-runner ÷ cryo. */
export function comparisonTable(pairs: readonly IngestPair[]): string[] {
  const rows: string[][] = [];
  for (const { input, batchSize, ours, cryo } of pairs) {
    const figures: [string, (m: Measurement) => number, number][] = [
      ['wall s', (m) => m.cost.wallSeconds, 2],
      ['blocks/s (wall)', (m) => m.blocks / m.cost.wallSeconds, 0],
      ['CPU s', (m) => m.cost.cpuSeconds, 2],
      ['CPU ms per block', (m) => (1000 * m.cost.cpuSeconds) / m.blocks, 2],
      ['peak RSS MiB', (m) => m.cost.peakRssMiB, 0],
    ];
    for (const [figure, value, digits] of figures) {
      rows.push([
        input,
        String(batchSize),
        figure,
        number(value(ours), digits),
        number(value(cryo), digits),
        number(value(ours) / value(cryo), 2),
      ]);
    }
  }
  return table(['chain', 'batch', 'figure', 'model-runner', 'cryo 0.3.2', 'model-runner ÷ cryo'], rows, 3);
}

/** One line per target: the figure, the goal, MET or NOT MET. */
export function targetLines(pairs: readonly IngestPair[], measurements: readonly Measurement[]): string[] {
  const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');
  const lines: string[] = [];
  for (const { input, batchSize, ours, cryo } of pairs) {
    const wall = ours.cost.wallSeconds / cryo.cost.wallSeconds;
    const cpu = ours.cost.cpuSeconds / ours.blocks / (cryo.cost.cpuSeconds / cryo.blocks);
    lines.push(
      `ingest ${input} b${batchSize}: wall clock ${number(wall, 2)}× cryo's (goal ≤ ${TARGETS.wallRatio}) → ${verdict(wall <= TARGETS.wallRatio)}; ` +
        `CPU per block ${number(cpu, 2)}× cryo's (goal ≤ ${TARGETS.cpuRatio}) → ${verdict(cpu <= TARGETS.cpuRatio)}`,
    );
  }
  for (const m of measurements.filter((m) => m.tool === 'model-runner worker' && m.batchSize === 1_000)) {
    lines.push(
      `peak RSS, ${m.model} on ${m.input}, 1,000-block batches: ${number(m.cost.peakRssMiB)} MiB (goal < ${TARGETS.peakRssMiB}) → ${verdict(m.cost.peakRssMiB < TARGETS.peakRssMiB)}`,
    );
  }
  for (const m of measurements.filter(
    (m) => m.model === 'erc20_transfers' && m.input.startsWith('synthetic'),
  )) {
    const perCore = m.rows / m.cost.cpuSeconds;
    lines.push(
      `erc20_transfers on ${m.input}, b${m.batchSize}: ${number(perCore)} rows per CPU-second (goal ≥ ${number(TARGETS.erc20RowsPerCpuSecond)}) → ${verdict(perCore >= TARGETS.erc20RowsPerCpuSecond)}`,
    );
  }
  return lines;
}
