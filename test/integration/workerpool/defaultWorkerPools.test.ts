// deploy/default-workerpools.yaml is accepted by the API server as it stands (a server-side
// dry run: admission and the CRD's schema and rules run, nothing is stored).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_WORKER_POOLS_FILE } from '../../../devtools/defaultWorkerPools.ts';
import { repoRoot } from '../../../devtools/stackEnv.ts';
import { installCrds, kubectl } from '../../support/crds.ts';

test('the default WorkerPools apply cleanly (server-side dry run)', async () => {
  await installCrds();
  const result = await kubectl([
    'apply',
    '--server-side',
    '--dry-run=server',
    '--field-manager=model-runner-test',
    '--filename',
    join(repoRoot, DEFAULT_WORKER_POOLS_FILE),
  ]);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout.trim().split('\n').length, 4, result.stdout);
});
