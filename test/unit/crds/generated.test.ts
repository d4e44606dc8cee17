// The committed output of `make generate` must match what the schemas generate now:
// a schema edit without regenerating fails here, not in a cluster.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { check, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { crdManifest } from '../../../crds/crdManifest.ts';
import { generatedFiles, loadSchemaDocuments, repoRoot } from '../../../crds/generatedFiles.ts';
import { CUSTOM_RESOURCE_KINDS, crdName } from '../../../crds/kinds.ts';
import { createSchemaResolver } from '../../../crds/schemaRefs.ts';
import { toStructuralSchema } from '../../../crds/structuralSchema.ts';

const files = await generatedFiles();

test('make generate writes the three CRDs, the types and the API reference', () => {
  assert.deepEqual(files.map((file) => file.path).sort(), [
    'crds/generated/modelruns.modelrunner.io.yaml',
    'crds/generated/modelschedules.modelrunner.io.yaml',
    'crds/generated/types.ts',
    'crds/generated/workerpools.modelrunner.io.yaml',
    'docs/api-reference.md',
  ]);
});

for (const file of files) {
  test(`${file.path} is up to date (run 'make generate' if not)`, () => {
    const committed = readFileSync(join(repoRoot, file.path), 'utf8');
    assert.equal(committed, file.content, `${file.path} is stale: run 'make generate' and commit the result`);
  });
}

test('crds/generated holds nothing the generator does not write', () => {
  const expected = files.filter((file) => file.path.startsWith('crds/generated/')).map((file) => file.path);
  const present = readdirSync(join(repoRoot, 'crds', 'generated')).map((name) => `crds/generated/${name}`);
  assert.deepEqual(present.sort(), expected.sort());
});

test('generating twice gives the same bytes', async () => {
  const again = await generatedFiles();
  assert.deepEqual(again, files);
});

test('the CRD files parse back to exactly the manifests built from the schemas', () => {
  const resolver = createSchemaResolver(loadSchemaDocuments(), 'inline');
  for (const kind of CUSTOM_RESOURCE_KINDS) {
    const file = files.find((candidate) => candidate.path === `crds/generated/${crdName(kind)}.yaml`);
    assert.ok(file, kind.kind);
    const expected = crdManifest(kind, toStructuralSchema(resolver.resolve(kind.schemaFile)));
    assert.deepEqual(parse(file.content), expected);
  }
});

test('generated YAML and TypeScript are already in the repository Prettier style', async () => {
  for (const file of files.filter((candidate) => !candidate.path.endsWith('.md'))) {
    const filepath = join(repoRoot, file.path);
    const options = await resolveConfig(filepath);
    assert.ok(await check(file.content, { ...options, filepath }), `${file.path} is not Prettier-formatted`);
  }
});
