import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  blockRangeFromApi,
  blockRangeToApi,
  modelVersionFromApi,
  modelVersionToApi,
} from '../../../contract/apiConversions.ts';
import {
  type RunSpecProblem,
  type RunTarget,
  isRunSpecProblem,
  resolveRunTarget,
  runRequestOf,
  specBlockRange,
} from '../../../controllers/planning/runRequest.ts';
import { nextModelRunStatus } from '../../../controllers/planning/runStatus.ts';
import { loadChains } from '../../../dataplane/chains.ts';
import { ERC20_TRANSFERS_MANIFEST, INGEST_MANIFEST } from '../../../models/manifests.ts';
import { LOCAL, T0, UID, modelRun, observed, plan } from './runFixtures.ts';

const CHAINS = loadChains();

describe('resolveRunTarget: the model and chain a run names, or what to fix', () => {
  const cases: {
    name: string;
    spec: Parameters<typeof modelRun>[0];
    expected: { reason: RunSpecProblem['reason']; message: RegExp } | { model: string; version: number };
  }[] = [
    {
      name: "a known model and chain, no version: the manifest's",
      spec: {},
      expected: { model: 'ingest', version: 2 },
    },
    {
      name: 'the version the model is at',
      spec: { version: 'v2' },
      expected: { model: 'ingest', version: 2 },
    },
    {
      name: 'an unknown model',
      spec: { model: 'token_flows' },
      expected: {
        reason: 'UnknownModel',
        message:
          /^model "token_flows" is not in this operator's registry; known models: ingest, erc20_transfers, erc20_balances\. Create a new ModelRun with one of them\.$/,
      },
    },
    {
      name: 'a version the model is not at',
      spec: { version: 'v1' },
      expected: {
        reason: 'UnknownModelVersion',
        message:
          /^model ingest is at version v2, not v1: create a new ModelRun with version v2, or without a version\.$/,
      },
    },
    {
      name: 'an unconfigured chain',
      spec: { chain: 'moonbeam' },
      expected: {
        reason: 'UnknownChain',
        message:
          /^chain "moonbeam" is not configured in the operator; configured chains: local, ethereum, op, base, matic\./,
      },
    },
    {
      name: 'dates for ingest, which writes the markers dates resolve through',
      spec: { blocks: undefined, dates: { start: '2025-03-01', end: '2025-03-02' } },
      expected: { reason: 'DatesNeedIngestion', message: /give spec\.blocks instead\.$/ },
    },
    {
      name: 'dates for a model that reads ingestion',
      spec: {
        model: 'erc20_transfers',
        blocks: undefined,
        dates: { start: '2025-03-01', end: '2025-03-02' },
      },
      expected: { model: 'erc20_transfers', version: 1 },
    },
  ];
  for (const { name, spec, expected } of cases) {
    it(name, () => {
      const target = resolveRunTarget(modelRun(spec), CHAINS);
      if ('reason' in expected) {
        assert.ok(isRunSpecProblem(target));
        assert.equal(target.reason, expected.reason);
        assert.match(target.message, expected.message);
      } else {
        assert.ok(!isRunSpecProblem(target));
        assert.deepEqual(
          [target.manifest.name, target.version, target.chain.name],
          [expected.model, expected.version, 'local'],
        );
      }
    });
  }
});

