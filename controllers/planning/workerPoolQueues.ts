// The queues a WorkerPool's workers consume: its list of names as given, or its selector
// expanded to `<chain>_<lane>_<kind>` for every lane and kind it lists (both by default). Every
// name goes through contract/queues.ts, so nothing unchecked reaches the broker or WORKER_QUEUES.
import { LANES, MODEL_KINDS, assertWorkQueueName, workQueueName } from '../../contract/queues.ts';
import type { QueueSelection } from '../../crds/generated/types.ts';

/** Queue names in a stable order (names as listed; a selector lane by lane, kind by kind), without repeats. */
export function poolQueues(selection: QueueSelection): string[] {
  if (selection.names) return [...new Set(selection.names.map(assertWorkQueueName))];
  const selector = selection.selector;
  if (!selector) throw new Error('spec.queues needs names or a selector');
  const lanes = LANES.filter((lane) => (selector.lanes ?? LANES).includes(lane));
  const kinds = MODEL_KINDS.filter((kind) => (selector.kinds ?? MODEL_KINDS).includes(kind));
  return lanes.flatMap((lane) => kinds.map((kind) => workQueueName(selector.chain, lane, kind)));
}
