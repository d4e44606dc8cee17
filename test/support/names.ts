// Unique, valid names so tests can run in parallel and be re-run without a reset.
import { randomBytes } from 'node:crypto';

/** `<prefix>-<8 hex>`: valid as a namespace, queue, topic, bucket, schema or key prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Same, with underscores: for SQL identifiers (schemas, tables, databases). */
export function uniqueIdentifier(prefix: string): string {
  return uniqueName(prefix).replaceAll('-', '_');
}
