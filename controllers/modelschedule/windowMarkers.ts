// The one marker read of a schedule's look: the batches from `scanFrom` on that are complete in
// every input root path and in every output root path of its model, in one query over the
// window's blocks only (the marker table's sort key leads with chain, root path and block).
import type { BlockRange } from '../../contract/apiConversions.ts';
import type { MarkerStore } from '../../dataplane/markers.ts';
import type { ScheduleTarget } from '../planning/scheduleTarget.ts';

/** An upper bound for "from this block on": block numbers never come near 2^48. */
const OPEN_END = 2 ** 48;

export interface MarkerRead {
  scanFrom: number;
  /** First blocks of the batches complete in every input root path; undefined for ingest. */
  completeInputs: Set<number> | undefined;
  completeOutputs: Set<number>;
}

export async function readWindowMarkers(
  markers: Pick<MarkerStore, 'completeBatches'>,
  target: Pick<ScheduleTarget, 'manifest' | 'chain'>,
  scanFrom: number,
): Promise<MarkerRead> {
  const inputs = target.manifest.inputRootPaths;
  const outputs = target.manifest.outputs.map((output) => output.rootPath);
  const range: BlockRange = { minBlock: scanFrom, maxBlock: OPEN_END };
  const rows = await markers.completeBatches(target.chain.name, [...inputs, ...outputs], range);
  const completeIn = (rootPaths: readonly string[]): Set<number> => {
    const wanted = new Set(rootPaths);
    const counts = new Map<number, number>();
    for (const row of rows) {
      if (wanted.has(row.rootPath)) counts.set(row.minBlock, (counts.get(row.minBlock) ?? 0) + 1);
    }
    return new Set([...counts].filter(([, count]) => count === wanted.size).map(([start]) => start));
  };
  return {
    scanFrom,
    completeInputs: inputs.length === 0 ? undefined : completeIn(inputs),
    completeOutputs: completeIn(outputs),
  };
}
