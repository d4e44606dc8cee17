#!/usr/bin/env node
// model-runner: run any model locally, without a cluster, writing the same files and
// markers a worker would; read the operator's run history.
//
//   model-runner models list
//   model-runner models run erc20_transfers --chain local --blocks 0-999 --lake ./lake
//   model-runner runs list --model erc20_transfers --since 7d
//   model-runner runs show team-a/transfers-18m
//   model-runner coverage --chain local --days 3
//
// Exit codes: 0 done, 1 a batch failed (earlier batches stay committed) or the run history
// could not be read, 2 bad usage.
import { hostname, userInfo } from 'node:os';
import IORedis from 'ioredis';
import { pino, type Logger } from 'pino';
import { openEthereumRpc } from '../adapters/ethereum/ethereumRpc.ts';
import { redactedEndpoint } from '../adapters/ethereum/jsonRpcClient.ts';
import { withOverrides } from '../dataplane/rpcClientSettings.ts';
import { openMarkerStore } from '../adapters/clickhouse/index.ts';
import { redactUrl } from '../adapters/redactUrl.ts';
import { openLake } from '../adapters/lake/openLake.ts';
import { TokenMetadataCache } from '../adapters/redis/tokenMetadataCache.ts';
import { lastSafeBlock } from '../dataplane/batches.ts';
import {
  type ChainConfig,
  loadChains,
  planChainBatches,
  requireChain,
  rpcUrlFor,
} from '../dataplane/chains.ts';
import { INGESTION_ROOT_PATHS } from '../dataplane/paths.ts';
import { modelRegistry } from '../models/registry.ts';
import { type BatchSummary, runModelBatch } from '../models/runBatch.ts';
import { type TokenMetadataSource, uncachedTokenMetadata } from '../models/tokenMetadataSource.ts';
import { type CoverageReport, buildCoverageReport, formatCoverageReport } from './coverageReport.ts';
import {
  type CoverageArguments,
  type RunArguments,
  USAGE,
  UsageError,
  parseCommandLine,
} from './modelRunnerArgs.ts';
import { runRunsCommand } from './runsCommand.ts';

/** Marker names must match PROCESS_NAME: keep letters, digits and a few separators. */
function markerName(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_.:@-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned.slice(0, 200) || 'unknown';
}

function listModels(json: boolean): void {
  const models = modelRegistry.list().map((model) => ({
    name: model.name,
    version: model.version,
    kind: model.kind,
    description: model.description,
    inputs: model.inputRootPaths,
    outputs: model.datasets.map((dataset) => dataset.rootPath),
  }));
  if (json) {
    console.log(JSON.stringify(models, null, 2));
    return;
  }
  for (const model of models) {
    console.log(`${model.name}  v${model.version}  ${model.kind}  ${model.description}`);
    console.log(`  inputs:  ${model.inputs.length > 0 ? model.inputs.join(', ') : 'JSON-RPC'}`);
    console.log(`  outputs: ${model.outputs.join(', ')}`);
  }
}

export interface RunTotals {
  model: string;
  chain: string;
  batches: number;
  skipped: number;
  committed: number;
  rows: Record<string, number>;
  files: number;
  counters: Record<string, number>;
  durationMs: number;
  failed?: { minBlock: number; maxBlock: number; error: string };
}

