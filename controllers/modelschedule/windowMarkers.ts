// The marker read of a schedule's look: the batches from `scanFrom` on that are complete in
// every input root path, and those complete in every output root path of its model. Each is one
// compact query over the window's blocks only (the marker table's sort key leads with chain,
// root path and block); the two run at once.
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
  markers: Pick<MarkerStore, 'batchesCompleteInAll'>,
  target: Pick<ScheduleTarget, 'manifest' | 'chain'>,
  scanFrom: number,
): Promise<MarkerRead> {
  const inputs = target.manifest.inputRootPaths;
  const outputs = target.manifest.outputs.map((output) => output.rootPath);
  const range: BlockRange = { minBlock: scanFrom, maxBlock: OPEN_END };
  const chain = target.chain.name;
  const [completeInputs, completeOutputs] = await Promise.all([
    inputs.length === 0 ? undefined : markers.batchesCompleteInAll(chain, inputs, [range]),
    markers.batchesCompleteInAll(chain, outputs, [range]),
  ]);
  return {
    scanFrom,
    completeInputs: completeInputs && new Set(completeInputs),
    completeOutputs: new Set(completeOutputs),
  };
}
