// The layer rules of eslint.config.js fail the lint: each fixture breaks one layer and must be
// refused with its rule's message; each allowed import must pass. Linted in memory, as if the
// file sat at the given path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../../devtools/stackEnv.ts';

const eslint = new ESLint({ cwd: repoRoot });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
}

const violations: [string, string, RegExp][] = [
  [
    'contract/x.ts',
    "import { CHAIN_NAME } from '../dataplane/validNames.ts';",
    /contract\/ is the bottom layer/,
  ],
  ['contract/x.ts', "import pino from 'pino';", /it uses no packages/],
  [
    'dataplane/x.ts',
    "import { LocalLake } from '../adapters/lake/localLake.ts';",
    /dataplane\/ is the pure core/,
  ],
  ['dataplane/x.ts', "import { DuckDBInstance } from '@duckdb/node-api';", /no service client, DuckDB/],
  [
    'dataplane/x.ts',
    "import { modelRegistry } from '../models/registry.ts';",
    /dataplane\/ is the pure core/,
  ],
  [
    'models/manifests.ts',
    "import { ingestModel } from './ingest/ingestModel.ts';",
    /no model implementation/,
  ],
  [
    'controllers/planning/x.ts',
    "import { RabbitPublisher } from '../../adapters/rabbitmq/publisher.ts';",
    /planning is pure/,
  ],
  ['controllers/planning/x.ts', "import { CoreV1Api } from '@kubernetes/client-node';", /planning is pure/],
  [
    'controllers/modelrun/x.ts',
    "import { modelRegistry } from '../../models/registry.ts';",
    /never runs a model/,
  ],
  ['operator/x.ts', "import { runModelBatch } from '../models/runBatch.ts';", /never runs a model/],
  ['adapters/x/y.ts', "import { modelRegistry } from '../../models/registry.ts';", /adapters are the edges/],
  [
    'worker-image/x.ts',
    "import { reconcile } from '../controllers/modelrun/x.ts';",
    /the worker does not depend on the operator/,
  ],
  ['demo/x.ts', "import { AnvilSession } from '../test/support/x.ts';", /never the tests/],
  ['bench/x.ts', "import { pollUntil } from '../test/support/kube.ts';", /never the tests/],
];

const allowed: [string, string][] = [
  [
    'contract/x.ts',
    "import { CHAIN_NAME } from './names.ts';\nimport { setTimeout } from 'node:timers/promises';",
  ],
  [
    'dataplane/x.ts',
    "import { CHAIN_NAME } from '../contract/names.ts';\nimport { planBatches } from './batches.ts';",
  ],
  ['controllers/planning/x.ts', "import { MODEL_MANIFESTS } from '../../models/manifests.ts';"],
  ['controllers/modelrun/x.ts', "import { RabbitPublisher } from '../../adapters/rabbitmq/publisher.ts';"],
  ['demo/x.ts', "import { AnvilSession } from '../devtools/anvil/erc20Scenario.ts';"],
];

describe('layer rules', () => {
  for (const [filePath, code, message] of violations) {
    it(`refuse ${filePath}: ${code}`, async () => {
      const errors = await layerErrors(filePath, code);
      assert.equal(errors.length, 1, `expected one layer error, got ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, message);
    });
  }
  for (const [filePath, code] of allowed) {
    it(`allow ${filePath}: ${code.split('\n')[0]}`, async () => {
      assert.deepEqual(await layerErrors(filePath, code), []);
    });
  }
});
