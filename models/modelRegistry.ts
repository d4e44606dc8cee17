// A registry of model definitions, checked once when it is built: a bad definition (a
// name that is not a safe path segment, a key column that does not exist, two models
// writing one root path) fails at startup, not in the middle of a run.
import { MODEL_NAME, followsNameRule } from '../contract/names.ts';
import { ROOT_PATH } from '../dataplane/validNames.ts';
import { modelOutputRootPath } from '../dataplane/paths.ts';
import { validateSchema } from '../dataplane/parquetSchema.ts';
import type { ModelManifest } from './manifests.ts';
import type { DatasetDefinition, ModelDefinition } from './modelDefinition.ts';

export class ModelDefinitionError extends Error {
  override name = 'ModelDefinitionError';
}

/** Thrown by `get` for a model (or version) the registry does not have. */
export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
}

/** A model's dataset with its resolved output root path. */
export interface ModelDataset extends DatasetDefinition {
  rootPath: string;
}

export interface RegisteredModel extends ModelDefinition {
  datasets: readonly ModelDataset[];
}

/** The output root path of a dataset: `blockbatch/<model>/<dataset>_v<version>` unless pinned (ingest). */
export function datasetRootPath(
  model: Pick<ModelDefinition, 'name' | 'version'>,
  dataset: DatasetDefinition,
): string {
  return dataset.rootPath ?? modelOutputRootPath(model.name, dataset.name, model.version);
}

function fail(model: string, message: string): never {
  throw new ModelDefinitionError(`model ${JSON.stringify(model)}: ${message}`);
}

/** Checks one definition and resolves its root paths. */
export function validateModel(model: ModelDefinition): RegisteredModel {
  if (!followsNameRule(MODEL_NAME, model.name)) {
    fail(String(model.name), `name must be ${MODEL_NAME.shape}`);
  }
  if (!Number.isSafeInteger(model.version) || model.version < 1)
    fail(model.name, 'version must be a positive integer');
  if (model.kind !== 'reads' && model.kind !== 'nonreads') fail(model.name, `kind must be reads or nonreads`);
  if (typeof model.run !== 'function') fail(model.name, 'run must be a function');
  for (const input of model.inputRootPaths) {
    if (!ROOT_PATH.test(input))
      fail(model.name, `input root path ${JSON.stringify(input)} must match ${ROOT_PATH.source}`);
  }
  if (new Set(model.inputRootPaths).size !== model.inputRootPaths.length)
    fail(model.name, 'duplicate input root path');
  if (model.datasets.length === 0) fail(model.name, 'at least one output dataset is needed');
  const names = new Set<string>();
  const datasets = model.datasets.map((dataset): ModelDataset => {
    if (!followsNameRule(MODEL_NAME, dataset.name))
      fail(model.name, `dataset name ${JSON.stringify(dataset.name)} must be ${MODEL_NAME.shape}`);
    if (names.has(dataset.name)) fail(model.name, `duplicate dataset ${dataset.name}`);
    names.add(dataset.name);
    try {
      validateSchema(dataset.schema);
    } catch (error) {
      fail(model.name, `dataset ${dataset.name}: ${(error as Error).message}`);
    }
    const timestamp = dataset.schema.find((column) => column.name === dataset.timestampColumn);
    if (!timestamp || timestamp.type !== 'timestamp' || timestamp.nullable) {
      fail(
        model.name,
        `dataset ${dataset.name}: timestampColumn ${dataset.timestampColumn} must be a required timestamp column`,
      );
    }
    if (dataset.keyColumns.length === 0)
      fail(model.name, `dataset ${dataset.name}: at least one key column is needed`);
    for (const key of dataset.keyColumns) {
      const column = dataset.schema.find((c) => c.name === key);
      if (!column || column.nullable)
        fail(model.name, `dataset ${dataset.name}: key column ${key} must be a required column`);
    }
    if (dataset.rootPath !== undefined && !dataset.rootPath.startsWith('ingestion/')) {
      fail(model.name, `dataset ${dataset.name}: only ingestion datasets pin their root path`);
    }
    const rootPath = datasetRootPath(model, dataset);
    if (!ROOT_PATH.test(rootPath)) fail(model.name, `root path ${rootPath} must match ${ROOT_PATH.source}`);
    if (model.inputRootPaths.includes(rootPath))
      fail(model.name, `dataset ${dataset.name} would overwrite its own input`);
    return { ...dataset, rootPath };
  });
  return { ...model, datasets };
}

