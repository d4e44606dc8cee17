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
  const ttl = await redis.pttl('short-lived');
  assert.ok(ttl > 0 && ttl <= 50, `pttl ${ttl}`);
  // Gone once the TTL has passed: polled with a deadline, not a fixed sleep.
  const deadline = Date.now() + 5_000;
  while ((await redis.exists('short-lived')) === 1) {
    assert.ok(Date.now() < deadline, 'still there 5 s after a 50 ms TTL');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(await redis.get('short-lived'), null);
});
