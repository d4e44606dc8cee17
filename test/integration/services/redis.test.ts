import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import IORedis from 'ioredis';
import { stackEnv } from '../../../devtools/stackEnv.ts';
import { uniqueName } from '../../support/names.ts';

const prefix = `${uniqueName('svc-redis')}:`;
const redis = new IORedis.Redis(stackEnv().REDIS_URL, { keyPrefix: prefix, lazyConnect: true });

after(async () => {
  // ioredis applies keyPrefix to keys (DEL) but not to KEYS patterns.
  const ours = (await redis.keys(`${prefix}*`)).map((key) => key.slice(prefix.length));
  if (ours.length > 0) await redis.del(...ours);
  redis.disconnect();
});

test('redis: hash increments are atomic under concurrency', async () => {
  await Promise.all(Array.from({ length: 50 }, () => redis.hincrby('progress', 'batches', 1)));
  assert.equal(await redis.hget('progress', 'batches'), '50');
});

test('redis: values expire after their TTL', async () => {
  await redis.set('short-lived', 'x', 'PX', 50);
  assert.equal(await redis.get('short-lived'), 'x');
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(await redis.get('short-lived'), null);
});