/** Why `model` does not match `manifest` (what the operator plans with), or undefined. */
export function manifestMismatch(model: RegisteredModel, manifest: ModelManifest): string | undefined {
  const identity = (m: Pick<ModelManifest, 'name' | 'version' | 'kind' | 'inputRootPaths'>) =>
    JSON.stringify([m.name, m.version, m.kind, [...m.inputRootPaths]]);
  if (identity(model) !== identity(manifest)) {
    return `name, version, kind or inputs ${identity(model)} differ from its manifest's ${identity(manifest)}`;
  }
  const outputs = JSON.stringify(model.datasets.map((dataset) => [dataset.name, dataset.rootPath]));
  const declared = JSON.stringify(manifest.outputs.map((output) => [output.dataset, output.rootPath]));
  return outputs === declared ? undefined : `outputs ${outputs} differ from its manifest's ${declared}`;
}

export interface ModelRegistryOptions {
  /** When given, the registry holds exactly these models, each as its manifest says. */
  manifests?: readonly ModelManifest[];
}

export class ModelRegistry {
  readonly #models = new Map<string, RegisteredModel>();

  constructor(models: readonly ModelDefinition[], options: ModelRegistryOptions = {}) {
    const writers = new Map<string, string>();
    for (const definition of models) {
      const model = validateModel(definition);
      if (this.#models.has(model.name)) fail(model.name, 'registered twice');
      for (const dataset of model.datasets) {
        const other = writers.get(dataset.rootPath);
        if (other) fail(model.name, `root path ${dataset.rootPath} is already written by ${other}`);
        writers.set(dataset.rootPath, model.name);
      }
      this.#models.set(model.name, model);
    }
    // Every input must be some model's output, so a run can always be planned.
    for (const model of this.#models.values()) {
      for (const input of model.inputRootPaths) {
        if (!writers.has(input)) fail(model.name, `input ${input} is no registered model's output`);
      }
    }
    if (options.manifests) this.#checkManifests(options.manifests);
  }

  /** The operator plans from the manifests and the workers run these models: they must agree. */
  #checkManifests(manifests: readonly ModelManifest[]): void {
    for (const manifest of manifests) {
      const model = this.#models.get(manifest.name);
      if (!model) fail(manifest.name, 'has a manifest but no implementation');
      const mismatch = manifestMismatch(model, manifest);
      if (mismatch) fail(manifest.name, mismatch);
    }
    for (const name of this.#models.keys()) {
      if (!manifests.some((manifest) => manifest.name === name)) fail(name, 'has no manifest');
    }
  }

  /** All models, by name. */
  list(): RegisteredModel[] {
    return [...this.#models.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  has(name: string, version?: number): boolean {
    const model = this.#models.get(name);
    return model !== undefined && (version === undefined || model.version === version);
  }

  /** The model, or an UnknownModelError naming the known ones (or the version there is). */
  get(name: string, version?: number): RegisteredModel {
    const model = this.#models.get(name);
    if (!model) {
      throw new UnknownModelError(
        `unknown model ${JSON.stringify(name)}; known: ${[...this.#models.keys()].sort().join(', ')}`,
      );
    }
    if (version !== undefined && model.version !== version) {
      throw new UnknownModelError(`model ${name} has version ${model.version}, not ${version}`);
    }
    return model;
  }

  /** The registered model writing `rootPath`, if any (planning walks inputs back to producers). */
  producerOf(rootPath: string): RegisteredModel | undefined {
    return this.list().find((model) => model.datasets.some((dataset) => dataset.rootPath === rootPath));
  }
}
