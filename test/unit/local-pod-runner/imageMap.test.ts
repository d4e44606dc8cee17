import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  containerLaunch,
  defaultImageMap,
  findLocalImage,
  imageRepository,
  parseImageMap,
  WORKER_NODE_FLAGS,
} from '../../../devtools/local-pod-runner/imageMap.ts';

const repoRoot = '/src/model-runner';
const map = defaultImageMap(repoRoot);
const node = '/src/model-runner/node_modules/.bin/node';
const workerMain = '/src/model-runner/worker-image/main.ts';
/** The worker's Node flags, as worker-image/Dockerfile's ENTRYPOINT gives them. */
const workerFlags = ['--initial-heap-size=64'];
const operatorMain = '/src/model-runner/operator/main.ts';

const repositoryCases: [string, string][] = [
  ['model-runner/worker', 'model-runner/worker'],
  ['model-runner/worker:1.2', 'model-runner/worker'],
  ['ghcr.io/x/model-runner/worker:1.2', 'ghcr.io/x/model-runner/worker'],
  ['localhost:5000/model-runner/worker:dev', 'localhost:5000/model-runner/worker'],
  ['localhost:5000/model-runner/worker', 'localhost:5000/model-runner/worker'],
  ['model-runner/worker@sha256:abc', 'model-runner/worker'],
  ['model-runner/worker:1.2@sha256:abc', 'model-runner/worker'],
  ['busybox', 'busybox'],
];
for (const [image, repository] of repositoryCases) {
  test(`imageRepository(${image})`, () => assert.equal(imageRepository(image), repository));
}

const matchCases: [string, boolean][] = [
  ['model-runner/worker', true],
  ['model-runner/worker:latest', true],
  ['ghcr.io/x/model-runner/worker:1.2', true],
  ['localhost:5000/model-runner/worker:dev', true],
  ['ghcr.io/x/model-runner/worker-extra:1.2', false],
  ['ghcr.io/x/other-model-runner/worker:1.2', false],
  ['busybox', false],
];
for (const [image, mapped] of matchCases) {
  test(`the worker entry ${mapped ? 'maps' : 'does not map'} ${image}`, () => {
    assert.equal(findLocalImage(map, image) !== undefined, mapped);
  });
}

const launchCases: [string, { image: string; command?: string[]; args?: string[] }, string[]][] = [
  [
    'a mapped image runs its entrypoint',
    { image: 'ghcr.io/x/model-runner/worker:1.2' },
    [node, ...workerFlags, workerMain],
  ],
  [
    'args replace the default args',
    { image: 'model-runner/worker', args: ['--mode', 'job'] },
    [node, ...workerFlags, workerMain, '--mode', 'job'],
  ],
  [
    'command replaces the entrypoint (and args follow it)',
    { image: 'model-runner/worker', command: ['node', '-e'], args: ['1'] },
    ['node', '-e', '1'],
  ],
  [
    'an unmapped image runs its command on the host',
    { image: 'busybox:1.36', command: ['sh', '-c', 'echo hi'] },
    ['sh', '-c', 'echo hi'],
  ],
  [
    'empty args keep the default args',
    { image: 'model-runner/worker', args: [] },
    [node, ...workerFlags, workerMain],
  ],
  [
    'the operator image runs the operator',
    { image: 'ghcr.io/x/model-runner/operator:0.1' },
    [node, operatorMain],
  ],
];
for (const [name, container, argv] of launchCases) {
  test(`containerLaunch: ${name}`, () => {
    const launch = containerLaunch(map, container);
    assert.equal(launch.ok, true);
    if (launch.ok) assert.deepEqual(launch.argv, argv);
  });
}

test('containerLaunch: a mapped entrypoint names the files that must exist', () => {
  const launch = containerLaunch(map, { image: 'model-runner/worker:2' });
  assert.deepEqual(launch.ok && launch.requiredFiles, [node, workerMain]);
  const overridden = containerLaunch(map, { image: 'model-runner/worker:2', command: ['sh'] });
  assert.deepEqual(overridden.ok && overridden.requiredFiles, []);
});

const unrunnable: { image: string; args?: string[] }[] = [
  { image: 'busybox' },
  { image: 'busybox', args: ['x'] },
];
for (const container of unrunnable) {
  test(`containerLaunch: ${JSON.stringify(container)} is not runnable locally`, () => {
    const launch = containerLaunch(map, container);
    assert.equal(launch.ok, false);
    if (!launch.ok) {
      assert.equal(launch.reason, 'ImageNotRunnableLocally');
      assert.match(launch.message, /"busybox" has no local build/);
    }
  });
}

test('parseImageMap reads entries and expands {repoRoot}', () => {
  const parsed = parseImageMap(
    JSON.stringify({
      'acme/tool': {
        entrypoint: ['{repoRoot}/bin/tool'],
        args: ['--serve'],
        env: { TOOL_HOME: '{repoRoot}/tool' },
        workingDir: '{repoRoot}',
      },
    }),
    repoRoot,
  );
  assert.deepEqual(parsed.get('acme/tool'), {
    entrypoint: ['/src/model-runner/bin/tool'],
    args: ['--serve'],
    env: { TOOL_HOME: '/src/model-runner/tool' },
    workingDir: '/src/model-runner',
  });
  const launch = containerLaunch(parsed, { image: 'registry.local/acme/tool:3' });
  assert.deepEqual(launch.ok && [launch.argv, launch.imageEnv, launch.workingDir], [
    ['/src/model-runner/bin/tool', '--serve'],
    { TOOL_HOME: '/src/model-runner/tool' },
    '/src/model-runner',
  ]);
});

const invalidMaps: [string, string, RegExp][] = [
  ['not an object', '[]', /expected a JSON object/],
  ['a bad repository key', '{"Bad Key": {"entrypoint": ["x"]}}', /is not an image repository/],
  ['an empty entrypoint', '{"a/b": {"entrypoint": []}}', /must not be empty/],
  ['a non-string arg', '{"a/b": {"entrypoint": ["x"], "args": [1]}}', /list of strings/],
  ['a non-string env value', '{"a/b": {"entrypoint": ["x"], "env": {"A": 1}}}', /map names to strings/],
];
for (const [name, text, message] of invalidMaps) {
  test(`parseImageMap rejects ${name}`, () => assert.throws(() => parseImageMap(text, repoRoot), message));
}

test("the worker's Node flags are the image's: the Dockerfile's ENTRYPOINT", () => {
  const dockerfile = readFileSync(join(import.meta.dirname, '../../../worker-image/Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
  assert.ok(entrypoint, 'worker-image/Dockerfile has an exec-form ENTRYPOINT');
  assert.deepEqual(JSON.parse(entrypoint[1]!), ['node', ...WORKER_NODE_FLAGS, 'worker-image/main.ts']);
  assert.deepEqual(WORKER_NODE_FLAGS, workerFlags);
});
