// Conventions every kind schema keeps, checked on the resolved schemas: a description on
// every field (kubectl explain is the reference), bounds on every string, list and map
// (so CEL rules stay within the API server's cost budget), and printer columns, field
// selectors and scale paths that point at fields that exist with the right type.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadSchemaDocuments } from '../../../crds/generatedFiles.ts';
import { CUSTOM_RESOURCE_KINDS, type PrinterColumnType } from '../../../crds/kinds.ts';
import { createSchemaResolver, isJsonObject, type JsonSchema } from '../../../crds/schemaRefs.ts';
import { toStructuralSchema } from '../../../crds/structuralSchema.ts';

const resolver = createSchemaResolver(loadSchemaDocuments(), 'inline');
const kinds = CUSTOM_RESOURCE_KINDS.map((kind) => ({ kind, schema: resolver.resolve(kind.schemaFile) }));

interface SchemaNode {
  path: string;
  schema: JsonSchema;
  /** Reached as a named property (not as list items or map values). */
  isProperty: boolean;
}

function schemaNodes(schema: JsonSchema, path = '', isProperty = false): SchemaNode[] {
  const nodes: SchemaNode[] = [{ path, schema, isProperty }];
  if (isJsonObject(schema.properties)) {
    for (const [name, property] of Object.entries(schema.properties)) {
      if (isJsonObject(property)) nodes.push(...schemaNodes(property, path ? `${path}.${name}` : name, true));
    }
  }
  if (isJsonObject(schema.items)) nodes.push(...schemaNodes(schema.items, `${path}[]`));
  if (isJsonObject(schema.additionalProperties))
    nodes.push(...schemaNodes(schema.additionalProperties, `${path}{}`));
  return nodes;
}

/** The schema at a printer-column style path such as `.status.lag.blocks`. */
function schemaAt(schema: JsonSchema, jsonPath: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const part of jsonPath.slice(1).split('.')) {
    const properties: unknown = node?.properties;
    node = isJsonObject(properties) && isJsonObject(properties[part]) ? properties[part] : undefined;
  }
  return node;
}

function columnTypeFits(type: PrinterColumnType, field: JsonSchema): boolean {
  switch (type) {
    case 'date':
      return field.type === 'string' && field.format === 'date-time';
    case 'string':
      return field.type === 'string' || field.type === 'array';
    default:
      return field.type === type;
  }
}

for (const { kind, schema } of kinds) {
  describe(`${kind.kind} schema`, () => {
    const nodes = schemaNodes(schema);

    test('every field has a description (metadata is documented by the API server)', () => {
      const undocumented = nodes
        .filter((node) => node.isProperty && node.path !== 'metadata')
        .filter((node) => typeof node.schema.description !== 'string' || node.schema.description.length < 10)
        .map((node) => node.path);
      assert.deepEqual(undocumented, []);
    });

    test('every string, list and map is bounded', () => {
      const unbounded = nodes
        .filter(({ schema: node }) => {
          if (node.type === 'string')
            return node.enum === undefined && node.format !== 'date-time' && node.maxLength === undefined;
          if (node.type === 'array') return node.maxItems === undefined;
          if (node.type === 'object' && isJsonObject(node.additionalProperties))
            return node.maxProperties === undefined;
          if (node['x-kubernetes-int-or-string'] === true) return node.maxLength === undefined;
          return false;
        })
        .map((node) => node.path);
      assert.deepEqual(unbounded, []);
    });

    test('every schema node has a type (structural schema)', () => {
      const untyped = nodes
        .filter(({ schema: node }) => node.type === undefined && node['x-kubernetes-int-or-string'] !== true)
        .map((node) => node.path);
      assert.deepEqual(untyped, []);
    });

    test('every validation rule has a message that says what to do', () => {
      const rules = nodes.flatMap(({ path, schema: node }) =>
        Array.isArray(node['x-kubernetes-validations'])
          ? node['x-kubernetes-validations'].filter(isJsonObject).map((rule) => ({ path, rule }))
          : [],
      );
      assert.ok(rules.length > 0);
      for (const { path, rule } of rules) {
        assert.equal(typeof rule.message, 'string', `${path}: ${String(rule.rule)}`);
        assert.ok(String(rule.message).length >= 30, `${path}: message too short to explain a fix`);
      }
    });

    test('printer columns point at fields of the column type', () => {
      for (const column of kind.printerColumns) {
        if (column.jsonPath === '.metadata.creationTimestamp') continue;
        const field = schemaAt(schema, column.jsonPath);
        assert.ok(field, `${column.name}: ${column.jsonPath} is not in the schema`);
        assert.ok(
          columnTypeFits(column.type, field),
          `${column.name}: ${column.jsonPath} is not a ${column.type}`,
        );
      }
    });

    test('selectable fields are strings, integers or booleans', () => {
      for (const jsonPath of kind.selectableFields) {
        const field = schemaAt(schema, jsonPath);
        assert.ok(field && ['string', 'integer', 'boolean'].includes(String(field.type)), jsonPath);
      }
    });

    test('the structural form keeps only keywords the API server accepts', () => {
      const structural = JSON.stringify(toStructuralSchema(schema));
      for (const keyword of ['"title"', '"tsType"', '"$ref"', '"$defs"', '"$schema"', '"$id"']) {
        assert.ok(!structural.includes(keyword), `${keyword} left in the CRD schema`);
      }
    });
  });
}

test('the WorkerPool scale subresource points at integer replicas and a string selector', () => {
  const workerPool = kinds.find(({ kind }) => kind.scale);
  assert.ok(workerPool?.kind.scale);
  const { scale } = workerPool.kind;
  assert.equal(schemaAt(workerPool.schema, scale.specReplicasPath)?.type, 'integer');
  assert.equal(schemaAt(workerPool.schema, scale.statusReplicasPath)?.type, 'integer');
  assert.equal(schemaAt(workerPool.schema, scale.labelSelectorPath)?.type, 'string');
});

test('toStructuralSchema rejects keywords a CRD cannot hold', () => {
  const cases: { schema: JsonSchema; error: RegExp }[] = [
    { schema: { type: 'string', examples: ['x'] }, error: /keyword examples is not allowed/ },
    { schema: { $ref: 'shared.schema.json#/$defs/chainName' }, error: /unresolved \$ref/ },
    {
      schema: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self != ""' }] },
      error: /needs a static message/,
    },
  ];
  for (const { schema, error } of cases) assert.throws(() => toStructuralSchema(schema), error);
});
