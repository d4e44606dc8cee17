// How crds/schemaRefs.ts inlines $refs: shared objects for plain references, refined
// copies for references with keys next to them, and clear errors for broken references.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSchemaResolver, type JsonSchema, type SchemaDocuments } from '../../../crds/schemaRefs.ts';

const chainRule = { rule: "self.matches('^[a-z]+$')", message: 'must be a lower-case identifier' };
const immutableRule = { rule: 'self == oldSelf', message: 'spec.chain is immutable: create a new one' };

const documents: SchemaDocuments = new Map<string, JsonSchema>([
  [
    'shared.schema.json',
    {
      $defs: {
        chainName: { type: 'string', maxLength: 63, 'x-kubernetes-validations': [chainRule] },
        blockRange: { title: 'BlockRange', type: 'object', properties: { start: { type: 'integer' } } },
      },
    },
  ],
  [
    'kind.schema.json',
    {
      title: 'Kind',
      type: 'object',
      properties: {
        chain: {
          $ref: 'shared.schema.json#/$defs/chainName',
          description: 'Chain.',
          'x-kubernetes-validations': [immutableRule],
        },
        range: { $ref: 'shared.schema.json#/$defs/blockRange' },
        otherRange: { $ref: 'shared.schema.json#/$defs/blockRange' },
        annotatedRange: { $ref: 'shared.schema.json#/$defs/blockRange', description: 'Resolved range.' },
        local: { $ref: '#/$defs/lane' },
      },
      $defs: { lane: { type: 'string', enum: ['realtime', 'backfill'] } },
    },
  ],
  ['loop.schema.json', { properties: { self: { $ref: '#' } } }],
  ['broken.schema.json', { properties: { missing: { $ref: 'shared.schema.json#/$defs/nothing' } } }],
  ['unknown.schema.json', { properties: { missing: { $ref: 'nowhere.schema.json#/$defs/x' } } }],
]);

function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
  return schema.properties as Record<string, JsonSchema>;
}

describe('inline mode (for CRDs)', () => {
  const kind = createSchemaResolver(documents, 'inline').resolve('kind.schema.json');
  const properties = propertiesOf(kind);

  test('keys next to a $ref override the target and append validation rules', () => {
    assert.deepEqual(properties.chain, {
      type: 'string',
      maxLength: 63,
      description: 'Chain.',
      'x-kubernetes-validations': [chainRule, immutableRule],
    });
  });

  test('plain references share one object, so a titled definition is declared once', () => {
    assert.equal(properties.range, properties.otherRange);
    assert.equal(properties.range?.title, 'BlockRange');
  });

  test('a refined copy drops the title and keeps the target intact', () => {
    assert.equal(properties.annotatedRange?.title, undefined);
    assert.equal(properties.annotatedRange?.description, 'Resolved range.');
    assert.equal(properties.range?.description, undefined);
  });

  test('local references resolve in their own document and $defs disappear', () => {
    assert.deepEqual(properties.local, { type: 'string', enum: ['realtime', 'backfill'] });
    assert.equal(kind.$defs, undefined);
  });
});

describe('reference mode (for TypeScript)', () => {
  const resolver = createSchemaResolver(documents, 'reference');
  const properties = propertiesOf(resolver.resolve('kind.schema.json'));

  test('an annotating use of a titled definition names it by tsType', () => {
    assert.deepEqual(properties.annotatedRange, { description: 'Resolved range.', tsType: 'BlockRange' });
    assert.deepEqual(
      resolver.namedDefinitions().map((definition) => definition.title),
      ['BlockRange'],
    );
  });

  test('untitled definitions are still inlined', () => {
    assert.equal(properties.chain?.type, 'string');
  });
});

describe('broken references fail generation', () => {
  const cases: { file: string; error: RegExp }[] = [
    { file: 'loop.schema.json', error: /circular/ },
    { file: 'broken.schema.json', error: /does not resolve \(at nothing\)/ },
    { file: 'unknown.schema.json', error: /unknown schema file nowhere\.schema\.json/ },
    { file: 'absent.schema.json', error: /unknown schema file absent\.schema\.json/ },
  ];
  for (const { file, error } of cases) {
    test(file, () => assert.throws(() => createSchemaResolver(documents, 'inline').resolve(file), error));
  }
});
