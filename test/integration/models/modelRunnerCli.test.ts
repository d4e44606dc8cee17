// The CLI end to end, spawned as a process the way a person runs it: list the models,
// run ingest, erc20_transfers and erc20_balances over a range, rerun (skips), force.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { modelRegistry } from '../../../models/registry.ts';
import type { RunTotals } from '../../../cli/model-runner.ts';
import { type Erc20Scenario, runErc20Scenario } from '../../../devtools/anvil/erc20Scenario.ts';
import { uniqueName } from '../../support/names.ts';
import { repoRoot, stackEnv } from '../../../devtools/stackEnv.ts';
import {
  type ModelTestStack,
  batchesCovering,
  mineUntil,
  openModelTestStack,
  readLakeRows,
} from './modelTestSupport.ts';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'cli', 'model-runner.ts'), ...args], {
      cwd: repoRoot,
      // Only what the test hands over: no endpoint leaks in from the caller's shell.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('model-runner CLI', () => {
  let stack: ModelTestStack;
  let scenario: Erc20Scenario;
  let blocks: string;
  let batchCount: number;
  let common: string[];
  const redisPrefix = `${uniqueName('test-cli')}:`;

  before(async () => {
    stack = await openModelTestStack('models-cli');
    scenario = await runErc20Scenario(stackEnv().ETH_RPC_URL, { transfers: 12, minBlockSpan: 150, seed: 11 });
    const batches = batchesCovering(stack, scenario.fromBlock, scenario.toBlock);
    await mineUntil(stack.rpc, batches.at(-1)!.maxBlock - 1);
    batchCount = batches.length;
    blocks = `${scenario.fromBlock}-${scenario.toBlock}`;
    common = [
      '--chain',
      'local',
      '--blocks',
      blocks,
      '--rpc',
      stackEnv().ETH_RPC_URL,
      '--lake',
      stack.lakeDir,
      '--clickhouse',
      stackEnv().CLICKHOUSE_URL,
      '--clickhouse-database',
      stack.database,
      '--redis',
      stackEnv().REDIS_URL,
      '--redis-prefix',
      redisPrefix,
    ];
  });

  after(async () => {
    const keys = await stack.redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await stack.redis.del(...keys);
    await stack?.close();
  });

  it('lists the registered models', async () => {
    const json = await cli(['models', 'list', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { name: string; outputs: string[] }[];
    assert.deepEqual(
      listed.map((model) => [model.name, model.outputs]),
      modelRegistry.list().map((model) => [model.name, model.datasets.map((dataset) => dataset.rootPath)]),
    );
    const text = await cli(['models', 'list']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^erc20_transfers {2}v1 {2}nonreads/m);
    assert.match(
      text.stdout,
      /outputs: ingestion\/blocks_v1, ingestion\/transactions_v2, ingestion\/logs_v1/,
    );
  });

  it('runs ingest, erc20_transfers and erc20_balances and prints a summary', async () => {
    const ingested = await cli(['models', 'run', 'ingest', ...common, '--json']);
    assert.equal(ingested.code, 0, ingested.stderr);
    const ingestTotals = JSON.parse(ingested.stdout) as RunTotals;
    assert.equal(ingestTotals.batches, batchCount);
    assert.equal(ingestTotals.committed, batchCount);
    assert.equal(ingestTotals.rows.blocks, batchCount * 100);
    assert.equal(ingestTotals.files, batchCount * 3);

    const transfers = await cli(['models', 'run', 'erc20_transfers', ...common]);
    assert.equal(transfers.code, 0, transfers.stderr);
    assert.match(
      transfers.stdout,
      new RegExp(`erc20_transfers on local: ${batchCount} batches, ${batchCount} written, 0 skipped`),
    );
    assert.match(transfers.stdout, /rows erc20_transfers: \d+/);
    const rows = await readLakeRows(stack, modelRegistry.get('erc20_transfers').datasets[0]!.rootPath);
    const hashes = new Set(rows.map((row) => row.transaction_hash));
    assert.ok(
      scenario.transfers.every((t) => hashes.has(t.transactionHash)),
      'every transfer of the scenario is there',
    );

    const balances = await cli(['models', 'run', 'erc20_balances', ...common, '--json']);
    assert.equal(balances.code, 0, balances.stderr);
    const balanceTotals = JSON.parse(balances.stdout) as RunTotals;
    assert.ok(balanceTotals.rows.erc20_balances! > 0);
    const cached = await stack.redis.get(`${redisPrefix}token:local:${scenario.tokens[1]!.address}`);
    assert.deepEqual(JSON.parse(cached ?? 'null'), { decimals: 6, symbol: 'FIXB' });
  });

  it('a rerun skips complete batches, --force rewrites them', async () => {
    const rerun = JSON.parse(
      (await cli(['models', 'run', 'erc20_transfers', ...common, '--json'])).stdout,
    ) as RunTotals;
    assert.equal(rerun.skipped, batchCount);
    assert.equal(rerun.files, 0);
    const forced = await cli(['models', 'run', 'erc20_transfers', ...common, '--json', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const forcedTotals = JSON.parse(forced.stdout) as RunTotals;
    assert.equal(forcedTotals.committed, batchCount);
    assert.equal(forcedTotals.files, batchCount);
  });

  it('refuses bad usage with exit code 2 and says why', async () => {
    const cases: { name: string; args: string[]; env?: Record<string, string>; message: RegExp }[] = [
      {
        name: 'no chain',
        args: ['models', 'run', 'ingest', '--blocks', '0-9', '--lake', stack.lakeDir],
        message: /--chain is required/,
      },
      {
        name: 'bad range',
        args: ['models', 'run', 'ingest', '--chain', 'local', '--blocks', '9-0', '--lake', stack.lakeDir],
        message: /last block comes before/,
      },
      {
        name: 'no marker store',
        args: ['models', 'run', 'ingest', '--chain', 'local', '--blocks', '0-9', '--lake', stack.lakeDir],
        message: /a marker store is required/,
      },
      {
        name: 'unknown model',
        args: ['models', 'run', 'nope', ...common],
        message: /unknown model "nope"; known: erc20_balances, erc20_transfers, ingest/,
      },
      {
        name: 'unknown chain',
        args: ['models', 'run', 'ingest', ...common.map((a) => (a === 'local' ? 'mars' : a))],
        message: /unknown chain "mars"/,
      },
      { name: 'unknown command', args: ['model', 'list'], message: /unknown command "model"/ },
    ];
    for (const { name, args, env, message } of cases) {
      const result = await cli(args, env);
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, message, name);
    }
  });

  it('a batch that fails exits 1 and names the batch', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadRpc = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const args = common.map((arg) => (arg === stackEnv().ETH_RPC_URL ? deadRpc : arg));
    const result = await cli(['models', 'run', 'ingest', ...args, '--force']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /batch \d+-\d+ failed: eth_blockNumber: transport error ECONNREFUSED/);
  });
});
