import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvFile } from '../support/stackEnv.ts';

test('parseEnvFile reads export lines and ignores the rest', () => {
  const parsed = parseEnvFile(
    ['# comment', 'export KUBECONFIG="/x/kubeconfig"', 'export REDIS_URL="redis://127.0.0.1:1"', 'junk'].join(
      '\n',
    ),
  );
  assert.deepEqual(parsed, { KUBECONFIG: '/x/kubeconfig', REDIS_URL: 'redis://127.0.0.1:1' });
});
