// Every manifest under examples/ applies cleanly to the real API server, with client-side
// apply, with server-side apply (fresh, repeated, and taking over from client-side apply),
// keeps every field it sets, and comes back with the schema's defaults filled in.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadSchemaDocuments } from '../../../crds/generatedFiles.ts';
import { CUSTOM_RESOURCE_KINDS } from '../../../crds/kinds.ts';
import { createSchemaResolver, isJsonObject, type JsonSchema } from '../../../crds/schemaRefs.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  installCrds,
  kubectl,
  kubectlOk,
} from '../../support/crds.ts';
import { repoRoot } from '../../../devtools/stackEnv.ts';

type Json = { [key: string]: unknown };

const examplesDir = join(repoRoot, 'examples');
const exampleFiles = readdirSync(examplesDir)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

const resolver = createSchemaResolver(loadSchemaDocuments(), 'inline');
const schemaByKind = new Map(
  CUSTOM_RESOURCE_KINDS.map((kind) => [kind.kind, resolver.resolve(kind.schemaFile)]),
);

function manifestsOf(file: string): Json[] {
  return parseAllDocuments(readFileSync(join(examplesDir, file), 'utf8')).map((document) => {
    const manifest: unknown = document.toJSON();
    assert.ok(isJsonObject(manifest), `${file}: every document is an object`);
    return manifest;
  });
}

/** `kind/name` of each object, as kubectl prints it. */
function resourceName(manifest: Json): string {
  const metadata = manifest.metadata as Json;
  return `${String(manifest.kind).toLowerCase()}.modelrunner.io/${String(metadata.name)}`;
}

async function liveObject(namespace: string, manifest: Json): Promise<Json> {
  const json = await kubectlOk(['get', resourceName(manifest), '-o', 'json'], { namespace });
  return JSON.parse(json) as Json;
}

interface DefaultMismatch {
  path: string;
  expected: unknown;
  actual: unknown;
}

/**
 * Walks the schema along the live object: every field the manifest left out that has a
 * schema default must hold that default. Returns what was checked and what differed.
 */
function checkDefaults(schema: JsonSchema, written: unknown, live: unknown, path: string) {
  const checked: string[] = [];
  const mismatches: DefaultMismatch[] = [];
  if (!isJsonObject(schema.properties) || !isJsonObject(live)) return { checked, mismatches };
  const source = isJsonObject(written) ? written : {};
  for (const [name, property] of Object.entries(schema.properties)) {
    if (!isJsonObject(property)) continue;
    const fieldPath = `${path}.${name}`;
    if (property.default !== undefined && source[name] === undefined) {
      checked.push(fieldPath);
      if (JSON.stringify(live[name]) !== JSON.stringify(property.default)) {
        mismatches.push({ path: fieldPath, expected: property.default, actual: live[name] });
      }
    }
    const nested = checkDefaults(property, source[name], live[name], fieldPath);
    checked.push(...nested.checked);
    mismatches.push(...nested.mismatches);
  }
  return { checked, mismatches };
}

/** Every value the manifest sets is stored as written (nothing pruned or rewritten). */
function assertContains(live: unknown, written: unknown, path: string): void {
  if (isJsonObject(written)) {
    assert.ok(isJsonObject(live), `${path} is missing`);
    for (const [key, value] of Object.entries(written)) assertContains(live[key], value, `${path}.${key}`);
  } else if (Array.isArray(written)) {
    assert.ok(Array.isArray(live) && live.length === written.length, `${path} differs`);
    written.forEach((value, index) => assertContains(live[index], value, `${path}[${index}]`));
  } else {
    assert.deepEqual(live, written, path);
  }
}

const namespaces: string[] = [];

before(() => installCrds());

after(async () => {
  await Promise.all(namespaces.map((namespace) => deleteTestNamespace(namespace)));
});

async function freshNamespace(): Promise<string> {
  const namespace = await createTestNamespace('crd-examples');
  namespaces.push(namespace);
  return namespace;
}

test('examples/ has a manifest for every kind', () => {
  const kinds = new Set(exampleFiles.flatMap((file) => manifestsOf(file).map((manifest) => manifest.kind)));
  assert.deepEqual([...kinds].sort(), ['ModelRun', 'ModelSchedule', 'WorkerPool']);
});

