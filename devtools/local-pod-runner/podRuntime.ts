// One pod's life on this node: init containers one after another, then every
// container as a local process, restarted per the pod's restartPolicy, with each
// change reported as pod status. Ends when the containers are done for good, or
// when terminate() stops them (pod deleted, pod gone, runner shutting down).
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { wholeSecondTime } from '../../adapters/kube/index.ts';
import type { ContainerRecord, ContainerState, TerminatedState } from './containerRecords.ts';
import { hasRun, isSucceeded, processContainerID, recoverContainerRecords } from './containerRecords.ts';
import type { PodFieldValues } from './envResolver.ts';
import { expandCommandLine, referencedEnvSources, resolveContainerEnv } from './envResolver.ts';
import type { ImageMap } from './imageMap.ts';
import { containerLaunch } from './imageMap.ts';
import type { PodApi } from './podApi.ts';
import { containerLogPath, podSandboxDir, processRecordPath, serviceAccountDir } from './podFiles.ts';
import type { PreviousCondition } from './podStatus.ts';
import { computePodStatus } from './podStatus.ts';
import type { SupervisedProcess } from './processSupervisor.ts';
import {
  ProcessStartError,
  processStartTicks,
  removeProcessRecord,
  startProcess,
  writeProcessRecord,
} from './processSupervisor.ts';
import type { RestartPolicy } from './restartPolicy.ts';
import {
  RESTART_BACKOFF_RESET_AFTER_MS,
  restartDelayMs,
  restartPolicyOf,
  shouldRestart,
} from './restartPolicy.ts';
import type { ApiServerEndpoint } from './serviceAccountAccess.ts';
import { apiServerEnv, serviceAccountMount, serviceAccountNameOf } from './serviceAccountAccess.ts';
import { ServiceAccountTokenMount } from './serviceAccountTokenMount.ts';
import { StatusReporter } from './statusReporter.ts';

export interface PodRuntimeDeps {
  nodeName: string;
  /** Pod IP and host IP. */
  ip: string;
  podsDir: string;
  processesDir: string;
  /** PATH of every child process unless the pod sets its own. */
  childPath: string;
  imageMap: ImageMap;
  /** What every pod is told about the API server (address, CA). */
  apiServer: ApiServerEndpoint;
  api: PodApi;
  log: Logger;
  now: () => Date;
}

export interface TerminateOptions {
  graceSeconds: number;
  /** The pod is being deleted: report a terminal phase; nothing restarts. */
  podIsTerminal: boolean;
  /** Write the final status (not when the pod is already gone). */
  report: boolean;
}

/** Exit code of a container that could not be started (what container runtimes report). */
const START_FAILURE_EXIT_CODE = 128;

export class PodRuntime {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** spec.terminationGracePeriodSeconds: the grace period a runner shutdown gives this pod. */
  readonly graceSeconds: number;
  private readonly pod: V1Pod;
  private readonly deps: PodRuntimeDeps;
  private readonly log: Logger;
  private readonly restartPolicy: RestartPolicy;
  private readonly initRecords: ContainerRecord[];
  private readonly records: ContainerRecord[];
  private readonly processes = new Map<string, SupervisedProcess>();
  private readonly reporter: StatusReporter;
  private readonly wake = new AbortController();
  private readonly startTime: string;
  private previousConditions: PreviousCondition[];
  private lastSentStatus = '';
  private stopping = false;
  private podIsTerminal = false;
  private stopGraceMs = 0;
  private running: Promise<void> | undefined;
  private termination: Promise<void> | undefined;
  /** What the kubelet adds to every container's env; set once the ServiceAccount is mounted. */
  private kubeletEnv: ReadonlyMap<string, string> = new Map();
  private tokenMount: ServiceAccountTokenMount | undefined;

