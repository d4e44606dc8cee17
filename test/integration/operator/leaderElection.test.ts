// Leader election against the stack's API server with short durations: one leader at a time;
// when the leader stops renewing (dies without releasing), another takes over once the Lease
// has gone unrenewed for a lease duration; release() hands over at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaderElector, type LeaderElectorOptions } from '../../../operator/runtime/index.ts';
import { createTestNamespace, deleteTestNamespace, kubeClients, pollUntil } from '../../support/kube.ts';
import { uniqueName } from '../../support/names.ts';
import { capturedLog } from './support.ts';

let namespace: string;
const electors: LeaderElector[] = [];
before(async () => {
  namespace = await createTestNamespace('leader');
});
after(async () => {
  await Promise.all(electors.map((elector) => elector.stop()));
  if (namespace) await deleteTestNamespace(namespace);
});

/** Who leads, as the electors report it; fails the test if two ever lead at once. */
class Leadership {
  readonly current = new Set<string>();
  readonly history: string[] = [];
  overlaps = 0;

  /** `beforeStopped` runs when leadership ends, before the leader work reports it stopped. */
  elector(
    lease: string,
    identity: string,
    timings: Partial<LeaderElectorOptions>,
    beforeStopped: () => Promise<void> = async () => {},
  ) {
    const elector = new LeaderElector({
      coordination: kubeClients().coordination,
      namespace,
      name: lease,
      identity,
      log: capturedLog().log,
      onStartedLeading: (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => void beforeStopped().then(resolve), { once: true }),
        ),
      onLeadershipChange: (leading) => {
        if (leading) {
          if (this.current.size > 0) this.overlaps++;
          this.current.add(identity);
          this.history.push(identity);
        } else {
          this.current.delete(identity);
        }
      },
      ...timings,
    });
    electors.push(elector);
    return elector;
  }

  leader(): string | undefined {
    return this.current.size === 1 ? [...this.current][0] : undefined;
  }
}

const SHORT = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

test('of two candidates one leads; when it dies the other takes over after the lease expires', async () => {
  const lease = uniqueName('lease');
  const leadership = new Leadership();
  const candidates = new Map([
    ['replica-a', leadership.elector(lease, 'replica-a', SHORT)],
    ['replica-b', leadership.elector(lease, 'replica-b', SHORT)],
  ]);
  for (const elector of candidates.values()) elector.start();
  const first = await pollUntil('a leader', () => leadership.leader(), { timeoutMs: 10_000 });
  const other = first === 'replica-a' ? 'replica-b' : 'replica-a';

  const read = await kubeClients().coordination.readNamespacedLease({ namespace, name: lease });
  assert.equal(read.spec?.holderIdentity, first);
  assert.equal(read.spec?.leaseDurationSeconds, 3);
  assert.match(
    String(read.spec?.renewTime),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    'MicroTime reads back as a string',
  );
  // While the leader lives, it keeps renewing and the standby never takes over.
  const renewals = new Set<string>();
  const holders = new Set<string>();
  await pollUntil(
    'four renewals by the leader',
    async () => {
      const again = await kubeClients().coordination.readNamespacedLease({ namespace, name: lease });
      holders.add(String(again.spec?.holderIdentity));
      renewals.add(String(again.spec?.renewTime));
      return renewals.size >= 4;
    },
    { timeoutMs: 10_000, intervalMs: 200 },
  );
  assert.deepEqual([...holders], [first], "the standby never took a live leader's Lease");
  assert.equal(candidates.get(other)!.isLeader(), false);
  assert.equal(leadership.overlaps, 0);

  // Death without release: the Lease still names the old leader until it expires.
  await candidates.get(first)!.stop();
  const stoppedAt = Date.now();
  const takeoverBoundMs = SHORT.leaseDurationMs + 2 * SHORT.retryPeriodMs * 1.2 + 2_000;
  await pollUntil(`${other} to take over`, () => leadership.leader() === other, {
    timeoutMs: takeoverBoundMs,
  });
  const takeoverMs = Date.now() - stoppedAt;
  console.log(`takeover after the leader died: ${takeoverMs} ms (lease ${SHORT.leaseDurationMs} ms)`);
  const after = await kubeClients().coordination.readNamespacedLease({ namespace, name: lease });
  assert.equal(after.spec?.holderIdentity, other);
  assert.equal(after.spec?.leaseTransitions, 1);
  assert.equal(leadership.overlaps, 0, `never two leaders at once: ${leadership.history}`);
});

test('release() frees the Lease so a standby takes over at once, after the leader work stopped', async () => {
  const lease = uniqueName('lease');
  const leadership = new Leadership();
  // A long lease: a takeover well within it can only come from the release.
  const timings = { leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 500 };
  // What the Lease said while replica-a's work was winding down: it must still be replica-a's.
  const holderWhileStopping: string[] = [];
  const a = leadership.elector(lease, 'replica-a', timings, async () => {
    await sleep(200);
    const read = await kubeClients().coordination.readNamespacedLease({ namespace, name: lease });
    holderWhileStopping.push(String(read.spec?.holderIdentity));
  });
  a.start();
  await pollUntil('replica-a leads', () => leadership.leader() === 'replica-a', { timeoutMs: 10_000 });
  const b = leadership.elector(lease, 'replica-b', timings);
  b.start();

  const releasedAt = Date.now();
  await a.release();
  assert.equal(a.isLeader(), false);
  assert.deepEqual(
    holderWhileStopping,
    ['replica-a'],
    'the Lease is freed only after the leader work stopped',
  );
  const freed = await kubeClients().coordination.readNamespacedLease({ namespace, name: lease });
  assert.ok(
    freed.spec?.holderIdentity === '' || freed.spec?.holderIdentity === 'replica-b',
    `released: ${freed.spec?.holderIdentity}`,
  );
  await pollUntil('replica-b takes over', () => leadership.leader() === 'replica-b', { timeoutMs: 5_000 });
  console.log(`takeover after release: ${Date.now() - releasedAt} ms (lease ${timings.leaseDurationMs} ms)`);
  assert.equal(leadership.overlaps, 0);
});

test('a leader that cannot renew within the renew deadline stops leading', async () => {
  const lease = uniqueName('lease');
  const leadership = new Leadership();
  const a = leadership.elector(lease, 'replica-a', SHORT);
  a.start();
  await pollUntil('replica-a leads', () => leadership.leader() === 'replica-a', { timeoutMs: 10_000 });
  // Someone else writes the Lease under replica-a's feet: its renewals now fail (409, then "held by another").
  const current = await kubeClients().coordination.readNamespacedLease({ namespace, name: lease });
  await kubeClients().coordination.replaceNamespacedLease({
    namespace,
    name: lease,
    body: { ...current, spec: { ...current.spec, holderIdentity: 'intruder', leaseDurationSeconds: 600 } },
  });
  await pollUntil('replica-a to step down', () => leadership.current.size === 0, {
    timeoutMs: SHORT.renewDeadlineMs + 3_000,
  });
  assert.equal(a.isLeader(), false);
});
