import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of the code (docs/architecture.md). Each entry says what a folder may not import;
// `make lint` fails on a violation, and test/unit/layers.test.ts proves it does. A later entry
// replaces an earlier one for the files both match, so a narrower layer lists the wider one's
// patterns too.
const IO_PACKAGES =
  '^(@duckdb/|@clickhouse/|@google-cloud/|@kubernetes/|@platformatic/|amqplib$|ioredis$|pg$|kafkajs$|hyparquet|prom-client$|chdb)';
const PROCESSES = [
  '**/operator/**',
  '**/controllers/**',
  '**/worker-image/**',
  '**/cli/**',
  '**/demo/**',
  '**/bench/**',
];
const TESTS = ['**/test/**'];

const OPERATOR_PATTERNS = [
  { group: ['**/models/**', '!**/models/manifests.ts'], why: 'import models/manifests.ts only' },
  {
    group: [
      '**/adapters/parquet/**',
      '**/worker-image/**',
      '**/cli/**',
      '**/demo/**',
      '**/bench/**',
      ...TESTS,
    ],
    why: 'not the worker, the CLI or the tests',
  },
  { regex: '^(@duckdb/|hyparquet|chdb)', why: 'no DuckDB or parquet in the operator' },
];

function layer(files, message, patterns) {
  const withMessages = patterns.map(({ why, ...pattern }) => ({
    ...pattern,
    message: `${message} (${why})`,
  }));
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: withMessages }] } };
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.stack/**', 'dist/**', 'crds/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  layer(
    ['contract/**/*.ts'],
    'contract/ is the bottom layer, shared by the API, the operator and the workers',
    [
      { regex: '^\\.\\./', why: 'it imports nothing outside contract/' },
      { regex: '^(?!node:|\\.)', why: 'it uses no packages' },
    ],
  ),
  layer(['dataplane/**/*.ts'], 'dataplane/ is the pure core: no I/O', [
    {
      group: ['**/adapters/**', '**/models/**', '**/devtools/**', ...PROCESSES, ...TESTS],
      why: 'import contract/ and dataplane/ only',
    },
    { regex: IO_PACKAGES, why: 'no service client, DuckDB or parquet writer' },
  ]),
  layer(['models/manifests.ts'], 'model manifests are plain data the operator plans with', [
    { regex: '^\\./', why: 'no model implementation' },
    { group: ['**/adapters/**', ...PROCESSES, ...TESTS], why: 'import contract/ and dataplane/ only' },
    { regex: IO_PACKAGES, why: 'no I/O package' },
  ]),
  layer(
    ['controllers/**/*.ts', 'operator/**/*.ts'],
    'the operator plans from manifests and never runs a model',
    OPERATOR_PATTERNS,
  ),
  layer(['controllers/planning/**/*.ts'], 'planning is pure: data in, data out', [
    ...OPERATOR_PATTERNS,
    { group: ['**/adapters/**', '**/operator/**'], why: 'no adapter and no runtime' },
    // Types of Kubernetes objects are data; the client is not.
    { regex: IO_PACKAGES, allowTypeImports: true, why: 'no I/O package' },
  ]),
  layer(['adapters/**/*.ts'], 'adapters are the edges: thin clients in our words', [
    {
      group: ['**/models/**', '**/devtools/**', ...PROCESSES, ...TESTS],
      why: 'import contract/, dataplane/ and other adapters only',
    },
  ]),
  layer(['worker-image/**/*.ts'], 'the worker does not depend on the operator', [
    {
      group: [
        '**/operator/**',
        '**/controllers/**',
        '**/cli/**',
        '**/demo/**',
        '**/bench/**',
        '**/devtools/**',
        ...TESTS,
      ],
      why: 'import contract/, dataplane/, adapters/ and models/',
    },
  ]),
  layer(
    ['demo/**/*.ts', 'bench/**/*.ts', 'devtools/**/*.ts', 'cli/**/*.ts'],
    'scripts and tools share devtools/, never the tests',
    [{ group: TESTS, why: 'move what they share into devtools/' }],
  ),
);