  constructor(pod: V1Pod, deps: PodRuntimeDeps) {
    this.pod = pod;
    this.deps = deps;
    this.uid = pod.metadata?.uid ?? '';
    this.namespace = pod.metadata?.namespace ?? '';
    this.name = pod.metadata?.name ?? '';
    this.graceSeconds = pod.spec?.terminationGracePeriodSeconds ?? 30;
    this.log = deps.log.child({ namespace: this.namespace, pod: this.name });
    this.restartPolicy = restartPolicyOf(pod.spec?.restartPolicy);
    const now = wholeSecondTime(deps.now());
    const initContainers = pod.spec?.initContainers ?? [];
    this.initRecords = recoverContainerRecords(
      initContainers,
      pod.status?.initContainerStatuses,
      'ContainerCreating',
      now,
    );
    const mainWaitingReason = this.initRecords.every(isSucceeded) ? 'ContainerCreating' : 'PodInitializing';
    this.records = recoverContainerRecords(
      pod.spec?.containers ?? [],
      pod.status?.containerStatuses,
      mainWaitingReason,
      now,
    );
    this.startTime = pod.status?.startTime ? wholeSecondTime(pod.status.startTime) : now;
    this.previousConditions = (pod.status?.conditions ?? []).map((condition) => ({
      type: condition.type,
      status: condition.status,
      ...(condition.lastTransitionTime
        ? { lastTransitionTime: wholeSecondTime(condition.lastTransitionTime) }
        : {}),
    }));
    this.reporter = new StatusReporter(() => this.sendStatus(), this.log);
  }

  /** Starts the pod's containers in the background. */
  start(): void {
    this.running ??= this.run().catch((error: unknown) =>
      this.log.error({ err: error }, 'pod runtime failed'),
    );
  }

  /** Stops every process (SIGTERM, SIGKILL after the grace period) and writes the final status. Idempotent. */
  terminate(options: TerminateOptions): Promise<void> {
    this.termination ??= this.stopAll(options);
    return this.termination;
  }

  private async stopAll(options: TerminateOptions): Promise<void> {
    this.stopping = true;
    this.podIsTerminal = options.podIsTerminal;
    this.stopGraceMs = Math.max(0, options.graceSeconds) * 1000;
    this.wake.abort();
    this.log.info({ graceSeconds: options.graceSeconds, processes: this.processes.size }, 'stopping pod');
    await Promise.all([...this.processes.values()].map((child) => child.stop(this.stopGraceMs)));
    await this.running;
    if (options.podIsTerminal) {
      this.markUnstartedAsUnknown();
      // The token dies with the pod anyway (it is bound to it); its files go as a kubelet's volume goes.
      this.unmountToken();
    }
    if (options.report) {
      this.reporter.schedule();
      await this.reporter.flush();
    }
  }

  private async run(): Promise<void> {
    mkdirSync(podSandboxDir(this.deps.podsDir, this.namespace, this.name), { recursive: true });
    this.reporter.schedule();
    try {
      if (!(await this.mountServiceAccount()) || !(await this.runInitContainers())) {
        this.reporter.schedule();
        return;
      }
      await Promise.all(
        this.records.map((record) => this.superviseContainer(record, this.containerSpec(record, false))),
      );
      this.reporter.schedule();
    } finally {
      // No container runs again: the token needs no refresh.
      this.tokenMount?.stop();
    }
  }