describe('runRequestOf: the run as its batches see it', () => {
  const target: RunTarget = { manifest: ERC20_TRANSFERS_MANIFEST, chain: LOCAL, version: 1 };

  it('defaults: not forced, 3 retries per batch, the default sink topic', () => {
    const run = modelRun({ model: 'erc20_transfers' });
    assert.deepEqual(runRequestOf(run, target, { minBlock: 0, maxBlock: 500 }), {
      runId: { namespace: 'team-a', name: 'daily', uid: UID },
      model: 'erc20_transfers',
      version: 1,
      chain: 'local',
      range: { minBlock: 0, maxBlock: 500 },
      force: false,
      maxRetriesPerBatch: 3,
    });
  });

  it('force, retries and the sink topic from the spec', () => {
    const run = modelRun({ force: true, maxRetriesPerBatch: 0, sink: { topic: 'team-a-transfers' } });
    const request = runRequestOf(
      run,
      { ...target, manifest: INGEST_MANIFEST },
      { minBlock: 100, maxBlock: 200 },
    );
    assert.deepEqual(
      [request.force, request.maxRetriesPerBatch, request.sinkTopic],
      [true, 0, 'team-a-transfers'],
    );
  });

  it('specBlockRange: spec.blocks half-open; none for a run by dates', () => {
    assert.deepEqual(specBlockRange(modelRun({ blocks: { start: 0, end: 0 } })), {
      minBlock: 0,
      maxBlock: 1,
    });
    assert.equal(
      specBlockRange(modelRun({ blocks: undefined, dates: { start: '2025-03-01', end: '2025-03-01' } })),
      undefined,
    );
  });
});

describe('the API boundary round trip (contract/apiConversions.ts)', () => {
  const ranges: [{ start: number; end: number }, { minBlock: number; maxBlock: number }][] = [
    [
      { start: 0, end: 0 },
      { minBlock: 0, maxBlock: 1 },
    ],
    [
      { start: 0, end: 999 },
      { minBlock: 0, maxBlock: 1_000 },
    ],
    [
      { start: 18_000_123, end: 18_000_499 },
      { minBlock: 18_000_123, maxBlock: 18_000_500 },
    ],
    [
      { start: Number.MAX_SAFE_INTEGER - 1, end: Number.MAX_SAFE_INTEGER - 1 },
      { minBlock: Number.MAX_SAFE_INTEGER - 1, maxBlock: Number.MAX_SAFE_INTEGER },
    ],
  ];
  for (const [inclusive, halfOpen] of ranges) {
    it(`blocks ${inclusive.start}-${inclusive.end} ↔ [${halfOpen.minBlock}, ${halfOpen.maxBlock})`, () => {
      assert.deepEqual(blockRangeFromApi(inclusive), halfOpen);
      assert.deepEqual(blockRangeToApi(halfOpen), inclusive);
    });
  }

  it('versions: v<N> ↔ N', () => {
    for (const [text, number] of [
      ['v1', 1],
      ['v12', 12],
      ['v9999', 9999],
    ] as const) {
      assert.equal(modelVersionFromApi(text), number);
      assert.equal(modelVersionToApi(number), text);
    }
    for (const text of ['1', 'V1', 'v0', 'v01', 'v10000', 'v'])
      assert.throws(() => modelVersionFromApi(text), RangeError, text);
    for (const number of [0, -1, 1.5, 10_000])
      assert.throws(() => modelVersionToApi(number), RangeError, String(number));
  });

  it('ranges the API cannot hold are refused, not bent', () => {
    assert.throws(() => blockRangeFromApi({ start: 5, end: 4 }), RangeError);
    assert.throws(() => blockRangeFromApi({ start: -1, end: 4 }), RangeError);
    assert.throws(() => blockRangeToApi({ minBlock: 5, maxBlock: 5 }), /is empty: it has no inclusive form/);
  });

  it('spec.blocks and spec.version come back unchanged in status.blocks and status.version', () => {
    for (const blocks of [
      { start: 0, end: 499 },
      { start: 250, end: 250 },
      { start: 120, end: 381 },
    ]) {
      const run = modelRun({ blocks, version: 'v2' });
      const target = resolveRunTarget(run, CHAINS) as RunTarget;
      const request = runRequestOf(run, target, specBlockRange(run)!);
      const { status } = nextModelRunStatus(run, observed(plan({ request }), { request }), T0);
      assert.deepEqual(status.blocks, blocks);
      assert.equal(status.version, 'v2');
      assert.match(
        status.conditions?.find((c) => c.type === 'Planned')?.message ?? '',
        new RegExp(`over blocks ${blocks.start}-${blocks.end}$`),
      );
    }
  });
});
