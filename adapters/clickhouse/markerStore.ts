// The ClickHouse marker store: the MarkerStore interface over @clickhouse/client.
//
// @clickhouse/client 1.x talks to the stack's ClickHouse 18.16 without trouble for what
// this store does (plain statements, JSONEachRow in and out; checked by the integration
// tests), and the same client runs in-process against a current ClickHouse through
// chdb's connection, so one adapter serves both. Values reach SQL only through the pure
// builders in dataplane/markerQueries.ts; inserts travel as JSONEachRow data.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { BlockRange } from '../../dataplane/batches.ts';
import { type Chains, loadChains, requireChain } from '../../dataplane/chains.ts';
import {
  MARKER_QUERY_SETTINGS,
  type MarkerChain,
  batchMarkersSql,
  batchesCompleteInAllSql,
  completeBatchMarkersSql,
  completeBatchesSql,
  coverageSql,
  dayRangesSql,
  parseDayRangeRow,
  createDatabaseSql,
  createMarkersTableSql,
  markerInsertRow,
  parseBatchStartsRow,
  parseCompleteBatchRow,
  parseCoverageRow,
  parseMarkerRow,
  parsePendingBatchRow,
  pendingBatchesSql,
  rootPathsSql,
} from '../../dataplane/markerQueries.ts';
import {
  type CompleteBatch,
  type CoverageQuery,
  type DayRange,
  DEFAULT_MARKERS_TABLE,
  type DtCoverageRow,
  type Marker,
  type MarkerStore,
  type MarkersTable,
  type NewMarker,
  type PendingBatch,
  type PendingBatchesQuery,
} from '../../dataplane/markers.ts';
import { assertSqlIdentifier } from '../../dataplane/validNames.ts';

export interface ClickHouseMarkerStoreOptions {
  client: ClickHouseClient;
  /** The database holding the table (production: one per environment; tests: their own). */
  database: string;
  table?: string;
  /** Stamps `updated_at` on markers that do not carry one. */
  clock?: () => Date;
  /** Close the client with the store (true when the store created it). */
  ownsClient?: boolean;
  /** Where each chain's batches end (completeness depends on it). Default: chains/chains.json. */
  chains?: Chains;
}

export class ClickHouseMarkerStore implements MarkerStore {
  readonly table: MarkersTable;
  private readonly client: ClickHouseClient;
  private readonly clock: () => Date;
  private readonly ownsClient: boolean;
  private readonly chains: Chains;

  constructor(options: ClickHouseMarkerStoreOptions) {
    const table = options.table ?? DEFAULT_MARKERS_TABLE;
    assertSqlIdentifier(options.database);
    assertSqlIdentifier(table);
    this.table = { database: options.database, table };
    this.client = options.client;
    this.clock = options.clock ?? (() => new Date());
    this.ownsClient = options.ownsClient ?? false;
    this.chains = options.chains ?? loadChains();
  }

  /** The chain's name and batch sizes; an unconfigured chain is an InvalidValueError. */
  private chain(name: string): MarkerChain {
    return requireChain(this.chains, name);
  }

  async ensureTable(): Promise<void> {
    await this.client.command({ query: createDatabaseSql(this.table) });
    await this.client.command({ query: createMarkersTableSql(this.table) });
  }

  async writeMarkers(markers: readonly NewMarker[]): Promise<void> {
    if (markers.length === 0) return;
    const now = this.clock();
    // Validate every row before sending any: a batch's markers go in one insert or not at all.
    const values = markers.map((marker) => markerInsertRow(marker, now));
    await this.client.insert({
      table: `\`${this.table.database}\`.\`${this.table.table}\``,
      values,
      format: 'JSONEachRow',
    });
  }

  async isBatchComplete(chain: string, rootPath: string, minBlock: number): Promise<boolean> {
    return (await this.completeBatchMarkers(chain, rootPath, minBlock)) !== undefined;
  }

  async completeBatchMarkers(
    chain: string,
    rootPath: string,
    minBlock: number,
  ): Promise<Marker[] | undefined> {
    const rows = await this.select(
      completeBatchMarkersSql(this.table, this.chain(chain), rootPath, minBlock),
    );
    return rows.length === 0 ? undefined : rows.map((row) => parseMarkerRow(row, chain));
  }

  async batchMarkers(chain: string, rootPath: string, minBlock: number): Promise<Marker[]> {
    const rows = await this.select(batchMarkersSql(this.table, this.chain(chain), rootPath, minBlock));
    return rows.map((row) => parseMarkerRow(row, chain));
  }

  async completeBatches(
    chain: string,
    rootPaths: readonly string[],
    range?: BlockRange,
  ): Promise<CompleteBatch[]> {
    const rows = await this.select(completeBatchesSql(this.table, this.chain(chain), rootPaths, range));
    return rows.map(parseCompleteBatchRow);
  }

  async batchesCompleteInAll(
    chain: string,
    rootPaths: readonly string[],
    ranges?: readonly BlockRange[],
  ): Promise<number[]> {
    if (ranges?.length === 0) return [];
    // Block numbers as JSON numbers, not quoted: a window's list holds 250,000 of them, and
    // checking quoted ones cost 130 ms a read. The parser refuses any beyond 2^53.
    const rows = await this.select(
      batchesCompleteInAllSql(this.table, this.chain(chain), rootPaths, ranges),
      {
        output_format_json_quote_64bit_integers: 0,
      },
    );
    // An aggregate without GROUP BY answers one row, with an empty list when nothing is complete.
    return rows.length === 0 ? [] : parseBatchStartsRow(rows[0]!);
  }

  async pendingBatches(query: PendingBatchesQuery): Promise<PendingBatch[]> {
    const rows = await this.select(
      pendingBatchesSql(this.table, { ...query, chain: this.chain(query.chain) }),
    );
    return rows.map(parsePendingBatchRow);
  }

  async coverage(query: CoverageQuery): Promise<DtCoverageRow[]> {
    const rows = await this.select(coverageSql(this.table, { ...query, chain: this.chain(query.chain) }));
    return rows.map(parseCoverageRow);
  }

  async dayRanges(query: CoverageQuery): Promise<DayRange[]> {
    const rows = await this.select(dayRangesSql(this.table, { ...query, chain: this.chain(query.chain) }));
    return rows.map(parseDayRangeRow);
  }

  /** The root paths with markers on the chain (what `model-runner coverage` reports by default). */
  async rootPaths(chain: string): Promise<string[]> {
    const rows = await this.select(rootPathsSql(this.table, chain));
    return rows.map((row) => String(row.root_path));
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  private async select(
    query: string,
    settings: ClickHouseSettings = MARKER_QUERY_SETTINGS,
  ): Promise<Record<string, unknown>[]> {
    const result = await this.client.query({ query, format: 'JSONEachRow', clickhouse_settings: settings });
    return result.json<Record<string, unknown>>();
  }
}
