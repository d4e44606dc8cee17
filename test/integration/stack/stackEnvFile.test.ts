// The env file `make stack-up` writes, from the stack script's own function run on its own
// against the stack's anvil into a temporary folder (the shared stack is not restarted):
// the lake and marker database are named after the chain anvil runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseEnvFile, repoRoot, stackEnv } from '../../../devtools/stackEnv.ts';

const workDir = mkdtempSync(join(tmpdir(), 'stack-env-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs `write_stack_env` of stack/components.sh with the stack's ports, but this STACK_DIR and anvil port. */
async function writeStackEnv(
  stackDir: string,
  anvilPort: string,
): Promise<{ code: number | null; stderr: string }> {
  mkdirSync(stackDir, { recursive: true });
  const script = 'set -euo pipefail; source stack/lib.sh; source stack/components.sh; write_stack_env';
  // stdin is not a socket, or bash takes itself for a remote shell and reads ~/.bashrc.
  const child = spawn('bash', ['-c', script], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? workDir,
      STACK_DIR: stackDir,
      ANVIL_PORT: anvilPort,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 30_000,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stderr };
}

async function genesisHash(): Promise<string> {
  const response = await fetch(stackEnv().ETH_RPC_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['0x0', false] }),
  });
  return ((await response.json()) as { result: { hash: string } }).result.hash;
}

test("write_stack_env names the lake and the marker database after anvil's genesis hash", async () => {
  const stackDir = join(workDir, 'ok');
  const written = await writeStackEnv(stackDir, new URL(stackEnv().ETH_RPC_URL).port);
  assert.equal(written.code, 0, written.stderr);

  const tag = (await genesisHash()).slice(2, 10);
  assert.match(tag, /^[0-9a-f]{8}$/);
  const env = parseEnvFile(readFileSync(join(stackDir, 'env'), 'utf8'));
  assert.equal(env.LAKE_URL, join(stackDir, 'lake', tag));
  assert.equal(env.CLICKHOUSE_DATABASE, `model_runner_${tag}`);
  assert.equal(env.ETH_RPC_URL, stackEnv().ETH_RPC_URL);
  assert.equal(env.MODEL_RUNNER_STACK_DIR, stackDir);
  assert.equal(existsSync(join(stackDir, 'env.tmp')), false, 'the temporary file was renamed');
});

test('write_stack_env fails, naming anvil, and writes nothing when there is no genesis block', async () => {
  // A JSON-RPC server that knows no block 0.
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end('{"jsonrpc":"2.0","id":1,"result":null}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const stackDir = join(workDir, 'no-genesis');
    const port = String((server.address() as AddressInfo).port);
    const written = await writeStackEnv(stackDir, port);
    assert.equal(written.code, 1);
    assert.match(
      written.stderr,
      /stack: anvil: could not read the genesis block hash from http:\/\/127\.0\.0\.1:\d+/,
    );
    assert.equal(existsSync(join(stackDir, 'env')), false);
  } finally {
    server.close();
  }
});
