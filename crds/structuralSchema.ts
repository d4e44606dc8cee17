// Turns a resolved kind schema into the openAPIV3Schema of a CRD: keeps only the keywords
// apiextensions.k8s.io/v1 accepts, drops the ones meant for authors and TypeScript, and
// writes keys in one fixed order so the generated YAML never changes by accident.

import { isJsonObject, type JsonSchema } from './schemaRefs.ts';

/** Keywords of apiextensions.k8s.io/v1 JSONSchemaProps, in the order the CRD lists them. */
const CRD_KEYWORD_ORDER = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'nullable',
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'anyOf',
  'allOf',
  'oneOf',
  'not',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/** Keywords for authors (titles name TypeScript types) and for json-schema-to-typescript. */
const SOURCE_ONLY_KEYWORDS = new Set(['$schema', '$id', '$defs', '$comment', 'title', 'tsType']);

const VALIDATION_RULE_KEY_ORDER = [
  'rule',
  'message',
  'messageExpression',
  'reason',
  'fieldPath',
  'optionalOldSelf',
] as const;

const SUBSCHEMA_LIST_KEYWORDS = new Set(['anyOf', 'allOf', 'oneOf']);

/**
 * The CRD form of a resolved schema. Throws on a keyword the API server would reject,
 * so a typo in a schema fails `make generate` instead of `kubectl apply`.
 */
export function toStructuralSchema(schema: JsonSchema, path = ''): JsonSchema {
  for (const key of Object.keys(schema)) {
    if (key === '$ref') throw new Error(`${path || '/'}: unresolved $ref`);
    if (!SOURCE_ONLY_KEYWORDS.has(key) && !(CRD_KEYWORD_ORDER as readonly string[]).includes(key)) {
      throw new Error(`${path || '/'}: keyword ${key} is not allowed in a CRD schema`);
    }
  }
  const structural: JsonSchema = {};
  for (const key of CRD_KEYWORD_ORDER) {
    const value = schema[key];
    if (value === undefined) continue;
    structural[key] = convertKeyword(key, value, `${path}/${key}`);
  }
  if (typeof structural.description === 'string') {
    structural.description = withDefaultNoted(structural.description, schema.default);
  }
  return structural;
}

/**
 * `kubectl explain` prints descriptions but not defaults, so the CRD's description names a
 * scalar or list default. (Object defaults only make room for their fields' defaults.)
 */
function withDefaultNoted(description: string, defaultValue: unknown): string {
  if (defaultValue === undefined || isJsonObject(defaultValue)) return description;
  const written = Array.isArray(defaultValue) ? `[${defaultValue.join(', ')}]` : String(defaultValue);
  return `${description} Default: ${written}.`;
}

function convertKeyword(key: string, value: unknown, path: string): unknown {
  if (key === 'properties') {
    if (!isJsonObject(value)) throw new Error(`${path}: properties must be an object`);
    return Object.fromEntries(
      Object.entries(value).map(([name, property]) => [
        name,
        toStructuralSchemaOf(property, `${path}/${name}`),
      ]),
    );
  }
  if (key === 'items' || key === 'not' || (key === 'additionalProperties' && typeof value !== 'boolean')) {
    return toStructuralSchemaOf(value, path);
  }
  if (SUBSCHEMA_LIST_KEYWORDS.has(key)) {
    if (!Array.isArray(value)) throw new Error(`${path}: ${key} must be a list`);
    return value.map((item, index) => toStructuralSchemaOf(item, `${path}/${index}`));
  }
  if (key === 'x-kubernetes-validations') {
    if (!Array.isArray(value)) throw new Error(`${path}: must be a list`);
    return value.map((rule, index) => orderedValidationRule(rule, `${path}/${index}`));
  }
  return structuredClone(value);
}

function toStructuralSchemaOf(value: unknown, path: string): JsonSchema {
  if (!isJsonObject(value)) throw new Error(`${path}: expected a schema object`);
  return toStructuralSchema(value, path);
}

function orderedValidationRule(rule: unknown, path: string): JsonSchema {
  if (!isJsonObject(rule) || typeof rule.rule !== 'string')
    throw new Error(`${path}: a rule needs a rule string`);
  if (typeof rule.message !== 'string') {
    throw new Error(`${path}: every rule needs a static message (the API reference lists it)`);
  }
  const unknown = Object.keys(rule).filter(
    (key) => !(VALIDATION_RULE_KEY_ORDER as readonly string[]).includes(key),
  );
  if (unknown.length > 0) throw new Error(`${path}: unknown rule keys ${unknown.join(', ')}`);
  const ordered: JsonSchema = {};
  for (const key of VALIDATION_RULE_KEY_ORDER) if (rule[key] !== undefined) ordered[key] = rule[key];
  return ordered;
}