async function runModel(args: RunArguments, logger: Logger): Promise<RunTotals> {
  const started = performance.now();
  let model;
  let chain;
  try {
    model = modelRegistry.get(args.model);
    chain = requireChain(loadChains(), args.chain);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const rpcUrl = args.rpcUrl ?? rpcUrlFor(chain, process.env);
  const rpcClient = withOverrides(chain.rpcClient, args.rpcClient);
  const rpc = openEthereumRpc(rpcUrl, rpcClient, { logger });
  const lake = await openLake(args.lakeUrl, { gcsEndpoint: process.env.GCS_ENDPOINT });
  const markers = await openMarkerStore(args.clickhouseUrl, { database: args.clickhouseDatabase });
  const redis = args.redisUrl ? new IORedis.Redis(args.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  const tokenMetadata: TokenMetadataSource = redis
    ? new TokenMetadataCache({ redis, keyPrefix: args.redisPrefix })
    : uncachedTokenMetadata;
  logger.info(
    {
      model: model.name,
      chain: chain.name,
      rpc: redactedEndpoint(rpcUrl),
      rpcClient,
      lake: lake.url,
      clickhouse: args.clickhouseUrl.startsWith('chdb:') ? args.clickhouseUrl : redactUrl(args.clickhouseUrl),
      database: args.clickhouseDatabase,
      cache: redis ? 'redis' : 'none',
    },
    'model-runner starting',
  );
  const totals: RunTotals = {
    model: model.name,
    chain: chain.name,
    batches: 0,
    skipped: 0,
    committed: 0,
    rows: Object.fromEntries(model.datasets.map((dataset) => [dataset.name, 0])),
    files: 0,
    counters: {},
    durationMs: 0,
  };
  const processName = markerName(`cli/${userInfo().username}`);
  const writerName = markerName(hostname());
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await markers.ensureTable();
    const batches = planChainBatches(chain, args.range);
    for (const batch of batches) {
      totals.batches++;
      let summary: BatchSummary;
      try {
        summary = await runModelBatch({
          model,
          chain,
          batch,
          lake,
          markers,
          rpc,
          tokenMetadata,
          logger,
          signal: controller.signal,
          force: args.force,
          processName,
          writerName,
        });
      } catch (error) {
        totals.failed = { ...batch, error: (error as Error).message };
        break;
      }
      if (summary.skipped) totals.skipped++;
      else totals.committed++;
      for (const [name, rows] of Object.entries(summary.rows))
        totals.rows[name] = (totals.rows[name] ?? 0) + rows;
      for (const [name, value] of Object.entries(summary.counters)) {
        totals.counters[name] = (totals.counters[name] ?? 0) + value;
      }
      totals.files += summary.files.length;
      if (!args.json) {
        const state = summary.skipped ? 'skipped (complete)' : `${summary.files.length} files`;
        const rows = Object.entries(summary.rows)
          .map(([name, count]) => `${name}=${count}`)
          .join(' ');
        console.log(
          `batch ${batch.minBlock}-${batch.maxBlock - 1}: ${state} ${summary.skipped ? '' : rows}`.trimEnd(),
        );
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await markers.close();
    redis?.disconnect();
  }
  totals.durationMs = Math.round(performance.now() - started);
  return totals;
}

function printTotals(totals: RunTotals, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(totals));
    return;
  }
  console.log(
    `${totals.model} on ${totals.chain}: ${totals.batches} batches, ${totals.committed} written, ` +
      `${totals.skipped} skipped, ${totals.files} files, ${(totals.durationMs / 1000).toFixed(1)} s`,
  );
  for (const [name, rows] of Object.entries(totals.rows)) console.log(`  rows ${name}: ${rows}`);
  for (const [name, value] of Object.entries(totals.counters)) console.log(`  ${name}: ${value}`);
  if (totals.failed) {
    console.error(
      `batch ${totals.failed.minBlock}-${totals.failed.maxBlock - 1} failed: ${totals.failed.error}`,
    );
  }
}

/** Block numbers never come near 2^48: "from this block on". */
const OPEN_END = 2 ** 48;

/** The chain's safe tip from its JSON-RPC endpoint, when the command line or the env names one. */
async function safeTip(
  chain: ChainConfig,
  rpcUrl: string | undefined,
  logger: Logger,
): Promise<number | undefined> {
  const url = rpcUrl ?? process.env[chain.rpc.env];
  if (!url) return undefined;
  try {
    const rpc = openEthereumRpc(url, chain.rpcClient, { logger });
    return lastSafeBlock(await rpc.blockNumber(), chain.tipSafetyBlocks);
  } catch (error) {
    logger.warn(
      { err: (error as Error).message },
      'could not read the chain tip: lag is measured against the newest ingested block',
    );
    return undefined;
  }
}

async function coverage(args: CoverageArguments, now: Date, logger: Logger): Promise<CoverageReport> {
  let chain: ChainConfig;
  try {
    chain = requireChain(loadChains(), args.chain);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const toDt = now.toISOString().slice(0, 10);
  const fromDt = new Date(Date.parse(`${toDt}T00:00:00Z`) - (args.days - 1) * 86_400_000)
    .toISOString()
    .slice(0, 10);
  const markers = await openMarkerStore(args.clickhouseUrl, { database: args.clickhouseDatabase });
  try {
    const rootPaths = args.rootPaths.length > 0 ? args.rootPaths : await markers.rootPaths(chain.name);
    const query = { chain: chain.name, rootPaths, fromDt, toDt };
    const [rows, days] = await Promise.all([
      rootPaths.length > 0 ? markers.coverage(query) : Promise.resolve([]),
      markers.dayRanges({ ...query, rootPaths: [INGESTION_ROOT_PATHS.blocks] }),
    ]);
    const firstBlock = days.length > 0 ? Math.min(...days.map((day) => day.minBlock)) : 0;
    const complete = await markers.completeBatches(
      chain.name,
      [...new Set([...rootPaths, INGESTION_ROOT_PATHS.blocks])],
      { minBlock: firstBlock, maxBlock: OPEN_END },
    );
    const tip = await safeTip(chain, args.rpcUrl, logger);
    const ingestedEnds = complete
      .filter((batch) => batch.rootPath === INGESTION_ROOT_PATHS.blocks)
      .map((batch) => batch.maxBlock);
    return buildCoverageReport({
      chain,
      fromDt,
      toDt,
      today: toDt,
      dayFraction: (now.getTime() - Date.parse(`${toDt}T00:00:00Z`)) / 86_400_000,
      rootPaths,
      rows,
      days,
      complete,
      tip:
        tip !== undefined
          ? { block: tip, source: 'safe tip' }
          : ingestedEnds.length > 0
            ? { block: Math.max(...ingestedEnds) - 1, source: 'newest ingested block' }
            : undefined,
    });
  } finally {
    await markers.close();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`model-runner: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command.command === 'list') {
    listModels(command.json);
    return 0;
  }
  if (command.command === 'coverage') {
    try {
      const report = await coverage(command, new Date(), pino({ level: 'warn' }, pino.destination(2)));
      console.log(command.json ? JSON.stringify(report, null, 2) : formatCoverageReport(report));
      return 0;
    } catch (error) {
      console.error(`model-runner: ${(error as Error).message}`);
      return error instanceof UsageError ? 2 : 1;
    }
  }
  if (command.command === 'runs-list' || command.command === 'runs-show') {
    return runRunsCommand(command, new Date());
  }
  const logger = pino({ level: command.verbose ? 'info' : 'warn' }, pino.destination(2));
  try {
    const totals = await runModel(command, logger);
    printTotals(totals, command.json);
    return totals.failed ? 1 : 0;
  } catch (error) {
    console.error(`model-runner: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