  /**
   * What a kubelet sets up before any container starts: the ServiceAccount's token, CA and
   * namespace as files (unless automount is off) and the API server's address in the env.
   * While the ServiceAccount is missing or no token can be had, the containers wait and
   * status says why. False when the pod is stopped meanwhile.
   */
  private async mountServiceAccount(): Promise<boolean> {
    const serviceAccountName = serviceAccountNameOf(this.pod.spec);
    const statesBefore = [...this.initRecords, ...this.records].map((record) => record.state);
    for (let attempt = 1; !this.stopping; attempt++) {
      let message: string;
      try {
        const serviceAccount = await this.deps.api.readServiceAccount(this.namespace, serviceAccountName);
        const mount = serviceAccountMount(
          {
            namespace: this.namespace,
            serviceAccountName,
            automountServiceAccountToken: this.pod.spec?.automountServiceAccountToken,
          },
          serviceAccount,
        );
        if (mount.kind !== 'missing') {
          let dir: string | undefined;
          if (mount.kind === 'token') dir = await this.mountToken(serviceAccountName);
          // Automount may have been turned off on the ServiceAccount since an earlier life of this runner.
          else this.unmountToken();
          this.kubeletEnv = apiServerEnv(this.deps.apiServer, dir);
          this.restoreStates(statesBefore);
          return !this.stopping;
        }
        message = mount.message;
      } catch (error) {
        message = `could not get a token for serviceaccount "${serviceAccountName}": ${(error as Error).message}`;
      }
      this.log.warn({ serviceAccount: serviceAccountName, attempt }, message);
      this.markWaiting('CreateContainerConfigError', message);
      this.reporter.schedule();
      await this.pause(restartDelayMs(attempt));
    }
    return false;
  }

  /** Writes the token files and keeps the token fresh; the folder they are in. */
  private async mountToken(serviceAccountName: string): Promise<string> {
    const dir = serviceAccountDir(this.deps.podsDir, this.namespace, this.name);
    const mount = new ServiceAccountTokenMount(
      { namespace: this.namespace, podName: this.name, podUid: this.uid, serviceAccountName, dir },
      { api: this.deps.api, caPem: this.deps.apiServer.caPem, log: this.log, now: this.deps.now },
    );
    await mount.mount();
    this.tokenMount = mount;
    return dir;
  }

  private unmountToken(): void {
    rmSync(serviceAccountDir(this.deps.podsDir, this.namespace, this.name), { recursive: true, force: true });
  }

  /** Every container that has not started yet waits for the same reason. */
  private markWaiting(reason: string, message: string): void {
    for (const record of [...this.initRecords, ...this.records]) {
      if (record.state.kind === 'waiting') record.state = { kind: 'waiting', reason, message };
    }
  }

  private restoreStates(states: readonly ContainerState[]): void {
    [...this.initRecords, ...this.records].forEach((record, index) => {
      record.state = states[index]!;
    });
  }

  /** Runs init containers in order; false when the pod cannot get past them (failed, or stopping). */
  private async runInitContainers(): Promise<boolean> {
    for (const record of this.initRecords) {
      const spec = this.containerSpec(record, true);
      let consecutiveFailures = 0;
      while (!isSucceeded(record)) {
        if (this.stopping) return false;
        if (record.state.kind === 'terminated') {
          if (this.restartPolicy === 'Never') return false;
          consecutiveFailures++;
          await this.backOff(record, consecutiveFailures);
          if (this.stopping) return false;
        }
        await this.runOnce(record, spec);
      }
    }
    for (const record of this.records) {
      if (record.state.kind === 'waiting' && record.state.reason === 'PodInitializing') {
        record.state = { kind: 'waiting', reason: 'ContainerCreating' };
      }
    }
    return !this.stopping;
  }

  /** Runs a container until its restart policy says it is done. */
  private async superviseContainer(record: ContainerRecord, spec: V1Container): Promise<void> {
    let consecutiveRestarts = 0;
    while (!this.stopping) {
      if (record.state.kind === 'terminated') {
        if (!shouldRestart(this.restartPolicy, record.state.exitCode)) return;
        if (ranLongerThan(record.state, RESTART_BACKOFF_RESET_AFTER_MS)) consecutiveRestarts = 0;
        consecutiveRestarts++;
        await this.backOff(record, consecutiveRestarts);
        if (this.stopping) return;
      }
      await this.runOnce(record, spec);
    }
  }

