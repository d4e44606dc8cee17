// Everything `make generate` writes, computed in memory: the generator writes these
// files, and a unit test compares them with the committed ones to catch stale output.

import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { renderApiReference } from './apiReference.ts';
import { applyContractNameRules } from './contractNameRules.ts';
import { crdManifest, renderCrdYaml } from './crdManifest.ts';
import { CUSTOM_RESOURCE_KINDS, crdName } from './kinds.ts';
import { createSchemaResolver, isJsonObject, type SchemaDocuments } from './schemaRefs.ts';
import { toStructuralSchema } from './structuralSchema.ts';
import { renderTypeDeclarations } from './typeDeclarations.ts';

export const crdsDir = import.meta.dirname;
export const repoRoot = resolve(crdsDir, '..');

export interface GeneratedFile {
  /** Path relative to the repository root. */
  path: string;
  content: string;
}

/** Every crds/*.schema.json by file name, with the contract's name rules filled in. */
export function loadSchemaDocuments(dir = crdsDir): SchemaDocuments {
  const documents = new Map<string, Record<string, unknown>>();
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.schema.json'))
    .sort()) {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if (!isJsonObject(parsed)) throw new Error(`${file} is not a JSON object`);
    documents.set(file, parsed);
  }
  return applyContractNameRules(documents);
}

export async function generatedFiles(documents = loadSchemaDocuments()): Promise<GeneratedFile[]> {
  const inline = createSchemaResolver(documents, 'inline');
  const documented = CUSTOM_RESOURCE_KINDS.map((kind) => ({ kind, schema: inline.resolve(kind.schemaFile) }));
  const manifests = documented.map(({ kind, schema }) => ({
    path: `crds/generated/${crdName(kind)}.yaml`,
    content: renderCrdYaml(crdManifest(kind, toStructuralSchema(schema)), kind.schemaFile),
  }));
  const types = await renderTypeDeclarations(
    CUSTOM_RESOURCE_KINDS,
    createSchemaResolver(documents, 'reference'),
  );
  const files = [
    ...manifests,
    { path: 'crds/generated/types.ts', content: types },
    { path: 'docs/api-reference.md', content: renderApiReference(documented) },
  ];
  return Promise.all(files.map(formattedLikeTheRepository));
}

/**
 * YAML and TypeScript in the repository's Prettier style, so the output reads like the
 * rest of the code even though Prettier skips crds/generated. (Markdown stays as written:
 * Prettier would pad every table cell.)
 */
async function formattedLikeTheRepository(file: GeneratedFile): Promise<GeneratedFile> {
  if (file.path.endsWith('.md')) return file;
  const filepath = join(repoRoot, file.path);
  const options = await resolveConfig(filepath);
  return { path: file.path, content: await format(file.content, { ...options, filepath }) };
}
