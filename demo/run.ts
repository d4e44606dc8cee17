// make demo: the main job end to end on the local stack, through the operator.
//
// `make demo` first runs `make deploy` (the operator in the stack's cluster, as its own
// ServiceAccount, two replicas with a leader, and the default WorkerPools). Then: token
// transfers on anvil; the three example ModelRuns of examples/demo/ applied at once with
// kubectl (ingest and erc20_balances as Indexed Jobs, erc20_transfers through its queue and the
// WorkerPool that scales up from zero for it); `kubectl get modelruns` and `kubectl get
// workerpools` while the cluster schedules them (the transfers run waits for the ingested
// logs, the balances run for the transfers); a check of the lake against the transfers made on
// chain; and where everything is.
// Re-running it is safe: each run makes new transfers over new blocks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbSession, duckDbString } from '../adapters/parquet/duckDbSession.ts';
import { AnvilSession, runErc20Scenario } from '../devtools/anvil/erc20Scenario.ts';
import { kubectl, kubectlOk } from '../devtools/kubectl.ts';
import { chainDefaults, repoRoot, stackEnv } from '../devtools/stackEnv.ts';
import { loadChains, planChainBatches, requireChain } from '../dataplane/chains.ts';
import { modelOutputRootPath } from '../dataplane/paths.ts';

const CHAIN = 'local';
const NAMESPACE = 'default';
const SINK_ENV = 'local';
const MANIFESTS = ['ingest', 'erc20-transfers', 'erc20-balances'];
/** The default pool that serves the transfers run's queue (deploy/default-workerpools.yaml). */
const DEMO_POOL = 'local-backfill-nonreads';
const step = (text: string) => console.log(`\n▶ ${text}`);

const env = stackEnv();
const { LAKE_URL: lakeDir, CLICKHOUSE_DATABASE: database } = chainDefaults();
const chain = requireChain(loadChains(), CHAIN);
const batchSize = chain.batchSizes[0]!.batchSize;
const suffix = Date.now().toString(36);

step('anvil: deploy two ERC-20 tokens and make transfers over a few hundred blocks');
const scenario = await runErc20Scenario(env.ETH_RPC_URL, {
  transfers: 60,
  minBlockSpan: 400,
  seed: Date.now(),
});
console.log(
  `  ${scenario.transfers.length} Transfer events from ${scenario.tokens.length} tokens, blocks ${scenario.fromBlock}-${scenario.toBlock}`,
);
// One more batch of empty blocks, so the scenario's last batch is below the safe tip.
await (await new AnvilSession(env.ETH_RPC_URL).init()).mine(batchSize);
const batches = planChainBatches(chain, { minBlock: scenario.fromBlock, maxBlock: scenario.toBlock + 1 });
const start = batches[0]!.minBlock;
const end = batches.at(-1)!.maxBlock - 1;

step(`kubectl apply: three ModelRuns over blocks ${start}-${end} (examples/demo/)`);
const names: string[] = [];
for (const file of MANIFESTS) {
  const manifest = readFileSync(join(repoRoot, 'examples/demo', `${file}.yaml`), 'utf8')
    .replaceAll('${SUFFIX}', suffix)
    .replaceAll('${START}', String(start))
    .replaceAll('${END}', String(end));
  names.push(/name: (\S+)/.exec(manifest)![1]!);
  process.stdout.write(`  ${await kubectlOk(['apply', '-f', '-'], { input: manifest })}`);
}

step(
  'kubectl get modelruns, workerpools: the cluster plans, waits for inputs, runs Jobs and scales the pool',
);
const deadline = Date.now() + 300_000;
let last = '';
for (;;) {
  const table = [
    await kubectlOk(['get', 'modelruns', '-n', NAMESPACE, ...names]),
    await kubectlOk(['get', 'workerpools', '-n', NAMESPACE, DEMO_POOL]),
  ].join('');
  if (table !== last) {
    console.log(`  [${new Date().toISOString().slice(11, 19)}]\n${table.replace(/^/gm, '    ').trimEnd()}`);
    last = table;
  }
  const phases = (
    await kubectlOk([
      'get',
      'modelruns',
      '-n',
      NAMESPACE,
      ...names,
      '-o',
      'jsonpath={.items[*].status.phase}',
    ])
  ).split(' ');
  if (
    phases.length === names.length &&
    phases.every((phase) => ['Succeeded', 'Failed', 'Expired'].includes(phase))
  ) {
    if (phases.some((phase) => phase !== 'Succeeded')) {
      const describe = await kubectl(['describe', 'modelruns', '-n', NAMESPACE, ...names]);
      throw new Error(`a demo run did not succeed:\n${describe.stdout}`);
    }
    break;
  }
  if (Date.now() > deadline) throw new Error(`the demo runs did not finish in 300 s:\n${table}`);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

step('Check: the lake against what happened on chain');
const transfersRoot = modelOutputRootPath('erc20_transfers', 'erc20_transfers', 1);
const session = await DuckDbSession.open({ threads: 1 });
let written: string[];
try {
  const files = join(lakeDir, transfersRoot, `chain=${CHAIN}`, '*', '*.parquet');
  const tokens = scenario.tokens.map((token) => `'${token.address}'`).join(', ');
  written = (
    await session.query(
      `SELECT token_address, from_address, to_address, value, block_number FROM read_parquet(${duckDbString(files)})
       WHERE token_address IN (${tokens})`,
    )
  )
    .map((r) => `${r.token_address}|${r.from_address}|${r.to_address}|${r.value}|${r.block_number}`)
    .sort();
} finally {
  session.close();
}
const expected = scenario.transfers
  .map((t) => `${t.token}|${t.from}|${t.to}|${t.value}|${t.blockNumber}`)
  .sort();
const same = written.length === expected.length && written.every((row, i) => row === expected[i]);
console.log(
  `  Transfer events sent ${expected.length}; rows in the lake for these tokens ${written.length}; identical: ${same}`,
);
if (!same) throw new Error('the erc20_transfers rows in the lake differ from the transfers made on chain');

step('Where it all is');
const firstDt = (
  await kubectlOk(['get', 'modelrun', '-n', NAMESPACE, names[1]!, '-o', 'jsonpath={.status.startedAt}'])
).slice(0, 10);
console.log(
  `  parquet:  ${join(lakeDir, transfersRoot, `chain=${CHAIN}`, `dt=${firstDt}`)}/${String(start).padStart(12, '0')}.parquet (one file per batch and day)`,
);
console.log(
  `  markers:  curl '${env.CLICKHOUSE_URL}' --data "SELECT root_path, dt, min_block, max_block, row_count FROM ${database}.blockbatch_markers WHERE chain = '${CHAIN}' AND min_block >= ${start} ORDER BY root_path, min_block FORMAT PrettyCompact"`,
);
console.log(`  Kafka:    topic ${SINK_ENV}-${CHAIN}-sink on ${env.KAFKA_BROKERS}`);
console.log(
  `  runs:     kubectl get modelruns -n ${NAMESPACE}; kubectl describe modelrun ${names[1]} -n ${NAMESPACE}   (KUBECONFIG=${env.KUBECONFIG})`,
);
console.log(
  `  workers:  kubectl get workerpools -n ${NAMESPACE} -o wide (${DEMO_POOL} scales back to 0 after its cooldown)`,
);
console.log('\n✔ demo complete');