  private async backOff(record: ContainerRecord, consecutive: number): Promise<void> {
    const delayMs = restartDelayMs(consecutive);
    if (record.state.kind === 'terminated') record.lastState = record.state;
    record.state = {
      kind: 'waiting',
      reason: 'CrashLoopBackOff',
      message: `back-off ${Math.round(delayMs / 1000)}s restarting failed container=${record.name} pod=${this.name}`,
    };
    this.reporter.schedule();
    await this.pause(delayMs);
  }

  /** Starts the container's process once and waits for it to end. */
  private async runOnce(record: ContainerRecord, spec: V1Container): Promise<void> {
    const log = this.log.child({ container: record.name });
    const restarting = hasRun(record);
    if (record.state.kind === 'terminated') record.lastState = record.state;

    const launch = containerLaunch(this.deps.imageMap, spec);
    if (!launch.ok) {
      log.warn({ reason: launch.reason }, launch.message);
      this.recordStartFailure(record, restarting, launch.reason, launch.message);
      return;
    }
    const env = await this.resolveEnv(record, spec);
    if (!env || this.stopping) return;
    const missing = launch.requiredFiles.find((file) => !existsSync(file));
    if (missing) {
      const message = `image ${spec.image} maps to ${missing}, which does not exist in this checkout`;
      log.warn(message);
      this.recordStartFailure(record, restarting, 'StartError', message);
      return;
    }

    const sandbox = podSandboxDir(this.deps.podsDir, this.namespace, this.name);
    const workingDir = spec.workingDir ?? launch.workingDir;
    const cwd = workingDir && isDirectory(workingDir) ? workingDir : sandbox;
    if (workingDir && cwd !== workingDir)
      log.warn({ workingDir, cwd }, 'workingDir does not exist here; using the pod sandbox');
    const childEnv = {
      PATH: this.deps.childPath,
      HOME: sandbox,
      HOSTNAME: this.pod.spec?.hostname ?? this.name.slice(0, 63),
      ...launch.imageEnv,
      ...Object.fromEntries(env),
    };
    const argv = expandCommandLine(launch.argv, env);

    let child: SupervisedProcess;
    try {
      child = await startProcess({
        argv,
        env: childEnv,
        cwd,
        logFile: containerLogPath(this.deps.podsDir, this.namespace, this.name, record.name),
        truncateLog: !restarting,
      });
    } catch (error) {
      if (!(error instanceof ProcessStartError)) throw error;
      log.warn({ argv }, error.message);
      this.recordStartFailure(record, restarting, 'StartError', error.message);
      return;
    }

    const startedAt = wholeSecondTime(this.deps.now());
    const recordFile = processRecordPath(this.deps.processesDir, this.namespace, this.name, record.name);
    writeProcessRecord(recordFile, {
      pid: child.pid,
      startTicks: processStartTicks(child.pid) ?? -1,
      podUid: this.uid,
      namespace: this.namespace,
      pod: this.name,
      container: record.name,
    });
    this.processes.set(record.name, child);
    if (restarting) record.restartCount++;
    record.state = { kind: 'running', startedAt };
    record.containerID = processContainerID(child.pid);
    log.info({ pid: child.pid, argv0: argv[0], restartCount: record.restartCount }, 'container started');
    this.reporter.schedule();
    // terminate() may have begun while the process was starting; it stops what it saw then.
    if (this.stopping) void child.stop(this.stopGraceMs);

    const exit = await child.exited;
    this.processes.delete(record.name);
    removeProcessRecord(recordFile);
    record.state = {
      kind: 'terminated',
      exitCode: exit.exitCode,
      reason: exit.exitCode === 0 ? 'Completed' : 'Error',
      ...(exit.signal ? { signal: exit.signal } : {}),
      startedAt,
      finishedAt: wholeSecondTime(this.deps.now()),
    };
    log.info({ pid: child.pid, exitCode: exit.exitCode, signal: exit.signal }, 'container exited');
    this.reporter.schedule();
  }

