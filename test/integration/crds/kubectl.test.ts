// What a user sees with kubectl: printer columns (after the operator's status writes),
// short names and the category, explain, the scale subresource, and the status
// subresource as the only way to change status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTestNamespace,
  deleteTestNamespace,
  installCrds,
  kubectl,
  kubectlOk,
} from '../../support/crds.ts';

type Json = { [key: string]: unknown };

interface PrintedTable {
  headers: string[];
  rows: Record<string, string>[];
}

/**
 * Parses `kubectl get` output: one table per kind, separated by blank lines. Columns are
 * left-aligned and at least two spaces apart, so each header's offset slices the rows
 * (headers such as LAST SCHEDULE contain a single space).
 */
function parseTables(output: string): PrintedTable[] {
  return output
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const [headerLine = '', ...lines] = block.split('\n');
      const starts = [...headerLine.matchAll(/\S+(?: \S+)*/g)].map((match) => ({
        header: match[0],
        start: match.index,
      }));
      const rows = lines.map((line) =>
        Object.fromEntries(
          starts.map(({ header, start }, index) => [
            header,
            line.slice(start, starts[index + 1]?.start ?? line.length).trim(),
          ]),
        ),
      );
      return { headers: starts.map((column) => column.header), rows };
    });
}

function singleTable(output: string): PrintedTable {
  const tables = parseTables(output);
  assert.equal(tables.length, 1, output);
  return tables[0]!;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A time long enough ago that kubectl prints it as a whole number of days. */
const thirtyDaysAgo = new Date(Date.now() - 30 * DAY_MS).toISOString().replace(/\.\d+Z$/, 'Z');

const runManifest = {
  apiVersion: 'modelrunner.io/v1alpha1',
  kind: 'ModelRun',
  metadata: { name: 'erc20-transfers-18m' },
  spec: { model: 'erc20_transfers', chain: 'ethereum', blocks: { start: 18000000, end: 18399999 } },
};
const runStatus = {
  phase: 'Running',
  observedGeneration: 1,
  blocks: { start: 18000000, end: 18399999 },
  queue: 'ethereum_backfill_nonreads',
  batches: { total: 400, skipped: 20, queued: 280, succeeded: 100, failed: 0 },
  progress: '120/400',
  blocksModeled: 100000,
  startedAt: thirtyDaysAgo,
  lastProgressAt: thirtyDaysAgo,
  conditions: [
    {
      type: 'Progressing',
      status: 'True',
      reason: 'BatchesQueued',
      message: '280 batches queued',
      lastTransitionTime: thirtyDaysAgo,
      observedGeneration: 1,
    },
  ],
};

const scheduleManifest = {
  apiVersion: 'modelrunner.io/v1alpha1',
  kind: 'ModelSchedule',
  metadata: { name: 'base-erc20-balances' },
  spec: { model: 'erc20_balances', chain: 'base', trigger: { schedule: '0 */6 * * *' } },
};
const scheduleStatus = {
  lastScheduleTime: thirtyDaysAgo,
  processedThroughBlock: 21000000,
  ingestedThroughBlock: 21000450,
  pendingBatches: 2,
  lag: { blocks: 450, seconds: 900 },
  coverage: { expectedBlocks: 1000000, coveredBlocks: 995000, percent: 99.5 },
};

const poolManifest = {
  apiVersion: 'modelrunner.io/v1alpha1',
  kind: 'WorkerPool',
  metadata: { name: 'ethereum-realtime-reads' },
  spec: {
    queues: { selector: { chain: 'ethereum', lanes: ['realtime'], kinds: ['reads'] } },
    image: 'ghcr.io/example/model-runner-worker:0.1.0',
    replicas: 2,
    maxReplicas: 8,
  },
};
const poolStatus = {
  queues: ['ethereum_realtime_reads'],
  replicas: 2,
  desiredReplicas: 3,
  readyReplicas: 2,
  startingReplicas: 1,
  queueDepth: { ready: 7, unacked: 2, total: 9 },
  consumers: 2,
  selector: 'modelrunner.io/workerpool=ethereum-realtime-reads',
};

let namespace = '';

async function writeStatus(resource: string, status: Json): Promise<void> {
  await kubectlOk(
    ['patch', resource, '--subresource=status', '--type=merge', '--patch', JSON.stringify({ status })],
    { namespace },
  );
}

async function getJson(resource: string): Promise<Json> {
  return JSON.parse(await kubectlOk(['get', resource, '-o', 'json'], { namespace })) as Json;
}

before(async () => {
  await installCrds();
  namespace = await createTestNamespace('crd-kubectl');
  const input = [runManifest, scheduleManifest, poolManifest]
    .map((manifest) => JSON.stringify(manifest))
    .join('\n');
  await kubectlOk(['apply', '--server-side', '--filename', '-'], { namespace, input });
  await writeStatus('modelrun/erc20-transfers-18m', runStatus);
  await writeStatus('modelschedule/base-erc20-balances', scheduleStatus);
  await writeStatus('workerpool/ethereum-realtime-reads', poolStatus);
});

after(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

describe('printer columns', () => {
  test('kubectl get modelruns shows model, chain, phase, progress, blocks and age', async () => {
    const table = singleTable(await kubectlOk(['get', 'modelruns'], { namespace }));
    assert.deepEqual(table.headers, ['NAME', 'MODEL', 'CHAIN', 'PHASE', 'PROGRESS', 'BLOCKS', 'AGE']);
    assert.deepEqual(table.rows, [
      {
        NAME: 'erc20-transfers-18m',
        MODEL: 'erc20_transfers',
        CHAIN: 'ethereum',
        PHASE: 'Running',
        PROGRESS: '120/400',
        BLOCKS: '100000',
        AGE: table.rows[0]?.AGE ?? '',
      },
    ]);
    assert.match(table.rows[0]!.AGE, /^\d+s$/);
  });

  test('kubectl get mr -o wide adds executor, queue and the resolved block range', async () => {
    const table = singleTable(await kubectlOk(['get', 'mr', '-o', 'wide'], { namespace }));
    assert.deepEqual(table.headers.slice(7), ['EXECUTOR', 'QUEUE', 'START', 'END']);
    const row = table.rows[0]!;
    assert.deepEqual(
      [row.EXECUTOR, row.QUEUE, row.START, row.END],
      ['queue', 'ethereum_backfill_nonreads', '18000000', '18399999'],
    );
  });

  test('kubectl get ms shows the trigger, suspend, last schedule, lag and pending batches', async () => {
    const table = singleTable(await kubectlOk(['get', 'ms'], { namespace }));
    assert.deepEqual(table.headers, [
      'NAME',
      'MODEL',
      'CHAIN',
      'SCHEDULE',
      'REALTIME',
      'SUSPEND',
      'LAST SCHEDULE',
      'LAG',
      'PENDING',
      'AGE',
    ]);
    const row = table.rows[0]!;
    assert.deepEqual(
      [
        row.NAME,
        row.MODEL,
        row.CHAIN,
        row.SCHEDULE,
        row.REALTIME,
        row.SUSPEND,
        row['LAST SCHEDULE'],
        row.LAG,
        row.PENDING,
      ],
      ['base-erc20-balances', 'erc20_balances', 'base', '0 */6 * * *', 'false', 'false', '30d', '450', '2'],
    );
  });

  test('kubectl get ms -o wide adds lag seconds, processed block and coverage', async () => {
    const table = singleTable(await kubectlOk(['get', 'ms', '-o', 'wide'], { namespace }));
    const row = table.rows[0]!;
    assert.deepEqual([row['LAG SECONDS'], row.PROCESSED, row.COVERAGE], ['900', '21000000', '99.5']);
  });

  test('kubectl get wp shows queues, desired, ready and starting workers and the queue depth', async () => {
    const table = singleTable(await kubectlOk(['get', 'wp'], { namespace }));
    assert.deepEqual(table.headers, ['NAME', 'QUEUES', 'DESIRED', 'READY', 'STARTING', 'DEPTH', 'AGE']);
    const row = table.rows[0]!;
    assert.deepEqual(
      [row.NAME, row.QUEUES, row.DESIRED, row.READY, row.STARTING, row.DEPTH],
      ['ethereum-realtime-reads', '["ethereum_realtime_reads"]', '3', '2', '1', '9'],
    );
  });

  test('kubectl get modelruns,modelschedules,workerpools prints one table per kind', async () => {
    const tables = parseTables(
      await kubectlOk(['get', 'modelruns,modelschedules,workerpools'], { namespace }),
    );
    assert.deepEqual(
      tables.map((table) => [table.headers[1], table.rows.map((row) => row.NAME)]),
      [
        ['MODEL', ['modelrun.modelrunner.io/erc20-transfers-18m']],
        ['MODEL', ['modelschedule.modelrunner.io/base-erc20-balances']],
        ['QUEUES', ['workerpool.modelrunner.io/ethereum-realtime-reads']],
      ],
    );
    assert.equal(tables[1]!.rows[0]!.SCHEDULE, '0 */6 * * *');
    assert.equal(tables[2]!.rows[0]!.DEPTH, '9');
  });

  test('the category modelrunner lists all three kinds', async () => {
    const names = await kubectlOk(['get', 'modelrunner', '-o', 'name'], { namespace });
    assert.deepEqual(names.trim().split('\n').sort(), [
      'modelrun.modelrunner.io/erc20-transfers-18m',
      'modelschedule.modelrunner.io/base-erc20-balances',
      'workerpool.modelrunner.io/ethereum-realtime-reads',
    ]);
  });

  test('ModelRuns can be selected by chain and phase', async () => {
    const byChain = await kubectlOk(['get', 'mr', '--field-selector', 'spec.chain=ethereum', '-o', 'name'], {
      namespace,
    });
    assert.equal(byChain.trim(), 'modelrun.modelrunner.io/erc20-transfers-18m');
    const otherPhase = await kubectlOk(
      ['get', 'mr', '--field-selector', 'status.phase=Failed', '-o', 'name'],
      {
        namespace,
      },
    );
    assert.equal(otherPhase.trim(), '');
  });
});

describe('kubectl explain', () => {
  /** The OpenAPI document of a just-installed CRD is published asynchronously. */
  async function explain(args: string[]): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const result = await kubectl(['explain', ...args]);
      if (result.exitCode === 0) return result.stdout.replace(/\s+/g, ' ');
      if (Date.now() > deadline) assert.fail(result.stderr);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  test('explain modelrun.spec --recursive prints the description and every field', async () => {
    const text = await explain(['modelrun.spec', '--recursive']);
    assert.match(text, /GROUP: modelrunner\.io KIND: ModelRun VERSION: v1alpha1/);
    assert.match(text, /What to run: model, chain and range/);
    for (const field of [
      'blocks',
      'start',
      'end',
      'dates',
      'executor',
      'maxRetriesPerBatch',
      'dryRun',
      'topic',
    ]) {
      assert.match(text, new RegExp(`\\b${field}\\b`), field);
    }
    assert.match(text, /lane <string> enum: realtime, backfill/);
  });

  test('explain of a field prints its description', async () => {
    const text = await explain(['modelrun.spec.blocks']);
    assert.match(text, /First block to model \(inclusive\)\./);
    const autoscaling = await explain(['workerpool.spec.autoscaling.targetMessagesPerReplica']);
    assert.match(autoscaling, /counting ready and unacknowledged \(in-flight\) messages/);
    const schedule = await explain(['modelschedule.spec.trigger.schedule']);
    assert.match(schedule, /standard 5-field format/);
  });
});

describe('subresources', () => {
  test('kubectl scale changes spec.replicas through the scale subresource', async () => {
    await kubectlOk(['scale', 'workerpool', 'ethereum-realtime-reads', '--replicas=3'], { namespace });
    const pool = await getJson('workerpool/ethereum-realtime-reads');
    assert.equal((pool.spec as Json).replicas, 3);
    const scaleObject = JSON.parse(
      await kubectlOk(['get', 'workerpool', 'ethereum-realtime-reads', '--subresource=scale', '-o', 'json'], {
        namespace,
      }),
    ) as Json;
    assert.equal(scaleObject.kind, 'Scale');
    assert.deepEqual(scaleObject.spec, { replicas: 3 });
    assert.deepEqual(scaleObject.status, {
      replicas: 2,
      selector: 'modelrunner.io/workerpool=ethereum-realtime-reads',
    });
  });

  test('status written through the main resource is ignored', async () => {
    const before = await getJson('modelrun/erc20-transfers-18m');
    await kubectlOk(
      [
        'patch',
        'modelrun/erc20-transfers-18m',
        '--type=merge',
        '--patch',
        JSON.stringify({ spec: { suspend: true }, status: { phase: 'Failed', progress: '0/400' } }),
      ],
      { namespace },
    );
    const afterPatch = await getJson('modelrun/erc20-transfers-18m');
    assert.equal((afterPatch.spec as Json).suspend, true, 'the spec change went through');
    assert.deepEqual(afterPatch.status, before.status, 'the status change was dropped');
    assert.equal(
      (afterPatch.metadata as Json).generation,
      Number((before.metadata as Json).generation) + 1,
      'a spec change bumps the generation',
    );
  });

  test('spec written through the status subresource is ignored, and status writes keep the generation', async () => {
    const before = await getJson('modelschedule/base-erc20-balances');
    await kubectlOk(
      [
        'patch',
        'modelschedule/base-erc20-balances',
        '--subresource=status',
        '--type=merge',
        '--patch',
        JSON.stringify({ spec: { suspend: true, chain: 'op' }, status: { pendingBatches: 5 } }),
      ],
      { namespace },
    );
    const afterPatch = await getJson('modelschedule/base-erc20-balances');
    assert.deepEqual(afterPatch.spec, before.spec, 'the spec change was dropped');
    assert.equal((afterPatch.status as Json).pendingBatches, 5, 'the status change went through');
    assert.equal((afterPatch.metadata as Json).generation, (before.metadata as Json).generation);
  });
});
