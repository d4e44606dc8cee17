// A real worker process meets messages no retry can fix: each goes straight to the DLQ with
// its reason, the run's failed list says why, and the worker keeps consuming.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from './support.ts';
import type { WorkerProcess } from './workerProcess.ts';
import { WorkerTestWorld } from './workerHarness.ts';

let world: WorkerTestWorld;
let worker: WorkerProcess;

before(async () => {
  world = await WorkerTestWorld.create();
  worker = await world.startWorker();
});

after(async () => {
  await world.cleanup(); // stops the worker too
});

test('malformed, unknown and misrouted batches are dead-lettered with their reasons; the worker lives on', async () => {
  const otherChain = world.batch('erc20_transfers', 0, {
    chain: 'ethereum',
    batchId: 'ethereum/erc20_transfers/0',
  });
  await world.publisher.publish('', world.queue, Buffer.from('{"runId": {"namespace": "x"'));
  await world.publisher.publish(
    '',
    world.queue,
    Buffer.from(JSON.stringify({ ...world.batch('ingest', 0), batchId: 'x' })),
  );
  await world.publish(world.batch('no_such_model', 0, { version: 1 }));
  await world.publish(world.batch('erc20_transfers', 100, { version: 99 }));
  await world.publish(otherChain);
  await world.publish(
    world.batch('erc20_transfers', 250, { maxBlock: 350, batchId: `${world.chain}/erc20_transfers/250` }),
  );

  const progress = await world.waitForProgress('four failed batches', (p) => p.failed === 4, 30_000);
  await eventually('six dead letters', async () =>
    (await world.queueCounts()).dead >= 6 ? true : undefined,
  );
  const letters = await world.deadLetters();
  const summary = letters.map((letter) => [
    String(letter.headers['x-dead-letter-reason']),
    String(letter.headers['x-error']),
  ]);
  assert.equal(letters.length, 6);
  const byReason = (reason: string) => summary.filter(([r]) => r === reason).map(([, error]) => error);
  assert.match(byReason('malformed')[0]!, /message is not JSON/);
  assert.match(byReason('malformed')[1]!, /batchId must be/);
  assert.match(
    byReason('malformed')[2]!,
    /blocks 250-349 are not a batch of w_[0-9a-f]+ \(the batch holding block 250 is 200-299\)/,
  );
  assert.match(
    byReason('unknownModel')[0]!,
    /unknown model "no_such_model"; known: erc20_balances, erc20_transfers, ingest/,
  );
  assert.match(byReason('unknownModel')[1]!, /model erc20_transfers has version 1, not 99/);
  assert.match(byReason('misrouted')[0]!, /batch of chain ethereum on queue w_[0-9a-f]+_backfill_nonreads/);
  for (const letter of letters) {
    assert.equal(letter.headers['x-original-queue'], world.queue);
    assert.match(String(letter.headers['x-worker']), /^worker-/);
  }
  // The malformed bodies are kept as they came, for a person to look at.
  assert.ok(letters.some((letter) => letter.body === '{"runId": {"namespace": "x"'));

  // What the operator shows: the three batches of this run with their errors (the malformed
  // ones have no readable run), and the misrouted one under its own (same) run uid.
  assert.deepEqual(
    progress.failedBatches.map((failure) => failure.batchId).sort(),
    [
      `${world.chain}/erc20_transfers/100`,
      `${world.chain}/erc20_transfers/250`,
      `${world.chain}/no_such_model/0`,
      'ethereum/erc20_transfers/0',
    ].sort(),
  );
  assert.equal(progress.succeeded, 0);
  assert.equal((await world.queueCounts()).ready, 0);
  assert.equal(worker.running, true);
  const fatal = worker.lines.filter((line) => line.level >= 60);
  assert.deepEqual(fatal, []);
});

test('every log line about a batch carries its run and batch ids', () => {
  const batchLines = worker.lines.filter(
    (line) => line.msg === 'batch dead-lettered' && line.batchId !== undefined,
  );
  assert.ok(batchLines.length >= 4, `only ${batchLines.length} dead-letter lines with a batchId`);
  for (const line of batchLines) {
    assert.equal(line.runId, 'worker-test/run-1');
    assert.equal(line.runUid, world.runUid);
    assert.match(String(line.batchId), /^(w_[0-9a-f]+|ethereum)\/[a-z0-9_]+\/\d+$/);
  }
});
