// Dev/test only. CRDs are cluster-wide and the local stack is shared: a test run from another
// checkout installs its own ModelSchedule CRD, which may lack this checkout's status fields, and
// the API server then refuses the operator's status writes (and prunes the fields on read).
// While a test or benchmark of schedules runs, this puts this checkout's ModelSchedule CRD back
// whenever it is replaced. The CRD adds fields only, so nobody else's objects suffer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from './stackEnv.ts';

const CRD_FILE = join(repoRoot, 'crds/generated/modelschedules.modelrunner.io.yaml');
const FIELD_MANAGER = 'model-runner-crd-install';
const CHECK_EVERY_MS = 1_000;

function statusFields(crd: V1CustomResourceDefinition | undefined): string[] {
  const status = crd?.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.status;
  return Object.keys(status?.properties ?? {}).sort();
}

/** Starts guarding; returns the function that stops it. */
export function keepScheduleCrdInstalled(config: KubeConfig): () => void {
  const api = config.makeApiClient(ApiextensionsV1Api);
  const wanted = parseYaml(readFileSync(CRD_FILE, 'utf8')) as V1CustomResourceDefinition;
  const name = wanted.metadata!.name!;
  const wantedFields = statusFields(wanted).join(',');
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      const current = await api.readCustomResourceDefinition({ name });
      if (statusFields(current).join(',') === wantedFields) return;
      await api.patchCustomResourceDefinition(
        { name, body: wanted, fieldManager: FIELD_MANAGER, force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    })()
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
