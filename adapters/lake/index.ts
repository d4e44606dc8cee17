// The data lake adapter: one interface, a local-folder and a GCS backend, and openLake(url).
export { type DataLake, type LakeBody, assertLakePath, normalizeLakePrefix } from './dataLake.ts';
export { LocalLake } from './localLake.ts';
export { GcsLake, type GcsLakeOptions } from './gcsLake.ts';
export { assertBucketName } from './gcsBucketName.ts';
export { openLake, parseLakeUrl, type LakeLocation, type OpenLakeOptions } from './openLake.ts';
