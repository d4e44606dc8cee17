import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelDefinition } from '../../../models/modelDefinition.ts';
import {
  ModelDefinitionError,
  ModelRegistry,
  UnknownModelError,
  manifestMismatch,
  validateModel,
} from '../../../models/modelRegistry.ts';
import { MODEL_MANIFESTS } from '../../../models/manifests.ts';
import { modelRegistry } from '../../../models/registry.ts';

function model(overrides: Partial<ModelDefinition> = {}): ModelDefinition {
  return {
    name: 'token_flows',
    version: 2,
    kind: 'nonreads',
    description: 'test model',
    inputRootPaths: [],
    datasets: [
      {
        name: 'flows',
        schema: [
          { name: 'block_number', type: 'int64' },
          { name: 'block_timestamp', type: 'timestamp' },
          { name: 'amount', type: 'decimal_string', nullable: true },
        ],
        timestampColumn: 'block_timestamp',
        keyColumns: ['block_number'],
      },
    ],
    run: async () => ({ datasets: {} }),
    ...overrides,
  };
}

test('a valid model gets its output root path blockbatch/<model>/<dataset>_v<version>', () => {
  assert.equal(validateModel(model()).datasets[0]!.rootPath, 'blockbatch/token_flows/flows_v2');
});

test('invalid definitions are refused with a message that names the problem', () => {
  const dataset = model().datasets[0]!;
  const cases: { name: string; definition: ModelDefinition; message: RegExp }[] = [
    {
      name: 'upper-case name',
      definition: model({ name: 'TokenFlows' }),
      message: /name must be a lower-case identifier/,
    },
    {
      name: 'name with a slash',
      definition: model({ name: 'a/b' }),
      message: /name must be a lower-case identifier/,
    },
    {
      name: 'name too long',
      definition: model({ name: `a${'b'.repeat(63)}` }),
      message: /name must be a lower-case identifier/,
    },
    { name: 'version 0', definition: model({ version: 0 }), message: /version must be a positive integer/ },
    {
      name: 'version 1.5',
      definition: model({ version: 1.5 }),
      message: /version must be a positive integer/,
    },
    {
      name: 'bad kind',
      definition: model({ kind: 'writes' as 'reads' }),
      message: /kind must be reads or nonreads/,
    },
    { name: 'no datasets', definition: model({ datasets: [] }), message: /at least one output dataset/ },
    {
      name: 'bad input',
      definition: model({ inputRootPaths: ['../etc'] }),
      message: /input root path "..\/etc"/,
    },
    {
      name: 'duplicate input',
      definition: model({ inputRootPaths: ['ingestion/logs_v1', 'ingestion/logs_v1'] }),
      message: /duplicate input/,
    },
    {
      name: 'duplicate dataset',
      definition: model({ datasets: [dataset, dataset] }),
      message: /duplicate dataset flows/,
    },
    {
      name: 'bad dataset name',
      definition: model({ datasets: [{ ...dataset, name: 'Flows' }] }),
      message: /dataset name "Flows"/,
    },
    {
      name: 'timestamp column missing',
      definition: model({ datasets: [{ ...dataset, timestampColumn: 'ts' }] }),
      message: /timestampColumn ts must be a required timestamp column/,
    },
    {
      name: 'timestamp column of another type',
      definition: model({ datasets: [{ ...dataset, timestampColumn: 'block_number' }] }),
      message: /timestampColumn block_number/,
    },
    {
      name: 'no key',
      definition: model({ datasets: [{ ...dataset, keyColumns: [] }] }),
      message: /at least one key column/,
    },
    {
      name: 'nullable key',
      definition: model({ datasets: [{ ...dataset, keyColumns: ['amount'] }] }),
      message: /key column amount must be a required column/,
    },
    {
      name: 'bad schema',
      definition: model({
        datasets: [{ ...dataset, schema: [...dataset.schema, { name: 'Bad Column', type: 'string' }] }],
      }),
      message: /invalid column name/,
    },
    {
      name: 'pinned root outside ingestion',
      definition: model({ datasets: [{ ...dataset, rootPath: 'blockbatch/x/y_v1' }] }),
      message: /only ingestion datasets/,
    },
    {
      name: 'writes its own input',
      definition: model({ inputRootPaths: ['blockbatch/token_flows/flows_v2'] }),
      message: /would overwrite its own input/,
    },
  ];
  for (const { name, definition, message } of cases) {
    assert.throws(
      () => validateModel(definition),
      (e: unknown) => e instanceof ModelDefinitionError && message.test(e.message),
      name,
    );
  }
});

