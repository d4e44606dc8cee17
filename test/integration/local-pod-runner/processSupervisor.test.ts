// The runner's process handling with real processes (no stack needed): exit codes,
// logs, a minimal environment, graceful and forced stops of whole process groups,
// and the clean-up of processes a killed runner left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import {
  ProcessStartError,
  processStartTicks,
  startProcess,
  stopRecordedProcesses,
  writeProcessRecord,
} from '../../../devtools/local-pod-runner/processSupervisor.ts';
import { isProcessAlive, pollUntil } from '../../support/kube.ts';

const PATH = '/usr/bin:/bin';
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'process-supervisor-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function shell(script: string, logName: string, truncateLog = true, env: Record<string, string> = {}) {
  return startProcess({
    argv: ['sh', '-c', script],
    env: { PATH, ...env },
    cwd: dir,
    logFile: join(dir, logName),
    truncateLog,
  });
}

test('the exit code and both output streams are kept; a restart appends to the log', async () => {
  const first = await shell('echo out; echo err >&2; exit 7', 'codes.log');
  assert.deepEqual(await first.exited, { exitCode: 7 });
  const second = await shell('echo again', 'codes.log', false);
  assert.deepEqual(await second.exited, { exitCode: 0 });
  assert.equal(readFileSync(join(dir, 'codes.log'), 'utf8'), 'out\nerr\nagain\n');
  const fresh = await shell('echo fresh', 'codes.log', true);
  await fresh.exited;
  assert.equal(readFileSync(join(dir, 'codes.log'), 'utf8'), 'fresh\n');
});

test('the child sees exactly the environment it is given and runs in its own process group', async () => {
  const child = await shell('env | sort; ps -o pgid= -p $$', 'env.log', true, { GREETING: 'hello' });
  await child.exited;
  const lines = readFileSync(join(dir, 'env.log'), 'utf8').trim().split('\n');
  assert.deepEqual(lines.slice(0, -1), ['GREETING=hello', `PATH=${PATH}`, `PWD=${dir}`]);
  assert.equal(Number(lines.at(-1)), child.pid);
});

test('stop sends SIGTERM to the group; a TERM trap exits cleanly', async () => {
  const child = await shell(
    'trap "echo trapped; exit 0" TERM; echo ready; while true; do sleep 0.1; done',
    'term.log',
  );
  await pollUntil('the trap to be installed', () =>
    readFileSync(join(dir, 'term.log'), 'utf8').includes('ready'),
  );
  assert.deepEqual(await child.stop(5_000), { exitCode: 0 });
  assert.match(readFileSync(join(dir, 'term.log'), 'utf8'), /trapped/);
  assert.deepEqual(await child.stop(5_000), { exitCode: 0 }, 'stopping again returns the same exit');
});

test('a process that ignores SIGTERM is killed after the grace period (exit 137)', async () => {
  const child = await shell('trap "" TERM; echo ready; while true; do sleep 0.1; done', 'stubborn.log');
  await pollUntil('the trap to be installed', () =>
    readFileSync(join(dir, 'stubborn.log'), 'utf8').includes('ready'),
  );
  assert.deepEqual(await child.stop(300), { exitCode: 137, signal: 9 });
});

test('whatever the command left in its process group dies with it', async () => {
  const child = await shell('sleep 60 & echo $! > grandchild.pid; exit 0', 'group.log');
  assert.deepEqual(await child.exited, { exitCode: 0 });
  const grandchild = Number(readFileSync(join(dir, 'grandchild.pid'), 'utf8'));
  await pollUntil(`grandchild ${grandchild} to be gone`, () => !isProcessAlive(grandchild), {
    timeoutMs: 5_000,
  });
});

test('a program that does not exist cannot start', async () => {
  await assert.rejects(
    startProcess({
      argv: ['no-such-program-here'],
      env: { PATH },
      cwd: dir,
      logFile: join(dir, 'missing.log'),
      truncateLog: true,
    }),
    (error: unknown) => {
      assert.ok(error instanceof ProcessStartError);
      assert.equal(error.message, 'exec: "no-such-program-here": executable file not found in $PATH');
      return true;
    },
  );
});

test('processes recorded by an earlier runner are stopped; a record of a reused pid is ignored', async () => {
  const recordsDir = join(dir, 'records');
  const leftover = spawn(
    'sh',
    ['-c', `trap "touch ${dir}/leftover.term; exit 0" TERM; while true; do sleep 0.1; done`],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  try {
    const base = { podUid: 'u', namespace: 'ns', pod: 'p' };
    const ticks = await pollUntil('the leftover to start', () => processStartTicks(leftover.pid!));
    writeProcessRecord(join(recordsDir, 'ns_p_left.json'), {
      ...base,
      container: 'left',
      pid: leftover.pid!,
      startTicks: ticks,
    });
    // Same pid number, different start time: not the process the record meant.
    writeProcessRecord(join(recordsDir, 'ns_p_other.json'), {
      ...base,
      container: 'other',
      pid: bystander.pid!,
      startTicks: (processStartTicks(bystander.pid!) ?? 0) - 1,
    });

    const stopped = await stopRecordedProcesses(recordsDir, 5_000, pino({ level: 'silent' }));
    assert.deepEqual(
      stopped.map((record) => record.container),
      ['left'],
    );
    await pollUntil('the leftover to exit', () => leftover.exitCode !== null || leftover.signalCode !== null);
    assert.equal(leftover.exitCode, 0);
    assert.ok(existsSync(join(dir, 'leftover.term')));
    assert.equal(isProcessAlive(bystander.pid!), true);
    assert.deepEqual(
      await stopRecordedProcesses(recordsDir, 5_000, pino({ level: 'silent' })),
      [],
      'records are removed',
    );
  } finally {
    bystander.kill('SIGKILL');
    leftover.kill('SIGKILL');
  }
});