  /** The container's environment; while a Secret or ConfigMap it needs is missing, waits and tries again. */
  private async resolveEnv(
    record: ContainerRecord,
    spec: V1Container,
  ): Promise<Map<string, string> | undefined> {
    const fields: PodFieldValues = {
      name: this.name,
      namespace: this.namespace,
      uid: this.uid,
      labels: this.pod.metadata?.labels ?? {},
      annotations: this.pod.metadata?.annotations ?? {},
      nodeName: this.deps.nodeName,
      serviceAccountName: this.pod.spec?.serviceAccountName ?? '',
      hostIP: this.deps.ip,
      podIP: this.deps.ip,
    };
    for (let attempt = 1; !this.stopping; attempt++) {
      let message: string;
      try {
        const sources = await this.deps.api.readEnvSources(this.namespace, referencedEnvSources(spec));
        const resolved = resolveContainerEnv(spec, fields, sources, this.kubeletEnv);
        if (resolved.ok) return resolved.env;
        message = resolved.message;
      } catch (error) {
        message = `could not read the container's Secrets and ConfigMaps: ${(error as Error).message}`;
      }
      this.log.warn({ container: record.name, attempt }, message);
      record.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message };
      this.reporter.schedule();
      await this.pause(restartDelayMs(attempt));
    }
    return undefined;
  }

  private recordStartFailure(
    record: ContainerRecord,
    restarting: boolean,
    reason: string,
    message: string,
  ): void {
    if (restarting) record.restartCount++;
    const now = wholeSecondTime(this.deps.now());
    record.state = {
      kind: 'terminated',
      exitCode: START_FAILURE_EXIT_CODE,
      reason,
      message,
      finishedAt: now,
    };
    this.reporter.schedule();
  }

  /**
   * On deletion nothing starts again: a container waiting to restart ends with its
   * last outcome, and one that never ran is reported as the kubelet reports it.
   */
  private markUnstartedAsUnknown(): void {
    const finishedAt = wholeSecondTime(this.deps.now());
    for (const record of [...this.initRecords, ...this.records]) {
      if (record.state.kind !== 'waiting') continue;
      if (record.lastState) {
        record.state = record.lastState;
        delete record.lastState;
      } else {
        record.state = {
          kind: 'terminated',
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: 'The container could not be located when the pod was terminated',
          finishedAt,
        };
      }
    }
  }

  private async sendStatus(): Promise<'sent' | 'gone'> {
    const status = computePodStatus({
      restartPolicy: this.restartPolicy,
      initContainers: this.initRecords,
      containers: this.records,
      readinessGates: (this.pod.spec?.readinessGates ?? []).map((gate) => gate.conditionType),
      previousConditions: this.previousConditions,
      ip: this.deps.ip,
      startTime: this.startTime,
      podIsTerminal: this.podIsTerminal,
      now: wholeSecondTime(this.deps.now()),
    });
    const serialized = JSON.stringify(status);
    if (serialized === this.lastSentStatus) return 'sent';
    const result = await this.deps.api.patchPodStatus(this.namespace, this.name, this.uid, status);
    this.lastSentStatus = serialized;
    this.previousConditions = status.conditions;
    this.log.debug({ phase: status.phase }, 'pod status written');
    return result;
  }

  private containerSpec(record: ContainerRecord, init: boolean): V1Container {
    const list = (init ? this.pod.spec?.initContainers : this.pod.spec?.containers) ?? [];
    return list.find((container) => container.name === record.name)!;
  }

  /** Sleeps, but wakes at once when the pod is being stopped. */
  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.wake.signal });
    } catch {
      // woken by terminate()
    }
  }
}

function ranLongerThan(state: TerminatedState, ms: number): boolean {
  if (!state.startedAt) return false;
  return Date.parse(state.finishedAt) - Date.parse(state.startedAt) >= ms;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
