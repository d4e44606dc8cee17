// A test's or a bench's namespace is deleted after its operator was stopped: nothing is left to
// remove the ModelRuns' finalizer, and the namespace would stay Terminating for good. This drops
// the finalizer from every run left in the namespace, as the operator would have.
import { CustomResourceClient, customResourceType, type KubeClients } from '../adapters/kube/index.ts';
import { MODEL_RUN_FINALIZER } from '../controllers/modelrun/modelRunPorts.ts';
import type { ModelRun } from '../crds/generated/types.ts';
import { MODEL_RUN } from '../crds/kinds.ts';

/** Removes the operator's finalizer from every ModelRun in `namespace`; returns how many it released. */
export async function releaseModelRuns(kube: KubeClients, namespace: string): Promise<number> {
  const runs = new CustomResourceClient<ModelRun>(kube.customObjects, customResourceType(MODEL_RUN));
  let released = 0;
  for (const run of (await runs.list({ namespace })).items) {
    if (!run.metadata?.finalizers?.includes(MODEL_RUN_FINALIZER)) continue;
    await runs.removeFinalizer(run, MODEL_RUN_FINALIZER);
    released += 1;
  }
  return released;
}
