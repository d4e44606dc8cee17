// `make generate`: writes the CRD manifests, the TypeScript types and the API reference
// from crds/*.schema.json. The output is committed; test/unit/crds/generated.test.ts
// fails when it is stale.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles, repoRoot } from './generatedFiles.ts';

for (const file of await generatedFiles()) {
  const target = join(repoRoot, file.path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.content);
  console.log(`wrote ${file.path}`);
}
