// Names on the Kafka sink: the topic per environment and chain, the record key and headers.
// The key is a pure function of the row's identity (never of time, attempt or worker), so a
// batch that is processed twice produces the same keys and consumers can de-duplicate on them.
import {
  CHAIN_NAME,
  MODEL_NAME,
  SINK_ENV_NAME,
  TOPIC_NAME,
  followsNameRule,
  requireName,
} from '../../contract/names.ts';

/** The last key segment: a log index, a transaction index, an address, or a few joined by `:`. */
export const ROW_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

/** `<env>-<chain>-sink`, e.g. `prod-ethereum-sink`. */
export function sinkTopicName(env: string, chain: string): string {
  requireName(SINK_ENV_NAME, env);
  requireName(CHAIN_NAME, chain);
  return requireName(TOPIC_NAME, `${env}-${chain}-sink`);
}

export interface SinkRowIdentity {
  model: string;
  dataset: string;
  chain: string;
  block: number;
  /** What tells rows of one block apart (log index, transaction index, holder address…). */
  rowKey: string;
}

/**
 * `<model>:<dataset>:<chain>:<block>:<rowKey>`. Model, dataset and chain cannot contain `:`,
 * so the key parses back unambiguously even when rowKey itself holds colons.
 */
export function sinkRecordKey(row: SinkRowIdentity): string {
  if (!followsNameRule(MODEL_NAME, row.model))
    throw new Error(`invalid model name ${JSON.stringify(row.model)}`);
  if (!followsNameRule(MODEL_NAME, row.dataset))
    throw new Error(`invalid dataset name ${JSON.stringify(row.dataset)}`);
  if (!followsNameRule(CHAIN_NAME, row.chain))
    throw new Error(`invalid chain name ${JSON.stringify(row.chain)}`);
  if (!Number.isSafeInteger(row.block) || row.block < 0)
    throw new Error(`invalid block ${String(row.block)}`);
  if (!ROW_KEY.test(row.rowKey)) throw new Error(`invalid row key ${JSON.stringify(row.rowKey)}`);
  return `${row.model}:${row.dataset}:${row.chain}:${row.block}:${row.rowKey}`;
}

export interface SinkContext {
  model: string;
  version: number;
  dataset: string;
  /** The ModelRun, `<namespace>/<name>`. */
  run: string;
  batchId: string;
}

/** Headers on every sink record: which model (and version) made it, for which run and batch. */
export function sinkRecordHeaders(context: SinkContext): Record<string, string> {
  return {
    model: context.model,
    version: String(context.version),
    dataset: context.dataset,
    run: context.run,
    batch: context.batchId,
  };
}

/** JSON for a row: bigints become decimal strings (exact), Dates ISO strings, Uint8Arrays 0x-hex. */
export function encodeSinkValue(row: unknown): string {
  return JSON.stringify(row, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`;
    return value;
  });
}
