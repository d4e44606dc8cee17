// GCS bucket names, apart from the GCS lake: parsing a lake URL must not load the GCS client
// (its import costs a local-lake worker about a quarter CPU-second at start).
import { InvalidValueError } from '../../dataplane/validNames.ts';

/** Bucket names as GCS allows them (without the dotted, domain-named form). */
const BUCKET = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;

export function assertBucketName(bucket: string): void {
  if (!BUCKET.test(bucket)) throw new InvalidValueError(`invalid GCS bucket name ${JSON.stringify(bucket)}`);
}
