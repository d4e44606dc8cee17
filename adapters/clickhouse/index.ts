// The ClickHouse adapter: the marker store and its clients.
export { ClickHouseMarkerStore, type ClickHouseMarkerStoreOptions } from './markerStore.ts';
export {
  createClickHouseClient,
  createServerClient,
  openClickHouseMarkerStore,
  openMarkerStore,
} from './clickhouseClient.ts';
