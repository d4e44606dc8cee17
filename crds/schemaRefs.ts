// Inlines every $ref of the kind schemas. CRD schemas cannot reference anything, so the
// generator works on fully resolved schemas; the source files still share definitions
// through crds/shared.schema.json.
//
// Two rules keep both consumers happy:
// - A plain `{ "$ref": ... }` resolves to the SAME object every time it is met, so
//   json-schema-to-typescript declares a titled definition (Condition, BlockRange) once.
// - Keys next to a $ref refine the target for this one use: they override its keys,
//   except x-kubernetes-validations, which are appended (a use can add rules, never drop
//   them). Such a refined copy loses the target's title, so it is not declared twice
//   under two names; for TypeScript (`reference` mode) a use that only annotates names
//   the definition instead of copying it.

export type JsonSchema = { [keyword: string]: unknown };

/** Schema documents by file name, e.g. `shared.schema.json`. */
export type SchemaDocuments = ReadonlyMap<string, JsonSchema>;

export function isJsonObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `file.json#/a/b` or `#/a/b`, relative to the document the $ref sits in. */
function parseRef(ref: string, currentFile: string): { file: string; pointer: string } {
  const hash = ref.indexOf('#');
  const file = hash === -1 ? ref : ref.slice(0, hash);
  const pointer = hash === -1 ? '' : ref.slice(hash + 1);
  return { file: file === '' ? currentFile : file, pointer };
}

function followPointer(document: JsonSchema, pointer: string, ref: string): unknown {
  if (pointer === '') return document;
  if (!pointer.startsWith('/')) throw new Error(`$ref ${ref}: only JSON pointers (#/...) are supported`);
  let node: unknown = document;
  for (const rawPart of pointer.slice(1).split('/')) {
    const part = rawPart.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isJsonObject(node) || !(part in node)) throw new Error(`$ref ${ref} does not resolve (at ${part})`);
    node = node[part];
  }
  return node;
}

/**
 * How a use that refines a titled definition (a $ref with keys next to it) resolves:
 * - `inline`: a copy of the definition with the use's keys applied (what a CRD needs);
 * - `reference`: when the use only annotates (description, default, validation rules),
 *   a `tsType` naming the definition, so TypeScript declares it once and the property
 *   keeps its own description. The definition is then listed by `namedDefinitions()`.
 */
export type RefinementMode = 'inline' | 'reference';

const ANNOTATION_KEYWORDS = new Set(['description', 'default', 'x-kubernetes-validations']);

export interface SchemaResolver {
  /** The document `rootFile` with every $ref inlined. */
  resolve(rootFile: string): JsonSchema;
  /** Titled definitions that `reference` mode named by tsType instead of inlining. */
  namedDefinitions(): JsonSchema[];
}

/** One resolver per generation: schemas it resolves share the objects of shared definitions. */
export function createSchemaResolver(documents: SchemaDocuments, mode: RefinementMode): SchemaResolver {
  const resolvedTargets = new Map<string, JsonSchema>();
  const resolving = new Set<string>();
  const named = new Set<JsonSchema>();

  function resolveTarget(ref: string, currentFile: string): JsonSchema {
    const { file, pointer } = parseRef(ref, currentFile);
    const key = `${file}#${pointer}`;
    const cached = resolvedTargets.get(key);
    if (cached) return cached;
    if (resolving.has(key)) throw new Error(`$ref ${key} is circular; CRD schemas cannot be recursive`);
    const document = documents.get(file);
    if (!document) throw new Error(`$ref ${ref} names an unknown schema file ${file}`);
    const target = followPointer(document, pointer, ref);
    if (!isJsonObject(target)) throw new Error(`$ref ${ref} does not point at a schema object`);
    resolving.add(key);
    const resolved = resolveNode(target, file) as JsonSchema;
    resolving.delete(key);
    resolvedTargets.set(key, resolved);
    return resolved;
  }

  function resolveNode(node: unknown, currentFile: string): unknown {
    if (Array.isArray(node)) return node.map((item) => resolveNode(item, currentFile));
    if (!isJsonObject(node)) return node;
    const { $ref, ...siblings } = node;
    const resolvedSiblings: JsonSchema = {};
    for (const [key, value] of Object.entries(siblings)) {
      if (key === '$defs') continue;
      resolvedSiblings[key] = resolveNode(value, currentFile);
    }
    if ($ref === undefined) return resolvedSiblings;
    if (typeof $ref !== 'string') throw new Error(`$ref must be a string, got ${JSON.stringify($ref)}`);
    const target = resolveTarget($ref, currentFile);
    if (Object.keys(resolvedSiblings).length === 0) return target;
    const onlyAnnotates = Object.keys(resolvedSiblings).every((key) => ANNOTATION_KEYWORDS.has(key));
    if (mode === 'reference' && typeof target.title === 'string' && onlyAnnotates) {
      named.add(target);
      return { description: resolvedSiblings.description ?? target.description, tsType: target.title };
    }
    return refine(target, resolvedSiblings);
  }

  return {
    resolve(rootFile: string): JsonSchema {
      const root = documents.get(rootFile);
      if (!root) throw new Error(`unknown schema file ${rootFile}`);
      return resolveNode(root, rootFile) as JsonSchema;
    },
    namedDefinitions: () => [...named],
  };
}

function refine(target: JsonSchema, siblings: JsonSchema): JsonSchema {
  const { title: _title, ...untitled } = target;
  const refined: JsonSchema = { ...untitled, ...siblings };
  const targetRules = target['x-kubernetes-validations'];
  const siblingRules = siblings['x-kubernetes-validations'];
  if (Array.isArray(targetRules) && Array.isArray(siblingRules)) {
    refined['x-kubernetes-validations'] = [...targetRules, ...siblingRules];
  }
  if (isJsonObject(target.properties) && isJsonObject(siblings.properties)) {
    refined.properties = { ...target.properties, ...siblings.properties };
  }
  return refined;
}