test('a registry refuses two models by one name, two writers of one root path, and inputs nobody writes', () => {
  assert.throws(() => new ModelRegistry([model(), model()]), /registered twice/);
  const pinned = (name: string): ModelDefinition =>
    model({ name, datasets: [{ ...model().datasets[0]!, rootPath: 'ingestion/flows_v1' }] });
  assert.throws(() => new ModelRegistry([pinned('one'), pinned('two')]), /already written by one/);
  assert.throws(
    () => new ModelRegistry([model({ inputRootPaths: ['ingestion/nothing_v1'] })]),
    /is no registered model's output/,
  );
});

test('get names the known models, and a version the registry does not have', () => {
  const registry = new ModelRegistry([model()]);
  assert.equal(registry.get('token_flows').version, 2);
  assert.equal(registry.get('token_flows', 2).name, 'token_flows');
  assert.throws(
    () => registry.get('nope'),
    (e: unknown) => e instanceof UnknownModelError && /known: token_flows/.test(e.message),
  );
  assert.throws(() => registry.get('token_flows', 1), /has version 2, not 1/);
  assert.equal(registry.has('token_flows', 2), true);
  assert.equal(registry.has('token_flows', 3), false);
});

test('the shipped registry: models, kinds and the lake layout they write', () => {
  const summary = modelRegistry.list().map((m) => ({
    name: m.name,
    kind: m.kind,
    inputs: m.inputRootPaths,
    outputs: m.datasets.map((d) => d.rootPath),
  }));
  assert.deepEqual(summary, [
    {
      name: 'erc20_balances',
      kind: 'reads',
      inputs: ['blockbatch/erc20_transfers/erc20_transfers_v1'],
      outputs: ['blockbatch/erc20_balances/erc20_balances_v1'],
    },
    {
      name: 'erc20_transfers',
      kind: 'nonreads',
      inputs: ['ingestion/logs_v1'],
      outputs: ['blockbatch/erc20_transfers/erc20_transfers_v1'],
    },
    {
      name: 'ingest',
      kind: 'nonreads',
      inputs: [],
      outputs: ['ingestion/blocks_v1', 'ingestion/transactions_v2', 'ingestion/logs_v1'],
    },
  ]);
  assert.equal(modelRegistry.producerOf('ingestion/logs_v1')?.name, 'ingest');
  assert.equal(modelRegistry.producerOf('ingestion/traces_v1'), undefined);
});

test('the shipped registry implements exactly the manifests the operator plans with', () => {
  assert.deepEqual(
    modelRegistry.list().map((registered) => registered.name),
    MODEL_MANIFESTS.map((manifest) => manifest.name).sort(),
  );
  for (const manifest of MODEL_MANIFESTS) {
    assert.equal(manifestMismatch(modelRegistry.get(manifest.name), manifest), undefined, manifest.name);
  }
});

test('a registry with manifests refuses implementations that drift from them', () => {
  const manifest = {
    name: 'token_flows',
    version: 2,
    kind: 'nonreads' as const,
    description: 'test model',
    inputRootPaths: [],
    outputs: [{ dataset: 'flows', rootPath: 'blockbatch/token_flows/flows_v2' }],
  };
  assert.doesNotThrow(() => new ModelRegistry([model()], { manifests: [manifest] }));
  const cases: [string, ModelDefinition[], (typeof manifest)[], RegExp][] = [
    ['another version', [model({ version: 3 })], [manifest], /differ from its manifest's/],
    ['another kind', [model({ kind: 'reads' })], [manifest], /differ from its manifest's/],
    ['a manifest without a model', [], [manifest], /has a manifest but no implementation/],
    ['a model without a manifest', [model()], [], /has no manifest/],
    [
      'another output',
      [model()],
      [{ ...manifest, outputs: [{ dataset: 'flows', rootPath: 'blockbatch/token_flows/other_v2' }] }],
      /outputs .* differ/,
    ],
  ];
  for (const [name, models, manifests, message] of cases) {
    assert.throws(() => new ModelRegistry(models, { manifests }), message, name);
  }
});