describe('every example applies cleanly', { concurrency: 3 }, () => {
  for (const file of exampleFiles) {
    const path = join(examplesDir, file);
    const manifests = manifestsOf(file);

    test(`${file}: kubectl apply, then server-side apply over it, stores every field`, async () => {
      const namespace = await freshNamespace();
      const created = await kubectl(['apply', '--filename', path], { namespace });
      assert.equal(created.exitCode, 0, created.stderr);
      assert.equal(created.stderr, '', 'no warnings');
      for (const manifest of manifests)
        assert.match(created.stdout, new RegExp(`${resourceName(manifest)} created`));

      const taken = await kubectl(['apply', '--server-side', '--filename', path], { namespace });
      assert.equal(taken.exitCode, 0, taken.stderr);
      assert.equal(taken.stderr, '', 'server-side apply takes over from client-side apply without conflicts');

      for (const manifest of manifests) {
        const live = await liveObject(namespace, manifest);
        assertContains(live.spec, manifest.spec, `${resourceName(manifest)} spec`);
        assert.deepEqual((live.metadata as Json).labels, (manifest.metadata as Json).labels);
      }
    });

    test(`${file}: server-side apply creates it, a second apply changes nothing, defaults appear`, async () => {
      const namespace = await freshNamespace();
      const applied = await kubectl(['apply', '--server-side', '--filename', path], { namespace });
      assert.equal(applied.exitCode, 0, applied.stderr);
      for (const manifest of manifests) {
        assert.match(applied.stdout, new RegExp(`${resourceName(manifest)} serverside-applied`));
      }
      const first = await Promise.all(manifests.map((manifest) => liveObject(namespace, manifest)));

      const again = await kubectl(['apply', '--server-side', '--filename', path], { namespace });
      assert.equal(again.exitCode, 0, again.stderr);
      const second = await Promise.all(manifests.map((manifest) => liveObject(namespace, manifest)));
      assert.deepEqual(
        second.map((object) => (object.metadata as Json).resourceVersion),
        first.map((object) => (object.metadata as Json).resourceVersion),
        'a repeated server-side apply must not write',
      );

      manifests.forEach((manifest, index) => {
        const live = first[index]!;
        const schema = schemaByKind.get(String(manifest.kind));
        assert.ok(isJsonObject(schema?.properties) && isJsonObject(schema.properties.spec));
        assertContains(live.spec, manifest.spec, `${resourceName(manifest)} spec`);
        const { checked, mismatches } = checkDefaults(
          schema.properties.spec,
          manifest.spec,
          live.spec,
          'spec',
        );
        assert.ok(checked.length > 0, `${resourceName(manifest)} leaves no field to its default`);
        assert.deepEqual(mismatches, [], `${resourceName(manifest)}: defaults not applied`);
        assert.equal(live.status, undefined, 'nobody but the operator writes status');
      });
    });
  }
});

test('defaults a user never has to type, on a minimal object of each kind', async () => {
  const namespace = await freshNamespace();
  const minimal = [
    {
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'ModelRun',
      metadata: { name: 'minimal' },
      spec: { model: 'erc20_transfers', chain: 'ethereum', blocks: { start: 0, end: 999 } },
    },
    {
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'ModelSchedule',
      metadata: { name: 'minimal' },
      spec: { model: 'erc20_transfers', chain: 'ethereum', trigger: { realtime: true } },
    },
    {
      apiVersion: 'modelrunner.io/v1alpha1',
      kind: 'WorkerPool',
      metadata: { name: 'minimal' },
      spec: {
        queues: { selector: { chain: 'ethereum' } },
        image: 'ghcr.io/example/model-runner-worker:0.1.0',
      },
    },
  ];
  const input = minimal.map((manifest) => JSON.stringify(manifest)).join('\n');
  await kubectlOk(['apply', '--server-side', '--filename', '-'], { namespace, input });
  const [run, schedule, pool] = await Promise.all(minimal.map((manifest) => liveObject(namespace, manifest)));
  assert.deepEqual(run!.spec, {
    model: 'erc20_transfers',
    chain: 'ethereum',
    blocks: { start: 0, end: 999 },
    lane: 'backfill',
    executor: 'queue',
    force: false,
    maxRetriesPerBatch: 3,
    suspend: false,
    dryRun: false,
  });
  assert.deepEqual(schedule!.spec, {
    model: 'erc20_transfers',
    chain: 'ethereum',
    trigger: { realtime: true, pollIntervalSeconds: 2 },
    maxBatchesPerRun: 1000,
    runTemplate: { spec: { lane: 'realtime', executor: 'queue', maxRetriesPerBatch: 3 } },
    concurrencyPolicy: 'Forbid',
    suspend: false,
    successfulRunsHistoryLimit: 3,
    failedRunsHistoryLimit: 1,
    stopAfterFailedRuns: 5,
    progressDeadlineSeconds: 3600,
  });
  assert.deepEqual(pool!.spec, {
    queues: {
      selector: { chain: 'ethereum', lanes: ['realtime', 'backfill'], kinds: ['reads', 'nonreads'] },
    },
    image: 'ghcr.io/example/model-runner-worker:0.1.0',
    prefetch: 1,
    replicas: 1,
    minReplicas: 0,
    maxReplicas: 10,
  });
});
